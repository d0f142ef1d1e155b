"""What each service holds of the chaos club, read from its own database, against what the load sent.

Each comparison gives the effects lost (sent, or implied by what was sent, and not there) and duplicated (there
more than once, or there without a cause). Read straight from the services' databases: the point is what they
hold, whatever their APIs would show.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import asyncpg

from .load import Load

# Upstream types that become a timeline activity and a feature event (both services' catalogues hold all of
# those the load sends; a test in test_chaos.py checks that against the services' own tables).
PER_EVENT = ("identity events", "timeline activities", "ml-scoring features")


@dataclass
class Tally:
    expected: int = 0
    held: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{self.held}/{self.expected} lost {len(self.lost)} dup {len(self.duplicated)}"


@dataclass
class Holdings:
    tallies: dict[str, Tally]

    @property
    def lost(self) -> int:
        return sum(len(t.lost) for t in self.tallies.values())

    @property
    def duplicated(self) -> int:
        return sum(len(t.duplicated) for t in self.tallies.values())

    def summary(self) -> str:
        return "; ".join(f"{k}: {t.line()}" for k, t in self.tallies.items())

    def problems(self, sample: int = 5) -> str:
        return "\n".join(f"{k}: lost {t.lost[:sample]} duplicated {t.duplicated[:sample]}"
                         for k, t in self.tallies.items() if t.lost or t.duplicated)


async def _fetch(pg_port: int, db: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(host="127.0.0.1", port=pg_port, user="postgres", database=db, timeout=10)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def _per_event(name: str, sent: set[str], rows: list[asyncpg.Record]) -> Tally:
    seen = Counter(r["event_id"] for r in rows)
    return Tally(expected=len(sent), held=len(set(seen) & sent), lost=sorted(sent - set(seen)),
                 duplicated=sorted(e for e, n in seen.items() if n > 1))


async def holdings(pg_port: int, load: Load, gold_segment: str) -> Holdings:
    tenant = load.tenant
    sent = set(load.sent)
    people = {p.n: p for p in load.people if any(s.person == p.n for s in load.sent.values())}
    # The people whose SCL membership got through: only those are members (with a tier) and new profiles.
    members = {s.person for s in load.sent.values() if s.event_type == "scl.member.created"}
    t: dict[str, Tally] = {}

    # identity: one profile per person, linked to the person's keys; every event applied once. (Scenarios share the
    # club: only this scenario's people count.)
    keys = await _fetch(pg_port, "fairway_identity",
                        "SELECT k.key_type, k.value, k.profile_id::text AS profile_id FROM identity_key k "
                        "JOIN profile p ON p.id = k.profile_id AND p.tenant_id = k.tenant_id WHERE k.tenant_id = $1 "
                        "AND k.value = ANY($2::text[]) AND p.merged_into IS NULL AND p.erased_at IS NULL",
                        tenant, [v for p in people.values() for v in (p.teetime_id, str(p.scl_id), p.contact_id)])
    by_person: dict[str, set[str]] = {}
    for r in keys:
        if r["key_type"] == "teetimePlayerId":
            by_person.setdefault(r["value"], set()).add(r["profile_id"])
    profile_of = {n: next(iter(by_person[p.teetime_id])) for n, p in people.items()
                  if len(by_person.get(p.teetime_id, ())) == 1}
    mine = {r["profile_id"] for r in keys}  # every live profile holding a key of this scenario's people
    t["profiles"] = Tally(expected=len(people), held=len(mine),
                          lost=sorted(p.teetime_id for p in people.values() if p.teetime_id not in by_person),
                          duplicated=sorted(k for k, v in by_person.items() if len(v) > 1)
                          + sorted(mine - set(profile_of.values())))
    applied = await _fetch(pg_port, "fairway_identity", "SELECT event_id FROM event_log WHERE tenant_id = $1 "
                           "AND event_id = ANY($2::text[])", tenant, list(sent))
    t["identity events"] = _per_event("identity events", sent, applied)

    # timeline: one activity per upstream event, on the person's profile.
    acts = await _fetch(pg_port, "fairway_timeline", "SELECT source_event_id AS event_id, profile_id::text AS profile "
                        "FROM activities WHERE tenant_id = $1", tenant)
    tally = _per_event("timeline activities", sent, acts)
    tally.lost += sorted(r["event_id"] for r in acts if r["event_id"] in sent and r["profile"] is None)
    t["timeline activities"] = tally

    # segmentation: the Gold members, exactly.
    gold = {profile_of[n] for n in members if n in profile_of and people[n].tier == "Gold"}
    held = await _fetch(pg_port, "fairway_segmentation", "SELECT profile_id::text AS p FROM segment_members "
                        "WHERE tenant_id = $1 AND segment_id::text = $2", tenant, gold_segment)
    held_ids = Counter(r["p"] for r in held if r["p"] in mine)
    t["segment members"] = Tally(expected=len(gold), held=len(held_ids), lost=sorted(gold - set(held_ids)),
                                 duplicated=sorted(p for p in held_ids if p not in gold or held_ids[p] > 1))

    # ml-scoring: every event in the feature log, resolved to its person's profile; one profile per person.
    feats = await _fetch(pg_port, "fairway_ml_scoring", "SELECT event_id, resolved FROM ml_events "
                         "WHERE tenant_id = $1 AND event_id = ANY($2::text[])", tenant, list(sent))
    tally = _per_event("ml-scoring features", sent, feats)
    tally.lost += sorted(r["event_id"] for r in feats if not r["resolved"])
    t["ml-scoring features"] = tally

    # campaigns (dispatch): the welcome journey asks for one e-mail per new member, and dispatch records it once.
    sends = await _fetch(pg_port, "fairway_campaigns", "SELECT profile_id, status FROM dispatch_ledger "
                         "WHERE tenant_id = $1 AND source_kind = 'JOURNEY'", tenant)
    sends = [r for r in sends if r["profile_id"] in mine]
    welcomed = Counter(r["profile_id"] for r in sends)
    # Dispatch asks Messaging for those it lets through now (not the journey's control group, nor e-mail held for
    # the morning by quiet hours).
    let_through = {r["profile_id"] for r in sends if r["status"] == "REQUESTED"}
    want = {profile_of[n] for n in members if n in profile_of}
    t["send requests"] = Tally(expected=len(want), held=len(welcomed), lost=sorted(want - set(welcomed)),
                               duplicated=sorted(p for p, c in welcomed.items() if c > 1 or p not in want))
    requested = await _fetch(pg_port, "fairway_campaigns", "SELECT body::jsonb #>> '{payload,recipient,profileId}' "
                             "AS p FROM event_outbox WHERE tenant_id = $1 AND event_type = 'messaging.send.requested'",
                             tenant)
    asked = Counter(r["p"] for r in requested if r["p"] in mine)
    t["messaging.send.requested"] = Tally(
        expected=len(let_through), held=len(asked), lost=sorted(let_through - set(asked)),
        duplicated=sorted(p for p, c in asked.items() if c > 1 or p not in want))
    return Holdings(t)
