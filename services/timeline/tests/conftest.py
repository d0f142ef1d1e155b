"""Factories for the timeline's tests: identity events as identity publishes them, upstream events as SCL,
TeeTime and Messaging send them, and a look at what the running service stored and published."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from fairway_events import TopicNames, new_event_id, registry
from fairway_events.contracts.identity import (
    Attributes,
    Consent,
    Identities,
    ProfileCreated,
    ProfileErased,
    ProfileIdentityLinked,
    ProfileMerged,
    ProfileSnapshot,
    ProfileUnmerged,
)
from fairway_events.contracts.state import ProfileState
from fairway_testkit import RunningService, auth_headers, send_upstream
from fairway_timeline.db import activities, outbox_table


def snapshot(profile_id: str, status: str = "ACTIVE", **keys: list[str]) -> ProfileSnapshot:
    return ProfileSnapshot(
        profileId=profile_id,
        status=status,
        identities=Identities(**keys),
        attributes=Attributes(),
        consent=Consent(),
    )


@dataclass
class Club:
    """One test's view of the platform around the timeline: it plays identity and the upstream systems, and
    looks at what the running timeline stored and published."""

    producer: AIOKafkaProducer
    topics: TopicNames

    # -- identity ---------------------------------------------------------------------------------------
    async def identity(self, tenant: str, payload: Any, aggregate: str) -> None:
        env = registry.envelope(payload, tenant_id=tenant, aggregate_id=aggregate, source="identity")
        await self.producer.send_and_wait(self.topics("crm.identity"), env.to_wire(), key=aggregate.encode())

    async def created(self, tenant: str, profile_id: str, **keys: list[str]) -> None:
        await self.identity(tenant, ProfileCreated(profile=snapshot(profile_id, **keys)), profile_id)

    async def state(self, tenant: str, profile_id: str, merged_into: str | None = None, **keys: list[str]) -> None:
        """identity's snapshot of a profile on crm.identity.state."""
        status = "MERGED" if merged_into else "ACTIVE"
        payload = ProfileState(profile=snapshot(profile_id, status, **keys), mergedInto=merged_into, revision=1,
                               updatedAt=datetime.now(UTC))
        env = registry.envelope(payload, tenant_id=tenant, aggregate_id=profile_id, source="identity")
        await self.producer.send_and_wait(self.topics("crm.identity.state"), env.to_wire(), key=profile_id.encode())

    async def state_erased(self, tenant: str, profile_id: str) -> None:
        """identity's tombstone of an erased profile: a null record with its event id and tenant in the headers."""
        headers = {"event_id": new_event_id(), "event_type": "state.tombstone", "version": "1", "tenant_id": tenant}
        await self.producer.send_and_wait(self.topics("crm.identity.state"), None, key=profile_id.encode(),
                                          headers=[(k, v.encode()) for k, v in headers.items()])

    async def linked(self, tenant: str, profile_id: str, key_type: str, value: str) -> None:
        await self.identity(
            tenant,
            ProfileIdentityLinked(profileId=profile_id, keyType=key_type, value=value, confidence=100),
            profile_id,
        )

    async def merged(self, tenant: str, winner: str, loser: str, **winner_keys: list[str]) -> None:
        await self.identity(
            tenant,
            ProfileMerged(winnerId=winner, loserId=loser, winner=snapshot(winner, **winner_keys)),
            winner,
        )

    async def unmerged(
        self,
        tenant: str,
        winner: str,
        restored: str,
        winner_keys: dict[str, list[str]],
        restored_keys: dict[str, list[str]],
    ) -> None:
        await self.identity(
            tenant,
            ProfileUnmerged(
                profileId=winner,
                restoredId=restored,
                profile=snapshot(winner, **winner_keys),
                restored=snapshot(restored, **restored_keys),
            ),
            winner,
        )

    async def erased(self, tenant: str, profile_id: str, at: datetime | None = None) -> None:
        await self.identity(
            tenant, ProfileErased(profileId=profile_id, erasedAt=at or datetime.now(UTC)), profile_id
        )

    # -- upstream ---------------------------------------------------------------------------------------
    async def upstream(
        self,
        event_type: str,
        tenant: str,
        identity: dict[str, Any],
        payload: dict[str, Any] | None = None,
        *,
        event_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        await send_upstream(
            self.producer, self.topics, event_type, tenant, identity, payload, event_id=event_id, at=at
        )

    # -- looking at the service -------------------------------------------------------------------------
    @staticmethod
    async def timeline(
        svc: RunningService,
        tenant: str,
        profile_id: str,
        *,
        roles: tuple[str, ...] = ("staff",),
        subject: str = "tester",
        **params: Any,
    ) -> dict:
        r = await svc.http.get(
            f"/api/v1/customers/{profile_id}/timeline",
            params=params,
            headers=auth_headers(tenant, roles, subject),
        )
        assert r.status_code == 200, r.text
        return r.json()

    @staticmethod
    async def rows(svc: RunningService, stmt: Any) -> list[Any]:
        async with svc.runtime.sessionmaker() as session:
            return list((await session.execute(stmt)).all())

    @classmethod
    async def pending(cls, svc: RunningService, tenant: str) -> int:
        rows = await cls.rows(
            svc,
            select(func.count())
            .select_from(activities)
            .where(activities.c.tenant_id == tenant, activities.c.profile_id.is_(None)),
        )
        return rows[0][0]

    @classmethod
    async def published_counters(cls, svc: RunningService, tenant: str, profile_id: str) -> list[dict]:
        """Every timeline.counters_updated the service wrote to its outbox for the profile, oldest first."""
        rows = await cls.rows(
            svc,
            select(outbox_table.c.body)
            .where(
                outbox_table.c.tenant_id == tenant,
                outbox_table.c.key == profile_id,
                outbox_table.c.event_type == "timeline.counters_updated",
            )
            .order_by(outbox_table.c.id),
        )
        return [json.loads(r.body)["payload"] for r in rows]


@pytest.fixture
def club(producer: AIOKafkaProducer, topics: TopicNames) -> Club:
    return Club(producer, topics)
