"""Resolution order, confidence, the system-id rule, conflicts and the auto-merge rule (the engine, pure)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from fairway_events import Envelope
from fairway_events.envelope import decode_raw
from fairway_events.registry import registry
from fairway_identity.keys import keys_from_hints
from fairway_identity.resolution.engine import BatchResolver, Incoming
from fairway_identity.settings import ResolutionPolicy
from fairway_testkit import upstream_event

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def event(
    event_type: str, identity: dict[str, Any], payload: dict[str, Any] | None = None, tenant: str = "club-a"
) -> Envelope:
    return registry.validate(decode_raw(upstream_event(event_type, tenant, identity, payload or {})))


class World:
    """The engine over several batches, with the dictionaries standing in for the database."""

    def __init__(self, policy: ResolutionPolicy | None = None) -> None:
        self.policy = policy or ResolutionPolicy()
        self.owners: dict = {}
        self.profiles: dict = {}
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return f"00000000-0000-7000-8000-{next(self._ids):012d}"

    def run(self, *events: Envelope) -> BatchResolver:
        engine = BatchResolver(self.owners, self.profiles, lambda _t: self.policy, NOW, new_id=self.new_id)
        for e in events:
            keys, rejected = keys_from_hints(
                e.payload.identity.model_dump(),
                self.policy.default_region,
                frozenset(self.policy.blocked_values),
            )
            engine.resolve(Incoming(env=e, body="{}", keys=keys, rejected=rejected))
        return engine

    def one(self, e: Envelope) -> dict[str, Any]:
        engine = self.run(e)
        row = engine.log[-1]
        return {
            "profile": row.profile_id,
            **row.detail,
            "out": [x.event_type for x in engine.out],
            "candidates": list(engine.candidates.values()),
            "merges": engine.merges,
        }

    def profile_with(self, **identity: Any) -> str:
        return self.one(event("scl.member.updated", identity))["profile"]


def test_new_person_gets_a_profile_with_every_key() -> None:
    w = World()
    r = w.one(
        event(
            "scl.member.created",
            {"sclMemberId": 7, "email": "A@x.com", "phoneNumber": "082 123 4567"},
            {"firstName": "Ann"},
        )
    )
    assert r["created"] and r["matchedBy"] == [] and r["confidence"] == 100
    assert r["out"] == ["profile.created"]
    assert w.profiles[r["profile"]].state.keys == {
        "email": ["a@x.com"],
        "phoneNumber": ["+27821234567"],
        "sclMemberId": ["7"],
    }


def test_each_key_resolves_with_its_confidence() -> None:
    w = World()
    pid = w.profile_with(
        authUserId="u1",
        email="a@x.com",
        phoneNumber="0821234567",
        sclMemberId="7",
        teetimePlayerId="tp1",
        messagingContactId="m1",
    )
    for hint, value, confidence in [
        ("authUserId", "u1", 100),
        ("email", " A@X.COM", 95),
        ("phoneNumber", "+27 82 123 4567", 85),
        ("sclMemberId", "7", 100),
        ("teetimePlayerId", "tp1", 100),
        ("messagingContactId", "m1", 100),
    ]:
        r = w.one(event("messaging.email.opened", {hint: value}, {"messageId": "m"}))
        assert (r["profile"], r["matchedBy"], r["confidence"]) == (pid, [hint], confidence), hint
        assert r["out"] == []  # nothing new about the person: nothing published


def test_every_key_that_matched_is_recorded_and_new_keys_are_linked() -> None:
    w = World()
    pid = w.profile_with(email="a@x.com", sclMemberId="7")
    r = w.one(
        event(
            "teetime.booking.created",
            {"email": "a@x.com", "phoneNumber": "0821234567", "sclMemberId": "7", "teetimePlayerId": "tp1"},
            {"bookingId": "b"},
        )
    )
    assert r["profile"] == pid and r["matchedBy"] == ["email", "sclMemberId"] and r["confidence"] == 100
    assert r["linked"] == [["phoneNumber", "+27821234567"], ["teetimePlayerId", "tp1"]]
    assert r["out"][:2] == ["profile.identity_linked", "profile.identity_linked"]


def test_resolution_order_decides_between_two_profiles_and_the_other_becomes_a_candidate() -> None:
    w = World()
    by_auth = w.profile_with(authUserId="u1")
    by_email = w.profile_with(email="a@x.com")
    by_phone = w.profile_with(phoneNumber="0821234567")
    r = w.one(event("messaging.email.opened", {"email": "a@x.com", "authUserId": "u1"}, {"messageId": "m"}))
    assert r["profile"] == by_auth and r["confidence"] == 100  # authUserId first, email (95) conflicts
    assert r["conflicts"] == [{"keyType": "email", "value": "a@x.com", "profileId": by_email}]
    assert not r["merges"] and [c.pair for c in r["candidates"]] == [tuple(sorted((by_auth, by_email)))]

    r = w.one(
        event("messaging.email.opened", {"email": "a@x.com", "phoneNumber": "0821234567"}, {"messageId": "m"})
    )
    assert r["profile"] == by_email and r["confidence"] == 95  # email before phone
    assert not r["merges"]  # email-vs-phone never auto-merges by default
    ev = r["candidates"][0].evidence
    assert {(e["keyType"], e["role"]) for e in ev} == {("phoneNumber", "conflict"), ("email", "match")}
    assert w.profiles[by_phone].structural is None and w.profiles[by_email].state.keys == {
        "email": ["a@x.com"]
    }


def test_email_vs_phone_auto_merges_only_when_configured() -> None:
    w = World(ResolutionPolicy(auto_merge_min_confidence=85))
    older = w.profile_with(email="a@x.com")
    newer = w.profile_with(phoneNumber="0821234567")
    r = w.one(
        event("messaging.email.opened", {"email": "a@x.com", "phoneNumber": "0821234567"}, {"messageId": "m"})
    )
    assert [(m.winner, m.loser) for m in r["merges"]] == [(older, newer)]
    assert w.profiles[newer].structural == "MERGED" and w.profiles[newer].merged_into == older
    assert w.profiles[older].state.keys == {"email": ["a@x.com"], "phoneNumber": ["+27821234567"]}
    assert "profile.merged" in r["out"] and not r["candidates"]


def test_system_ids_auto_merge_by_default() -> None:
    w = World()
    a = w.profile_with(authUserId="u1")
    b = w.profile_with(sclMemberId="7")
    r = w.one(event("scl.member.updated", {"sclMemberId": "7", "authUserId": "u1"}))
    assert [(m.winner, m.loser) for m in r["merges"]] == [(a, b)] and r["profile"] == a
    w2 = World(ResolutionPolicy(auto_merge_min_confidence=101))
    a, b = w2.profile_with(authUserId="u1"), w2.profile_with(sclMemberId="7")
    r = w2.one(event("scl.member.updated", {"sclMemberId": "7", "authUserId": "u1"}))
    assert not r["merges"] and len(r["candidates"]) == 1


def test_a_shared_email_with_another_member_number_is_another_person() -> None:
    w = World()
    husband = w.profile_with(sclMemberId="1", email="family@x.com")
    r = w.one(
        event("scl.member.created", {"sclMemberId": "2", "email": "family@x.com"}, {"firstName": "Wife"})
    )
    wife = r["profile"]
    assert wife != husband and r["created"] and r["hits"] == [husband]
    assert w.profiles[wife].state.keys == {"sclMemberId": ["2"]}  # the email stays with its first owner
    assert [c.pair for c in r["candidates"]] == [tuple(sorted((husband, wife)))]  # staff decide
    # The wife's later events find her by her member number, not the shared email.
    r = w.one(
        event("teetime.booking.created", {"email": "family@x.com", "sclMemberId": "2"}, {"bookingId": "b"})
    )
    assert r["profile"] == wife and r["matchedBy"] == ["sclMemberId"]


def test_two_events_of_a_new_person_in_one_batch_make_one_profile() -> None:
    w = World()
    engine = w.run(
        event("teetime.player.created", {"email": "n@x.com", "teetimePlayerId": "t9"}),
        event("teetime.booking.created", {"teetimePlayerId": "t9"}, {"bookingId": "b"}),
        event("scl.member.created", {"email": " N@X.com", "sclMemberId": "5"}),
    )
    assert len({r.profile_id for r in engine.log}) == 1 and len(w.profiles) == 1
    # created by the first; the booking makes them a customer; the member record adds a key.
    assert [e.event_type for e in engine.out] == [
        "profile.created",
        "profile.updated",
        "profile.identity_linked",
    ]
    assert engine.out[1].payload.changes == {"lifecycleStage": "CUSTOMER"}


def test_junk_is_never_an_identifier_and_the_log_says_so() -> None:
    w = World(ResolutionPolicy(blocked_values=("email:frontdesk@club.co.za",)))
    r = w.one(
        event(
            "scl.member.created",
            {"email": "noemail@club.co.za", "phoneNumber": "000 000 0000", "sclMemberId": "9"},
        )
    )
    assert r["created"] and {x["reason"] for x in r["rejected"]} == {"placeholder email", "all-zero phone"}
    engine = w.run(event("messaging.email.sent", {"email": "frontdesk@club.co.za"}, {"messageId": "m"}))
    assert engine.log[0].status == "SKIPPED" and engine.log[0].profile_id is None
    assert engine.log[0].detail["rejected"][0]["reason"] == "blocked value"


def test_emails_beyond_the_limit_are_not_linked() -> None:
    w = World(ResolutionPolicy(max_emails=2))
    pid = w.profile_with(sclMemberId="1", email="a@x.com")
    w.one(event("scl.member.updated", {"sclMemberId": "1", "email": "b@x.com"}))
    r = w.one(event("scl.member.updated", {"sclMemberId": "1", "email": "c@x.com"}))
    assert r["profile"] == pid and r["limited"] == [["email", "c@x.com"]]
    assert w.profiles[pid].state.keys["email"] == ["a@x.com", "b@x.com"]


def test_tenants_never_share_profiles() -> None:
    w = World()
    a = w.one(event("scl.member.created", {"email": "a@x.com"}, tenant="club-a"))["profile"]
    b = w.one(event("scl.member.created", {"email": "a@x.com"}, tenant="club-b"))["profile"]
    assert a != b and w.profiles[b].tenant_id == "club-b"
