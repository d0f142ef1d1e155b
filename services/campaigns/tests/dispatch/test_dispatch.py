"""The dispatch policy end to end in PostgreSQL: each outcome with its reason, send requests only for what may go,
held messages released through the policy again, caps across campaigns and journeys, tenant isolation."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dispatch_helpers import NO_RULES, Dispatch, request, snapshot, zone  # type: ignore[import-not-found]
from sqlalchemy import text

from fairway_campaigns.dispatch import policy
from fairway_campaigns.dispatch.policy import Cap, DispatchSettings, QuietHours
from fairway_events.contracts.dispatch import DispatchContent
from fairway_events.contracts.identity import Consent, ProfileConsentChanged, ProfileErased

CLUB = "stonehaven"


async def test_each_gate_records_its_reason_and_only_the_reachable_are_requested(dispatch: Dispatch) -> None:
    await dispatch.configure(CLUB, NO_RULES)
    await dispatch.events(CLUB, snapshot("p-001"), snapshot("p-002", email=False), snapshot("p-003", email_opt=False),
                          snapshot("p-004", status="INACTIVE"), snapshot("p-005"), snapshot("p-006", ai=False),
                          snapshot("p-007", ai=True), ProfileErased(profileId="p-005", erasedAt=dispatch.clock.now()))
    ai = DispatchContent(body="Ailsa, your handicap fell to 11.2: book a lesson to keep it going.",
                         aiPersonalised=True)
    got = await dispatch.submit(CLUB, request("p-001"), request("p-002"), request("p-003"), request("p-004"),
                                request("p-005"), request("p-006", content=ai), request("p-007", content=ai),
                                request("p-404"))
    assert [(r.outcome, r.reason) for r in got] == [
        ("REQUESTED", None), ("SUPPRESSED", "no email address"), ("NO_CONSENT", "no EMAIL opt-in"),
        ("SUPPRESSED", "profile INACTIVE"), ("SUPPRESSED", "profile erased"),
        ("NO_CONSENT", "no aiMarketingConsent for AI-personalised content"), ("REQUESTED", None),
        ("SUPPRESSED", "unknown profile"),
    ]
    sent = await dispatch.outbox("messaging.send.requested")
    assert [(s["key"], s["recipient"]["profileId"]) for s in sent] == sorted(
        [(got[0].request_id, "p-001"), (got[6].request_id, "p-007")])
    assert all(s["key"] == s["requestId"] for s in sent)  # Messaging de-duplicates on the Kafka key
    first = next(s for s in sent if s["recipient"]["profileId"] == "p-001")
    assert first["recipient"]["email"] == "p-001@stonehavengolf.co.uk" and first["campaignId"] == "camp-autumn"
    # The same request again (a retry, a replay): its recorded outcome, and nothing new on the way to Messaging.
    again = await dispatch.submit(CLUB, request("p-001"), request("p-003"))
    assert [(r.outcome, r.reason) for r in again] == [("REQUESTED", None), ("NO_CONSENT", "no EMAIL opt-in")]
    assert len(await dispatch.outbox("messaging.send.requested")) == 2


async def test_consent_revoked_after_scheduling_is_honoured_at_send_time(dispatch: Dispatch) -> None:
    await dispatch.configure(CLUB, NO_RULES)
    await dispatch.events(CLUB, snapshot("p-010"), snapshot("p-011"))
    at = dispatch.clock.now() + timedelta(hours=3)
    got = await dispatch.submit(CLUB, request("p-010", not_before=at), request("p-011", not_before=at))
    assert [r.outcome for r in got] == ["HELD", "HELD"]
    assert [(t, a) for t, a, _ in await dispatch.jobs()] == [("dispatch.release", at)]  # one job for the moment
    await dispatch.events(CLUB, ProfileConsentChanged(profileId="p-011", consent=Consent(emailOptIn=False),
                                                      changed=["emailOptIn"], changedAt=dispatch.clock.now()))
    dispatch.clock.advance(hours=1)
    assert await dispatch.release(CLUB) == 0  # not yet
    dispatch.clock.set(at)
    assert await dispatch.release(CLUB) == 2
    ledger = await dispatch.ledger(CLUB)
    assert ledger[got[0].request_id] == ("REQUESTED", None)
    assert ledger[got[1].request_id] == ("NO_CONSENT", "no EMAIL opt-in")
    assert [s["recipient"]["profileId"] for s in await dispatch.outbox("messaging.send.requested")] == ["p-010"]


async def test_a_frequency_cap_is_shared_by_a_campaign_and_a_journey(dispatch: Dispatch) -> None:
    await dispatch.configure(CLUB, DispatchSettings(quietHours={}, caps={"EMAIL": Cap(perDay=1, perWeek=3)},
                                                    controlGroupShare=0))
    await dispatch.events(CLUB, snapshot("p-020"), zone("p-020", "Europe/London"))
    campaign = await dispatch.submit(CLUB, request("p-020", source="camp-open-day"))
    assert campaign[0].outcome == "REQUESTED"
    welcome = request("p-020", kind="JOURNEY", source="journey-welcome", run="run-1", step="s2")
    receipt = request("p-020", kind="JOURNEY", source="journey-booking", run="run-9", step="s1", transactional=True,
                      content=DispatchContent(templateId="booking-confirmation"))
    await dispatch.via_topic(CLUB, welcome, receipt)
    ledger = await dispatch.ledger(CLUB)
    assert ledger[welcome.requestId] == ("CAPPED", "EMAIL cap of 1 a day")
    assert ledger[receipt.requestId] == ("REQUESTED", None)  # transactional: exempt from caps
    outcomes = {o["requestId"]: o for o in await dispatch.outbox("dispatch.outcome")}
    assert outcomes.keys() == {welcome.requestId, receipt.requestId}  # the journey hears back; campaigns read it
    assert outcomes[welcome.requestId]["outcome"] == "CAPPED" and outcomes[welcome.requestId]["key"] == "p-020"
    # The next local day (London) the cap has room again; the week's does until three.
    dispatch.clock.advance(days=1)
    later = request("p-020", kind="JOURNEY", source="journey-welcome", run="run-1", step="s3")
    await dispatch.via_topic(CLUB, later)
    assert (await dispatch.ledger(CLUB))[later.requestId] == ("REQUESTED", None)


async def test_quiet_hours_hold_until_the_local_morning_across_a_dst_change(dispatch: Dispatch) -> None:
    night = QuietHours(start=time(21), end=time(8))
    await dispatch.configure(CLUB, DispatchSettings(quietHours={"EMAIL": night, "SMS": night}, caps={},
                                                    controlGroupShare=0))
    await dispatch.events(CLUB, snapshot("p-030"), zone("p-030", "Europe/London"), snapshot("p-031"))  # p-031: club default
    dispatch.clock.set(datetime(2026, 3, 28, 22, 0, tzinfo=UTC))  # 22:00 GMT; 00:00 SAST
    got = await dispatch.submit(CLUB, request("p-030"), request("p-031"),
                                request("p-030", kind="JOURNEY", source="journey-pw", run="r", step="reset",
                                        transactional=True, content=DispatchContent(templateId="password-reset")))
    assert [(r.outcome, r.reason) for r in got] == [
        ("HELD", "quiet hours until 2026-03-29 08:00 Europe/London"),
        ("HELD", "quiet hours until 2026-03-29 08:00 Africa/Johannesburg"),
        ("REQUESTED", None),  # transactional: never held
    ]
    jobs = [(t, a) for t, a, _ in await dispatch.jobs()]
    assert jobs == [("dispatch.release", datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),  # 08:00 SAST
                    ("dispatch.release", datetime(2026, 3, 29, 7, 0, tzinfo=UTC))]  # 08:00 BST, not 08:00 UTC
    dispatch.clock.set(datetime(2026, 3, 29, 6, 0, tzinfo=UTC))
    assert await dispatch.release(CLUB) == 1
    dispatch.clock.set(datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    assert await dispatch.release(CLUB) == 1
    ledger = await dispatch.ledger(CLUB)
    assert ledger[got[0].request_id] == ledger[got[1].request_id] == ("REQUESTED", None)
    assert len(await dispatch.outbox("messaging.send.requested")) == 3


async def test_a_stale_schedule_expires_instead_of_sending(dispatch: Dispatch) -> None:
    await dispatch.configure(CLUB, NO_RULES)
    await dispatch.events(CLUB, snapshot("p-040"), snapshot("p-041"))
    now = dispatch.clock.now()
    # This morning's campaign, submitted seven hours late (a platform back from an outage): expired.
    got = await dispatch.submit(CLUB, request("p-040", not_before=now - timedelta(hours=7)),
                                request("p-041", not_before=now - timedelta(hours=5)))
    assert got[0].outcome == "EXPIRED" and got[0].reason.startswith("more than 6 h past its time")
    assert got[1].outcome == "REQUESTED"
    # A held message whose release comes more than the maximum lateness after its time: expired too.
    held = await dispatch.submit(CLUB, request("p-040", source="camp-later", not_before=now + timedelta(hours=1)))
    assert held[0].outcome == "HELD"
    dispatch.clock.advance(hours=8)
    await dispatch.release(CLUB)
    assert (await dispatch.ledger(CLUB))[held[0].request_id][0] == "EXPIRED"
    assert [s["recipient"]["profileId"] for s in await dispatch.outbox("messaging.send.requested")] == ["p-041"]


async def test_the_control_group_is_stable_and_never_gets_marketing(dispatch: Dispatch) -> None:
    await dispatch.configure(CLUB, DispatchSettings(quietHours={}, caps={}, controlGroupShare=0.2))
    ids = [f"p-{i:03d}" for i in range(200)]
    await dispatch.events(CLUB, *(snapshot(p) for p in ids))
    expected = {p for p in ids if policy.control_bucket(CLUB, p) < 0.2}
    assert 20 < len(expected) < 60
    for campaign in ("camp-june", "camp-july"):
        got = await dispatch.submit(CLUB, *(request(p, source=campaign) for p in ids))
        assert {p for p, r in zip(ids, got, strict=True) if r.outcome == "CONTROL_GROUP"} == expected
    receipt = request(sorted(expected)[0], kind="JOURNEY", source="journey-booking", transactional=True,
                      content=DispatchContent(templateId="booking-confirmation"))
    assert (await dispatch.submit(CLUB, receipt))[0].outcome == "REQUESTED"  # transactional is not marketing


async def test_best_time_uses_the_profile_or_the_clubs_pooled_prior(dispatch: Dispatch) -> None:
    from fairway_events.contracts.scoring import SendTimeProfileUpdated

    await dispatch.configure(CLUB, NO_RULES)
    evening = [0.01] * 24
    evening[19] = 0.8
    await dispatch.events(CLUB, snapshot("p-050"), snapshot("p-051"), snapshot("p-052"), source="identity")
    await dispatch.events(CLUB, *(SendTimeProfileUpdated(
        profileId=p, hourlyOpenProbability=evening, timezone="Africa/Johannesburg", confidence=c, sampleSize=n,
        updatedAt=dispatch.clock.now()) for p, c, n in (("p-050", 0.8, 40), ("p-051", 0.1, 1))), source="ml-scoring")
    start = dispatch.clock.now()  # 11:00 SAST
    got = await dispatch.submit(CLUB, *(request(p, window=(start, start + timedelta(hours=12)))
                                        for p in ("p-050", "p-051", "p-052")))
    assert [(r.outcome, r.reason) for r in got] == [
        ("HELD", "best time until 2026-06-02 19:00 Africa/Johannesburg"),
        # Too little data of their own (0.1 < 0.3) or none: the club's pooled prior (here: p-050's evenings).
        ("HELD", "best time (prior) until 2026-06-02 19:00 Africa/Johannesburg"),
        ("HELD", "best time (prior) until 2026-06-02 19:00 Africa/Johannesburg"),
    ]


async def test_tenants_never_see_each_others_people_or_settings(dispatch: Dispatch) -> None:
    await dispatch.configure(CLUB, NO_RULES)
    await dispatch.events(CLUB, snapshot("p-060"))
    other = "fairwaygolf"
    got = await dispatch.submit(other, request("p-060", source="camp-fairway"))
    assert (got[0].outcome, got[0].reason) == ("SUPPRESSED", "unknown profile")
    assert await dispatch.outbox("messaging.send.requested", other) == []
    async with dispatch.sessions() as session:
        assert (await dispatch.service.settings(session, other)).controlGroupShare == 0.05  # the defaults
        assert (await dispatch.service.settings(session, CLUB)).controlGroupShare == 0
    # Cancelling one tenant's campaign leaves another's held messages alone.
    await dispatch.events(other, snapshot("p-060"))
    later = dispatch.clock.now() + timedelta(hours=2)
    await dispatch.configure(other, NO_RULES)
    mine = await dispatch.submit(CLUB, request("p-060", source="camp-x", not_before=later))
    theirs = await dispatch.submit(other, request("p-060", source="camp-x-fw", not_before=later))
    async with dispatch.sessions() as session:
        assert await dispatch.service.cancel_source(session, other, "CAMPAIGN", "camp-x", dispatch.clock.now()) == 0
        assert await dispatch.service.cancel_source(session, CLUB, "CAMPAIGN", "camp-x", dispatch.clock.now()) == 1
        await session.commit()
    assert (await dispatch.ledger(CLUB))[mine[0].request_id][0] == "CANCELLED"
    assert (await dispatch.ledger(other))[theirs[0].request_id][0] == "HELD"


async def test_audience_read_model_follows_segments_merges_and_links(dispatch: Dispatch) -> None:
    from fairway_events.contracts.identity import ProfileIdentityLinked, ProfileMerged
    from fairway_events.contracts.segmentation import SegmentMemberEntered, SegmentMemberExited

    await dispatch.configure(CLUB, NO_RULES)
    at = dispatch.clock.now()
    await dispatch.events(CLUB, snapshot("p-070", email=False), snapshot("p-071"), snapshot("p-072"))
    await dispatch.events(CLUB, *(SegmentMemberEntered(segmentId=seg, segmentName=seg, profileId=p, at=at)
                                  for seg, p in (("seg-gold", "p-070"), ("seg-gold", "p-071"), ("seg-gold", "p-072"),
                                                 ("seg-lapsed", "p-072"))),
                          SegmentMemberExited(segmentId="seg-gold", segmentName="seg-gold", profileId="p-071", at=at),
                          source="segmentation")
    async with dispatch.sessions() as session:
        q = dispatch.service.audience(CLUB, "seg-gold", ["seg-lapsed"])
        assert sorted((await session.execute(q)).scalars()) == ["p-070"]
        assert (await session.execute(dispatch.service.audience("fairwaygolf", "seg-gold", []))).all() == []
    # An email linked later makes p-070 reachable; a merge makes the loser unreachable under its old id.
    winner = snapshot("p-071").profile
    await dispatch.events(CLUB, ProfileIdentityLinked(profileId="p-070", keyType="email",
                                                      value="ailsa@stonehavengolf.co.uk", confidence=100),
                          ProfileMerged(winnerId="p-071", loserId="p-072", winner=winner))
    got = await dispatch.submit(CLUB, request("p-070"), request("p-072"))
    assert [(r.outcome, r.reason) for r in got] == [("REQUESTED", None), ("SUPPRESSED", "profile MERGED")]
    sent = await dispatch.outbox("messaging.send.requested")
    assert sent[0]["recipient"]["email"] == "ailsa@stonehavengolf.co.uk"


async def test_a_template_message_carries_its_template_and_each_recipients_merge_data(dispatch: Dispatch) -> None:
    await dispatch.configure(CLUB, NO_RULES)
    await dispatch.events(CLUB, snapshot("p-050"), snapshot("p-051"))

    def reminder(first: str) -> DispatchContent:
        return DispatchContent(templateId="tee-reminder", templateData={"firstName": first, "teeTime": "07:40"})

    await dispatch.via_topic(CLUB, request("p-050", kind="JOURNEY", source="journey-tee", run="run-50", step="s1",
                                           content=reminder("Ailsa")),
                             request("p-051", kind="JOURNEY", source="journey-tee", run="run-51", step="s1",
                                     content=reminder("Callum")))
    sent = {s["recipient"]["profileId"]: s for s in await dispatch.outbox("messaging.send.requested")}
    assert {p: (s["templateId"], s["templateData"]["firstName"], s["body"]) for p, s in sent.items()} == {
        "p-050": ("tee-reminder", "Ailsa", None), "p-051": ("tee-reminder", "Callum", None)}
    async with dispatch.sessions() as session:  # written as the latest version of the contract
        versions = (await session.execute(text(
            "SELECT DISTINCT version FROM event_outbox WHERE event_type = 'messaging.send.requested'"))).scalars()
        assert list(versions) == [2]
