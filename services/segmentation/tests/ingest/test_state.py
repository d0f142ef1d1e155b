"""The read model bootstraps from the state topics alone (segmentation.state): profiles with their consent,
counters and scores; an erasure tombstone purges the person; merged snapshots retire the loser; snapshots older
than a live update the read model already applied, or read again, change nothing."""

from seg_helpers import NOW, Events, members_of, rule, sql, tenant_id

from fairway_chassis import ManualClock
from fairway_events import new_event_id
from fairway_segmentation.app import create_app
from fairway_testkit import auth_headers, run_service, wait_for

COLS = "email, first_name, email_opt_in, sms_opt_in, booking_count_30d, engagement_score, value_segment"


async def _row(svc, tenant: str, pid: str, cols: str = COLS) -> tuple | None:
    rows = await sql(svc, f"SELECT {cols} FROM profiles WHERE tenant_id = :t AND profile_id = :p", t=tenant, p=pid)
    return tuple(rows[0]) if rows else None


async def test_state_topics_alone_build_the_read_model(seg_settings, events: Events) -> None:
    club = tenant_id()
    async with run_service(create_app(seg_settings(), clock=ManualClock(NOW))) as svc:
        h = auth_headers(club, ["marketer"])
        gold = (await svc.http.post("/api/v1/segments", headers=h, json={
            "name": "Gold", "criteria": {"rules": [rule("membershipTier", "eq", "Gold")]}})).json()
        await events.send(
            events.profile_state(club, "ann", email="ann@club.example", firstName="Ann", membershipTier="Gold",
                                 consent={"emailOptIn": True, "smsOptIn": False}),
            events.counters_state(club, "ann", bookingCount30d=4),
            events.scores_state(club, "ann", engagement=71, segment="Loyal regulars"),
            events.profile_state(club, "bob", email="bob@club.example", membershipTier="Gold",
                                 consent={"emailOptIn": False}),
            events.profile_state(club, "eve", email="eve@club.example", membershipTier="Gold"),
            events.profile_state(club, "old", email="old@club.example", membershipTier="Gold"),
        )
        await events.send_tombstone(club, "crm.identity.state", "eve")  # identity erased her
        await events.send(events.profile_state(club, "old", merged_into="ann", status="MERGED",
                                               email="old@club.example"))
        await wait_for(lambda: _row(svc, club, "ann", "engagement_score"), what="ann's scores")
        await wait_for(lambda: _row(svc, club, "ann", "booking_count_30d"), what="ann's counters")
        await wait_for(lambda: _row(svc, club, "bob"), what="bob")
        await wait_for(lambda: _tombstoned(svc, club, "eve"), what="eve erased")
        await wait_for(lambda: _tombstoned(svc, club, "old"), what="old merged away")
        assert await _gone(svc, club, "eve") and await _gone(svc, club, "old")

        assert await _row(svc, club, "ann") == ("ann@club.example", "Ann", True, False, 4, 71.0, "Loyal regulars")
        assert (await _row(svc, club, "bob", "email_opt_in, sms_opt_in")) == (False, None)
        assert await members_of(svc, club, gold["id"]) == {"ann", "bob"}
        kinds = dict(await sql(svc, "SELECT profile_id, reason FROM profile_tombstones WHERE tenant_id = :t", t=club))
        assert kinds == {"eve": "erased", "old": "merged"}
        leaked = await sql(svc, "SELECT count(*) FROM profiles WHERE email = 'eve@club.example' OR 'eve@club.example'"
                                " = ANY(emails)")
        assert leaked == [(0,)]

        # A snapshot built before a live update the read model applied does not undo it; nor does a late one
        # about the erased person bring her back.
        built_before = new_event_id()
        await events.send(events.updated(club, "bob", firstName="Robert"))
        await wait_for(lambda: _is(svc, club, "bob", "Robert"), what="bob's live update")
        late = [events.profile_state(club, "bob", event_id=built_before, firstName="Bob", email="bob@club.example"),
                events.profile_state(club, "eve", email="eve@club.example", membershipTier="Gold")]
        await events.send(*late)
        for e in late:  # handled (claimed in the consumer's transaction), and changed nothing
            await wait_for(lambda e=e: _claimed(svc, e.event_id), what=f"{e.aggregate_id}'s late snapshot read")
        assert await _row(svc, club, "bob", "first_name") == ("Robert",)
        assert await _gone(svc, club, "eve")


async def _gone(svc, tenant: str, pid: str) -> bool:
    return await _row(svc, tenant, pid, "profile_id") is None


async def _tombstoned(svc, tenant: str, pid: str) -> bool:
    return bool(await sql(svc, "SELECT 1 FROM profile_tombstones WHERE tenant_id = :t AND profile_id = :p",
                          t=tenant, p=pid))


async def _is(svc, tenant: str, pid: str, first_name: str) -> bool:
    return await _row(svc, tenant, pid, "first_name") == (first_name,)


async def _claimed(svc, event_id: str) -> bool:
    rows = await sql(svc, "SELECT 1 FROM event_inbox WHERE consumer = 'segmentation.state' AND event_id = :e",
                     e=f"identity:{event_id}")
    return bool(rows)
