"""The consumer's unit of work: one Kafka batch of upstream events, resolved and written in one transaction.

Round trips per batch without conflicts: key lookup, profile lock, one statement writing keys, profiles,
event log and outbox (plus the chassis' inbox claim and commit). Conflicts add the sightings/candidates
statements; auto-merges add theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import Delivery, Envelope, Retryable, new_event_id, outbox, utcnow
from fairway_events.contracts.identity import Identities, ProfileMergeCandidate, ProfileUpdated
from fairway_events.contracts.upstream import NO_PERSON_EVENTS, UPSTREAM_TOPICS
from fairway_events.registry import registry
from fairway_identity.eventlog.events import envelope
from fairway_identity.keys import Rejected, keys_from_hints
from fairway_identity.merge_records.candidates import Candidate
from fairway_identity.merge_records.repository import MergeBatchRepository, MergeRepository
from fairway_identity.profiles.repository import ProfileBatchRepository
from fairway_identity.resolution.engine import BatchResolver, Incoming
from fairway_identity.resolution.repository import ResolutionBatchRepository
from fairway_identity.settings import ResolutionPolicy

log = structlog.get_logger("fairway.identity.resolution")

RESOLVED = Counter("fairway_identity_events_resolved_total", "Upstream events resolved", ["outcome"])
CONFLICT_RETRIES = Counter(
    "fairway_identity_key_conflicts_total",
    "Batches retried because a concurrent batch linked the same key first",
)

# Every upstream event about a person (competition.published, updated, full and cancelled have none).
PERSON_EVENTS = frozenset(
    t for topic in UPSTREAM_TOPICS for t in registry.types_on(topic) if t not in NO_PERSON_EVENTS
)


def body_of(d: Delivery) -> str:
    if d.record is not None and d.record.value:
        return d.record.value.decode()
    return d.envelope.to_wire().decode()


class ResolveBatch:
    """`async def handler(session, deliveries)` for the chassis' EventConsumer."""

    def __init__(self, policy_for: Callable[[str], ResolutionPolicy]) -> None:
        self._policy_for = policy_for
        self._policies: dict[str, ResolutionPolicy] = {}  # settings are fixed for the process's life
        self._blocked: dict[str, frozenset[str]] = {}

    def policy_for(self, tenant_id: str) -> ResolutionPolicy:
        policy = self._policies.get(tenant_id)
        if policy is None:
            policy = self._policies[tenant_id] = self._policy_for(tenant_id)
        return policy

    def _incoming(self, d: Delivery) -> Incoming:
        env = d.envelope
        policy = self.policy_for(env.tenant_id)
        blocked = self._blocked.get(env.tenant_id)
        if blocked is None:
            blocked = self._blocked[env.tenant_id] = frozenset(policy.blocked_values)
        hints = env.payload.identity.__dict__  # the fields, without a model_dump per event
        keys, rejected = keys_from_hints(hints, policy.default_region, blocked)
        return Incoming(env=env, body=body_of(d), keys=keys, rejected=rejected)

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        repo = ResolutionBatchRepository.from_session(session)
        incoming = [self._incoming(d) for d in deliveries]
        tokens = sorted({(i.env.tenant_id, k.type, k.value) for i in incoming for k in i.keys})
        owners, blocked = await repo.lookup(tokens)
        if blocked:
            for i in incoming:
                t = i.env.tenant_id
                i.rejected += [
                    Rejected(k.type, k.value, "blocked value")
                    for k in i.keys
                    if (t, k.type, k.value) in blocked
                ]
                i.keys = [k for k in i.keys if (t, k.type, k.value) not in blocked]
        batch = ProfileBatchRepository(session)
        profiles = await batch.lock_profiles({(t, pid) for (t, _, _), pid in owners.items()})
        await self._check_owners(batch, owners, profiles)

        engine = BatchResolver(owners, profiles, self.policy_for, utcnow())
        for inc in incoming:
            engine.resolve(inc)
        await self._write(repo, session, engine)
        applied = sum(1 for r in engine.log if r.status == "APPLIED")
        RESOLVED.labels("applied").inc(applied)
        RESOLVED.labels("skipped").inc(len(engine.log) - applied)

    @staticmethod
    async def _check_owners(repo: ProfileBatchRepository, owners: dict, profiles: dict) -> None:
        """A merge, unmerge or erasure may have moved keys between the lookup and the lock: then look again."""

        def moved() -> set[str]:
            return {
                pid
                for (_, k, v), pid in owners.items()
                if pid not in profiles
                or profiles[pid].structural
                or v not in profiles[pid].state.keys.get(k, ())
            }

        stale = moved()
        if stale:
            # identity_key is the truth; the profile's cached identities follow it (and heal if they drifted).
            for pid, keys in (await repo.keys_of([(profiles[p].tenant_id, p) for p in stale if p in profiles])).items():
                profiles[pid].state.keys = keys
                profiles[pid].dirty = True
            if stale := moved():
                raise Retryable(f"profiles changed under the batch: {sorted(stale)[:3]}")

    async def _write(self, repo: ResolutionBatchRepository, session: AsyncSession, engine: BatchResolver) -> None:
        extra: list[Envelope] = []
        if engine.merges:
            existing_losers = [
                (m.loser, m.winner) for m in engine.merges if not engine.profiles[m.loser].is_new
            ]
            await ProfileBatchRepository(session).move_keys(_final_moves(existing_losers, engine))
        if engine.sightings:
            extra += await self._shared_values(repo, session, engine)

        new_keys = [(tok, engine.owners[tok], eid) for tok, eid in engine.new_keys.items()]
        inserted, log_ids = await repo.write_batch(
            new_keys, [p for p in engine.profiles.values() if p.dirty], engine.log, engine.out
        )
        if inserted != len(new_keys):
            CONFLICT_RETRIES.inc()
            raise Retryable("a concurrent batch linked one of this batch's keys first; resolving again")

        merges = MergeBatchRepository(session)
        if engine.merges:
            await merges.insert_merges(
                [
                    {
                        "id": new_event_id(),
                        "tenant_id": m.tenant_id,
                        "winner_id": m.winner,
                        "loser_id": m.loser,
                        "seq": log_ids[m.log_index] - 1,
                        "reason": "auto-merge",
                        "evidence": m.evidence,
                        "actor": None,
                    }
                    for m in engine.merges
                ]
            )
            for m in engine.merges:
                superseded = await MergeRepository.for_tenant(session, m.tenant_id).supersede_candidates(
                    m.winner, m.loser, actor="auto-merge"
                )
                for c in reopen_against_winner(m.tenant_id, m.winner, m.loser, superseded):
                    engine.candidates.setdefault((c.tenant_id, *c.pair), c)

        candidates = [c for c in engine.candidates.values() if _live_pair(c.pair, engine)]
        if candidates:
            for cid, is_new, c in await merges.upsert_candidates(
                candidates, [new_event_id() for _ in candidates]
            ):
                if is_new:
                    extra.append(
                        envelope(
                            ProfileMergeCandidate(
                                candidateId=cid,
                                profileIds=list(c.pair),
                                evidence=c.evidence[:20],
                                sourceEventId=c.source_event_id,
                            ),
                            c.tenant_id,
                            c.pair[0],
                            engine.now,
                        )
                    )
        await outbox.append_many(session, extra)

    async def _shared_values(
        self, repo: ResolutionBatchRepository, session: AsyncSession, engine: BatchResolver
    ) -> list[Envelope]:
        """Values presented for too many different profiles are blocked and unlinked from their owner."""
        counts = await repo.record_sightings(sorted(engine.sightings))
        over = [(tok, n) for tok, n in counts.items() if n >= self.policy_for(tok[0]).shared_value_threshold]
        if not over:
            return []
        unlinked = await repo.block(
            [tok for tok, _ in over], [f"seen on {n} profiles in conflicting events" for _, n in over]
        )
        # Owners linked in this very batch are not in identity_key yet: unlink them here.
        unlinked += [(tok, engine.owners[tok]) for tok, _ in over if engine.new_keys.pop(tok, None)]
        missing = [(tok[0], owner) for tok, owner in unlinked if owner not in engine.profiles]
        if missing:  # conflicts involve loaded profiles only; this keeps the cache right should that change
            engine.profiles.update(await ProfileBatchRepository(session).lock_profiles(missing))
        out: list[Envelope] = []
        for (tenant, key_type, value), owner in unlinked:
            p = engine.profiles[owner]
            p.state.unlink(key_type, value)
            p.dirty = True
            out.append(
                envelope(
                    ProfileUpdated(
                        profileId=p.id,
                        changes={"identities": Identities(**p.state.identities()).model_dump()},
                    ),
                    tenant,
                    p.id,
                    engine.now,
                )
            )
            log.info("value blocked as identifier", tenant_id=tenant, key_type=key_type)
        # A blocked value must not open candidates in this batch either.
        blocked_tokens = {f"{t[1]}:{t[2]}" for t, _ in over}
        for key, c in list(engine.candidates.items()):
            if set(c.conflict_keys) <= blocked_tokens:
                del engine.candidates[key]
        return out


def reopen_against_winner(
    tenant_id: str, winner: str, loser: str, superseded: list[dict[str, Any]]
) -> list[Candidate]:
    """The loser's open candidates with third profiles now concern the winner."""
    out = []
    for row in superseded:
        other = row["b"] if row["a"] == loser else row["a"]
        if other == winner:
            continue
        pair = (winner, other) if winner < other else (other, winner)
        out.append(
            Candidate(
                tenant_id,
                pair,
                list(row["evidence"]),
                list(row["conflict_keys"]),
                row["source_event_id"] or "",
            )
        )
    return out


def _final_moves(moves: list[tuple[str, str]], engine: BatchResolver) -> list[tuple[str, str, str]]:
    """(tenant, loser, final winner): a winner may itself lose a later merge in the same batch."""
    out = []
    for loser, winner in moves:
        while engine.profiles[winner].merged_into:
            winner = engine.profiles[winner].merged_into
        out.append((engine.profiles[loser].tenant_id, loser, winner))
    return out


def _live_pair(pair: tuple[str, str], engine: BatchResolver) -> bool:
    a, b = (engine.profiles[x] for x in pair)
    return not a.structural and not b.structural
