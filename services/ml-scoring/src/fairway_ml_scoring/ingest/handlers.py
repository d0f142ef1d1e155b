"""The feature pipeline's consumer: upstream events, crm.identity and crm.timeline into the feature log, then
fresh features (pushed to Feast's online store after commit) and scores for every member the batch touched.

One Kafka batch is one transaction (the chassis' inbox claim, our log rows, scores and outbox rows). Events
are applied in order: identity events change who an event belongs to, so pending upstream rows are written
before each identity event moves them. The state consumer (ml-scoring.state) sends crm.identity.state's and
crm.timeline.state's snapshots and identity's erasure tombstones through the same code, so the key map and the
profiles' points bootstrap from them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import Delivery, Envelope
from fairway_events.contracts.identity import (
    ProfileConsentChanged,
    ProfileCreated,
    ProfileErased,
    ProfileIdentityLinked,
    ProfileMerged,
    ProfileUnmerged,
    ProfileUpdated,
)
from fairway_events.contracts.state import ProfileState, StateTombstone
from fairway_events.contracts.timeline import TimelineCountersUpdated
from fairway_events.runs import runs
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.features.events import (
    CONSENT_FLAGS,
    PROFILE_ATTRIBUTES,
    UPSTREAM_KIND,
    LogEvent,
    crm_event,
    from_upstream,
    profile_attributes,
)
from fairway_ml_scoring.features.keys import key, keys_from_lists, normalise, provisional_subject
from fairway_ml_scoring.features.repository import FeatureLogBatchRepository, FeatureLogRepository
from fairway_ml_scoring.features.snapshots import drop_subjects
from fairway_ml_scoring.results.repository import ScoreRepository
from fairway_ml_scoring.scoring.service import refresh_scores

TOPICS = ["scl.events", "teetime.events", "messaging.events", "crm.identity", "crm.timeline"]
IDENTITY_TYPES = {
    "profile.created",
    "profile.updated",
    "profile.identity_linked",
    "profile.merged",
    "profile.unmerged",
    "profile.erased",
    "profile.consent_changed",
}
HANDLED = set(UPSTREAM_KIND) | IDENTITY_TYPES | {"timeline.counters_updated"}
STATE_TOPICS = ["crm.identity.state", "crm.timeline.state"]
# Live profile events raise the version a snapshot must beat (counters are points in time: no order to keep).
LIVE_STATE = {"crm.identity": "crm.identity.state"}


class FeatureIngest:
    def __init__(self, ctx: MlContext) -> None:
        self.ctx = ctx

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        batch = _Batch(session, self.ctx)
        for kind, run in runs(deliveries, kind=_kind):
            if kind == "created":
                await batch.created(run)
            else:
                for d in run:
                    await batch.apply(d)
        await batch.finish()


class _Batch:
    def __init__(self, session: AsyncSession, ctx: MlContext) -> None:
        self.session = session
        self.ctx = ctx
        self.batch = FeatureLogBatchRepository(session)
        self.pending: list[LogEvent] = []
        self.touched: dict[str, set[str]] = defaultdict(set)
        self.gone: dict[str, set[str]] = defaultdict(
            set
        )  # subjects that no longer exist (moved, merged, erased)
        self.region = ctx.settings.phone_region

    def log(self, tenant_id: str) -> FeatureLogRepository:
        return FeatureLogRepository.for_tenant(self.session, tenant_id)

    async def apply(self, d: Delivery) -> None:
        env = d.envelope
        p = env.payload
        if env.event_type in UPSTREAM_KIND:
            ev = from_upstream(env, self.region)
            if ev is not None:
                self.pending.append(ev)
            return
        if isinstance(p, TimelineCountersUpdated):
            attrs = {k: v.isoformat() for k, v in (("lastActivityAt", p.lastActivityAt),) if v is not None}
            self.pending.append(crm_event(env, "timeline", p.asOf, p.profileId, attrs))
            return
        if isinstance(p, ProfileConsentChanged):
            attrs = {f: getattr(p.consent, f) for f in CONSENT_FLAGS if getattr(p.consent, f) is not None}
            self.pending.append(crm_event(env, "consent", p.changedAt, p.profileId, attrs))
            return
        if isinstance(p, ProfileUpdated):
            attrs = {k: v for k, v in p.changes.items() if k in PROFILE_ATTRIBUTES and v is not None}
            if attrs:
                self.pending.append(crm_event(env, "profile", env.occurred_at, p.profileId, attrs))
            await self.flush()
            if p.changes.get("membershipTier"):
                await self.log(env.tenant_id).set_segment(p.profileId, str(p.changes["membershipTier"]))
            if p.changes.get("status") in ("MERGED", "DELETED", "INACTIVE", "ACTIVE"):
                await self.log(env.tenant_id).upsert_profile(p.profileId, str(p.changes["status"]))
            return
        # Identity changes who events belong to: write what came before first.
        await self.flush()
        t = env.tenant_id
        if isinstance(p, ProfileCreated) or (isinstance(p, ProfileState) and p.mergedInto is None):
            await self.created([d])
            return
        elif isinstance(p, ProfileIdentityLinked):
            value = normalise(p.keyType, p.value, self.region)
            if value is not None:
                self.gone[t] |= await self.log(t).link(p.profileId, [key(p.keyType, value)])
                self.touched[t].add(p.profileId)
        elif isinstance(p, ProfileMerged):
            winner_keys = keys_from_lists(p.winner.identities.model_dump(), self.region)
            self.gone[t] |= await self.log(t).merge(p.winnerId, p.loserId, winner_keys)
            self.pending.append(profile_attributes(env, p.winnerId, p.winner.attributes, p.winner.consent))
            self.touched[t].add(p.winnerId)
        elif isinstance(p, ProfileUnmerged):
            await self.log(t).unmerge(
                p.profileId,
                p.restoredId,
                keys_from_lists(p.profile.identities.model_dump(), self.region),
                keys_from_lists(p.restored.identities.model_dump(), self.region),
            )
            self.touched[t] |= {p.profileId, p.restoredId}
        elif isinstance(p, ProfileState) and p.mergedInto is not None:
            self.gone[t] |= await self.log(t).merge(p.mergedInto, p.profile.profileId, [])
            self.touched[t].add(p.mergedInto)
        elif isinstance(p, ProfileErased):
            await self.log(t).erase(p.profileId)
            self.gone[t].add(p.profileId)
        elif isinstance(p, StateTombstone) and p.topic == "crm.identity.state":  # identity's: an erasure
            await self.log(t).erase(p.key)
            self.gone[t].add(p.key)
        await self.flush()

    async def created(self, deliveries: list[Delivery]) -> None:
        """profile.created events (or snapshots of profiles of their own) touching disjoint profiles and keys (a
        run): their keys, parked events and profiles in a few statements per tenant, with the effect of one by one."""
        await self.flush()  # identity changes who events belong to: write what came before first
        by_tenant: dict[str, list[tuple[Envelope, ProfileCreated | ProfileState]]] = defaultdict(list)
        for d in deliveries:
            assert isinstance(d.envelope.payload, ProfileCreated | ProfileState)
            by_tenant[d.envelope.tenant_id].append((d.envelope, d.envelope.payload))
        for t, events in by_tenant.items():
            keyed = [(env, p, keys_from_lists(p.profile.identities.model_dump(), self.region)) for env, p in events]
            # a key announced twice ends the run: the second announcement must find the first one's effects
            for _, run in runs(keyed, kind=lambda _: None, touches=lambda e: {e[1].profile.profileId, *e[2]}):
                self.gone[t] |= await self.log(t).link_many([(p.profile.profileId, keys) for _, p, keys in run])
                await self.log(t).upsert_profiles(
                    [(p.profile.profileId, p.profile.status, p.profile.attributes.membershipTier)
                        for _, p, _ in run]
                )
                for env, p, _ in run:
                    snap = p.profile
                    self.pending.append(profile_attributes(env, snap.profileId, snap.attributes, snap.consent))
                    self.touched[t].add(snap.profileId)
        await self.flush()

    async def flush(self) -> None:
        if not self.pending:
            return
        by_tenant: dict[str, list[LogEvent]] = defaultdict(list)
        for ev in self.pending:
            by_tenant[ev.tenant_id].append(ev)
        self.pending = []
        for tenant_id, events in by_tenant.items():
            resolved = await self.log(tenant_id).resolve([k for ev in events for k in ev.keys])
            rows: list[dict[str, Any]] = []
            for ev in events:
                if ev.profile_id is not None:
                    subject, is_resolved = ev.profile_id, True
                else:
                    owner = next((resolved[k] for k in ev.keys if k in resolved), None)
                    subject, is_resolved = (
                        (owner, True) if owner else (provisional_subject(tenant_id, ev.keys[0]), False)
                    )
                rows.append(
                    {
                        "tenant_id": tenant_id,
                        "event_id": ev.event_id,
                        "subject_id": subject,
                        "resolved": is_resolved,
                        "keys": ev.keys,
                        "kind": ev.kind,
                        "occurred_at": ev.occurred_at,
                        "amount": ev.amount,
                        "quantity": ev.quantity,
                        "attrs": ev.attrs,
                    }
                )
            self.touched[tenant_id].update(await self.batch.append(rows))

    async def finish(self) -> None:
        await self.flush()
        now = self.ctx.now()
        for tenant_id in set(self.touched) | set(self.gone):
            gone = self.gone[tenant_id]
            touched = self.touched[tenant_id] - gone
            if gone:
                gone_list = sorted(gone)
                await ScoreRepository.for_tenant(self.session, tenant_id).delete(gone_list)
                await drop_subjects(self.session, tenant_id, gone_list)
                self.ctx.after_commit(
                    self.session, lambda t=tenant_id, g=gone_list: self.ctx.fs.erase(t, g, now)
                )
            if touched:
                await refresh_scores(self.session, self.ctx, tenant_id, sorted(touched), now=now)


def _kind(d: Delivery) -> str:
    p = d.envelope.payload
    return "created" if isinstance(p, ProfileCreated) or (isinstance(p, ProfileState) and p.mergedInto is None) \
        else "other"

