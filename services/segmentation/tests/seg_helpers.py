"""Helpers of the segmentation tests: event factories and ways to read what the service did.

(Imported by test modules as `seg_helpers`; conftest.py puts this folder on the path. The name is unique so it
cannot clash with another package's test helpers in one pytest run.)
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import select, text

from fairway_events import Envelope, TopicNames, new_event_id, registry
from fairway_events.contracts.identity import (
    Attributes,
    Consent,
    Identities,
    ProfileCreated,
    ProfileErased,
    ProfileMerged,
    ProfileSnapshot,
    ProfileUnmerged,
    ProfileUpdated,
)
from fairway_events.contracts.scoring import ScoreUpdated
from fairway_events.contracts.state import CountersState, ProfileState, ScoresState
from fairway_events.contracts.timeline import TimelineCountersUpdated
from fairway_events.envelope import decode_raw
from fairway_segmentation.db import outbox_table, segment_members
from fairway_testkit import RunningService

NOW = datetime(2025, 6, 15, 10, 30, tzinfo=UTC)


def snapshot(
    pid: str,
    *,
    status: str = "ACTIVE",
    email: str | None = None,
    tags: list[str] | None = None,
    phone: str | None = None,
    scl: str | None = None,
    consent: dict[str, Any] | None = None,
    lifecycle: str = "CUSTOMER",
    **attributes: Any,
) -> ProfileSnapshot:
    return ProfileSnapshot(
        profileId=pid,
        status=status,
        lifecycleStage=lifecycle,
        identities=Identities(
            email=[email] if email else [],
            phoneNumber=[phone] if phone else [],
            sclMemberId=[scl] if scl else [],
            messagingContactId=[f"mc-{pid}"],
        ),
        attributes=Attributes(**attributes),
        consent=Consent(**(consent or {})),
        tags=tags or [],
    )


class Events:
    """Builds the events identity, timeline and ml-scoring publish, and sends them over the real broker."""

    def __init__(self, producer: AIOKafkaProducer, topics: TopicNames) -> None:
        self.producer = producer
        self.topics = topics

    async def send(self, *envs: Envelope) -> None:
        for env in envs:
            topic = registry.spec_for(type(env.payload)).topic
            await self.producer.send_and_wait(
                self.topics(topic),
                env.to_wire(),
                key=env.aggregate_id.encode(),
                headers=[(k, v.encode()) for k, v in env.wire_headers().items()],
            )

    async def send_tombstone(self, tenant: str, topic: str, key: str) -> None:
        """A null record on a state topic, as an owner's outbox relay sends it."""
        headers = {"event_id": new_event_id(), "event_type": "state.tombstone", "version": "1", "tenant_id": tenant}
        await self.producer.send_and_wait(self.topics(topic), None, key=key.encode(),
                                          headers=[(k, v.encode()) for k, v in headers.items()])

    @staticmethod
    def profile_state(tenant: str, pid: str, merged_into: str | None = None, event_id: str | None = None,
                      **kw: Any) -> Envelope:
        """identity's snapshot of a profile on crm.identity.state."""
        state = ProfileState(profile=snapshot(pid, **kw), mergedInto=merged_into, revision=1, updatedAt=NOW)
        return registry.envelope(state, tenant_id=tenant, aggregate_id=pid, source="identity", event_id=event_id)

    @staticmethod
    def counters_state(tenant: str, pid: str, as_of: datetime = NOW, **values: Any) -> Envelope:
        live = Events.counters(tenant, pid, as_of, **values).payload
        return registry.envelope(CountersState(**live.model_dump()), tenant_id=tenant, aggregate_id=pid,
                                 source="timeline")

    @staticmethod
    def scores_state(tenant: str, pid: str, engagement: float, segment: str | None = None) -> Envelope:
        scores = ScoresState(profileId=pid, engagementScore=engagement, churnRiskScore=10, riskLevel="LOW",
                             valueSegment=segment, updatedAt=NOW)
        return registry.envelope(scores, tenant_id=tenant, aggregate_id=pid, source="ml-scoring")

    @staticmethod
    def created(tenant: str, pid: str, **kw: Any) -> Envelope:
        return registry.envelope(
            ProfileCreated(profile=snapshot(pid, **kw)), tenant_id=tenant, aggregate_id=pid, source="identity"
        )

    @staticmethod
    def updated(tenant: str, pid: str, **changes: Any) -> Envelope:
        return registry.envelope(
            ProfileUpdated(profileId=pid, changes=changes),
            tenant_id=tenant,
            aggregate_id=pid,
            source="identity",
        )

    @staticmethod
    def counters(tenant: str, pid: str, as_of: datetime = NOW, **values: Any) -> Envelope:
        base: dict[str, Any] = {
            k: 0
            for k in (
                "activityCount30d",
                "activityCount90d",
                "bookingCount30d",
                "bookingCount90d",
                "roundsPlayed30d",
                "roundsPlayed90d",
                "emailSends30d",
                "emailOpens30d",
                "emailClicks30d",
            )
        }
        base.update(values)
        return registry.envelope(
            TimelineCountersUpdated(profileId=pid, asOf=as_of, **base),
            tenant_id=tenant,
            aggregate_id=pid,
            source="timeline",
        )

    @staticmethod
    def scores(
        tenant: str,
        pid: str,
        engagement: float = 50,
        churn: float = 20,
        risk: str = "LOW",
        segment: str | None = None,
        at: datetime | None = None,
    ) -> Envelope:
        return registry.envelope(
            ScoreUpdated(
                profileId=pid,
                engagementScore=engagement,
                churnRiskScore=churn,
                riskLevel=risk,
                valueSegment=segment,
                modelVersion="v1",
            ),
            tenant_id=tenant,
            aggregate_id=pid,
            source="ml-scoring",
            occurred_at=at,
        )

    @staticmethod
    def merged(tenant: str, winner: str, loser: str, **winner_kw: Any) -> Envelope:
        return registry.envelope(
            ProfileMerged(winnerId=winner, loserId=loser, winner=snapshot(winner, **winner_kw)),
            tenant_id=tenant,
            aggregate_id=winner,
            source="identity",
        )

    @staticmethod
    def unmerged(
        tenant: str, pid: str, restored: str, profile_kw: dict[str, Any], restored_kw: dict[str, Any]
    ) -> Envelope:
        return registry.envelope(
            ProfileUnmerged(
                profileId=pid,
                restoredId=restored,
                profile=snapshot(pid, **profile_kw),
                restored=snapshot(restored, **restored_kw),
            ),
            tenant_id=tenant,
            aggregate_id=pid,
            source="identity",
        )

    @staticmethod
    def erased(tenant: str, pid: str) -> Envelope:
        return registry.envelope(
            ProfileErased(profileId=pid, erasedAt=NOW), tenant_id=tenant, aggregate_id=pid, source="identity"
        )


async def published(svc: RunningService, *types: str, tenant: str | None = None) -> list[Envelope]:
    """Events the service wrote to its outbox (its audit log), decoded as consumers decode them."""
    assert svc.runtime.sessionmaker is not None
    async with svc.runtime.sessionmaker() as s:
        q = select(outbox_table.c.body).order_by(outbox_table.c.id)
        if types:
            q = q.where(outbox_table.c.event_type.in_(types))
        if tenant:
            q = q.where(outbox_table.c.tenant_id == tenant)
        rows = (await s.execute(q)).scalars().all()
    return [registry.validate(decode_raw(b.encode())) for b in rows]


async def members_of(svc: RunningService, tenant: str, segment_id: str) -> set[str]:
    assert svc.runtime.sessionmaker is not None
    async with svc.runtime.sessionmaker() as s:
        rows = await s.execute(
            select(segment_members.c.profile_id).where(
                segment_members.c.tenant_id == tenant, segment_members.c.segment_id == segment_id
            )
        )
        return set(rows.scalars())


async def sql(svc: RunningService, statement: str, **params: Any) -> list[Any]:
    assert svc.runtime.sessionmaker is not None
    async with svc.runtime.sessionmaker() as s:
        return list((await s.execute(text(statement), params)).all())


def tenant_id() -> str:
    return f"club-{uuid.uuid4().hex[:8]}"


def rule(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def day(s: str) -> date:
    return date.fromisoformat(s)
