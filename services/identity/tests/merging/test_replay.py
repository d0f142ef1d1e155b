"""Replaying identity event logs: a replay equals the live profile, and undoing a merge gives both people
back as if they had never been merged (pure: the engine and the replayer, no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from fairway_events.envelope import decode_raw
from fairway_events.registry import registry
from fairway_identity.keys import keys_from_hints
from fairway_identity.merging.replay import LoggedEvent, MergeRecord, Replayer
from fairway_identity.resolution.engine import BatchResolver, Incoming
from fairway_identity.settings import ResolutionPolicy
from fairway_testkit import upstream_event

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)


def story() -> list[bytes]:
    """Ann (SCL member 1) and a TeeTime player who turns out to be linked to her member record."""
    e = [
        (
            "scl.member.created",
            {"sclMemberId": "1", "email": "ann@x.com"},
            {"firstName": "Ann", "membershipTier": "Gold"},
        ),
        (
            "teetime.player.created",
            {"teetimePlayerId": "t1", "phoneNumber": "082 123 4567"},
            {"firstName": "Annie", "handicap": 10},
        ),
        (
            "contactPreference.updated",
            {"messagingContactId": "m2", "phoneNumber": "0821234567"},
            {"emailOptIn": True, "smsOptIn": False},
        ),
        ("scl.member.updated", {"sclMemberId": "1", "teetimePlayerId": "t1"}, {"membershipStatus": "ACTIVE"}),
        ("teetime.handicap.updated", {"teetimePlayerId": "t1"}, {"handicap": 8.2}),
        ("teetime.booking.created", {"teetimePlayerId": "t1", "email": "annie@y.com"}, {"bookingId": "b1"}),
        ("scl.payment.received", {"sclMemberId": "1"}, {"paymentId": "p1", "amount": "100.00"}),
        ("contactPreference.updated", {"email": "ann@x.com"}, {"smsOptIn": True}),
    ]
    return [
        upstream_event(t, "club-a", ident, payload, event_id=f"ev-{i}", at=T0 + timedelta(minutes=i))
        for i, (t, ident, payload) in enumerate(e)
    ]


def run(policy: ResolutionPolicy, wires: list[bytes]) -> tuple[BatchResolver, list[LoggedEvent]]:
    ids = itertools.count(1)
    engine = BatchResolver(
        {}, {}, lambda _t: policy, T0, new_id=lambda: f"00000000-0000-7000-8000-{next(ids):012d}"
    )
    for w in wires:
        env = registry.validate(decode_raw(w))
        keys, rejected = keys_from_hints(env.payload.identity.model_dump(), "ZA")
        engine.resolve(Incoming(env=env, body=w.decode(), keys=keys, rejected=rejected))
    log = [
        LoggedEvent(
            id=n,
            event_id=r.event_id,
            kind="upstream",
            event_type=r.event_type,
            profile_id=r.profile_id,
            occurred_at=r.occurred_at,
            body=r.body,
            detail=r.detail,
        )
        for n, r in enumerate(engine.log, 1)
    ]
    return engine, log


def comparable(state: Any) -> dict[str, Any]:
    return {
        "view": state.view(),
        "keys": {t: sorted(v) for t, v in state.keys.items() if v},
        "obs": state.obs,
        "consent": state.consent,
        "ltv": state.ltv,
    }


def test_replay_of_a_merged_profile_equals_the_live_one_and_unmerge_equals_never_merged() -> None:
    merged_world, log = run(ResolutionPolicy(), story())  # system ids auto-merge by default
    [m] = merged_world.merges
    ann, player = m.winner, m.loser
    record = MergeRecord(id="m1", winner=ann, loser=player, seq=m.log_index)  # log ids are 1-based
    live = merged_world.profiles[ann].state
    assert live.keys["teetimePlayerId"] == ["t1"] and live.attributes()["handicap"] == 8.2

    replayed = Replayer(events=log, merges=[record], policy=ResolutionPolicy()).state_of(ann)
    assert comparable(replayed) == comparable(live)

    kept, restored = Replayer(
        events=log, merges=[record], policy=ResolutionPolicy(), excluded=record, ancestors=frozenset({ann})
    ).unmerge(ann)

    never_world, _ = run(ResolutionPolicy(auto_merge_min_confidence=101), story())
    assert not never_world.merges and len(never_world.candidates) == 1  # a candidate instead
    by_scl = {p.state.keys.get("sclMemberId", [None])[0]: p for p in never_world.profiles.values()}
    assert comparable(kept) == comparable(by_scl["1"].state)
    assert comparable(restored) == comparable(by_scl[None].state)
    assert restored.keys["email"] == ["annie@y.com"]  # linked after the merge, by the player's own key
    assert restored.consent_values()["emailOptIn"] is True and kept.consent_values()["emailOptIn"] is None
