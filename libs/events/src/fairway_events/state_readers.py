"""Reading state topics: a read model bootstraps (or rebuilds) from the owners' snapshots, next to its live events.

A mirroring service gives its batch handler (the one its live events go through) to a `StateReader` and runs it
as a consumer group of its own on the state topics; a new group reads them from the beginning, so the read model
is complete whatever the 30-day event topics still hold. The handler sees the snapshots (`profile.state`, ...)
and tombstones (`state.tombstone`) as events like any other and upserts them into the same rows.

Snapshots apply in order with the live events, through `state_versions` (tenant, state topic, key, version): the
version is the newest event id applied for the entity, and event ids are UUIDv7, so they order by the time their
producer made them. A snapshot is applied only if its id is newer than the entity's version: a replayed or
reannounced-then-superseded snapshot is a no-op, and one built before a live update the service already applied
(`live=`: those updates raise the version too) cannot overwrite it. The one race left is benign: a live update
made while a snapshot was being built can be overwritten by it until that update's own snapshot follows, which
the owner publishes once the update commits.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events.catalogue import BY_NAME
from fairway_events.consumer import BatchHandler, Delivery
from fairway_events.contracts.state import StateTombstone
from fairway_events.registry import EventRegistry, registry

STATE_VERSIONS = "state_versions"


def state_versions_table(metadata: MetaData) -> Table:
    return Table(
        STATE_VERSIONS,
        metadata,
        Column("tenant_id", String(64), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("version", String(64), nullable=False),  # the newest event id applied (UUIDv7: time-ordered)
        PrimaryKeyConstraint("tenant_id", "topic", "key", name=f"pk_{STATE_VERSIONS}"),
    )


def create_state_versions_op() -> None:
    """A reading service's migration: the table its `StateReader` keeps the entities' versions in."""
    from alembic import op

    state_versions_table(MetaData()).create(op.get_bind(), checkfirst=True)


def drop_state_versions_op() -> None:
    from alembic import op

    op.execute(f"DROP TABLE IF EXISTS {STATE_VERSIONS}")


_ARRAYS = {name: ARRAY(String) for name in ("tenants", "topics", "keys", "versions")}
_UNNEST = "unnest(:tenants, :topics, :keys, :versions) AS u(tenant_id, topic, key, version)"
# Keys first claimed with the lowest version, then locked: a concurrent batch (the live group) on the same entity
# waits for this one's commit and then sees its version.
_ENSURE = text(
    f"INSERT INTO {STATE_VERSIONS} (tenant_id, topic, key, version) "  # noqa: S608 (constant names)
    f"SELECT tenant_id, topic, key, '' FROM {_UNNEST} ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING"
).bindparams(*(bindparam(n, type_=t) for n, t in _ARRAYS.items()))
_LOCK = text(
    f"SELECT s.tenant_id, s.topic, s.key, s.version FROM {STATE_VERSIONS} s JOIN {_UNNEST} "  # noqa: S608
    "USING (tenant_id, topic, key) ORDER BY 1, 2, 3 FOR UPDATE OF s"
).bindparams(*(bindparam(n, type_=t) for n, t in _ARRAYS.items()))
_RAISE = text(
    f"INSERT INTO {STATE_VERSIONS} AS s (tenant_id, topic, key, version) "  # noqa: S608
    f"SELECT tenant_id, topic, key, version FROM {_UNNEST} ORDER BY 1, 2, 3 "
    "ON CONFLICT (tenant_id, topic, key) DO UPDATE SET version = EXCLUDED.version WHERE s.version < EXCLUDED.version"
).bindparams(*(bindparam(n, type_=t) for n, t in _ARRAYS.items()))

Entity = tuple[str, str, str]  # tenant, state topic, key


def _arrays(versions: Mapping[Entity, str]) -> dict[str, Any]:
    items = sorted(versions.items())
    return {"tenants": [e[0] for e, _ in items], "topics": [e[1] for e, _ in items],
            "keys": [e[2] for e, _ in items], "versions": [v for _, v in items]}


class StateReader:
    """A batch handler for a state consumer: lets through the snapshots and tombstones newer than what the read
    model holds, in order, to `handler`; everything else (live events, when one group reads both) goes through
    as it is, and the live events of the `live` topics (event topic -> state topic) raise their entity's version.
    """

    def __init__(self, handler: BatchHandler, *, live: Mapping[str, str] | None = None,
                 reg: EventRegistry = registry) -> None:
        self.handler = handler
        self.live = dict(live or {})
        self.registry = reg
        for topic in (*self.live, *self.live.values()):
            if topic not in BY_NAME:
                raise KeyError(f"{topic!r} is not in the topic catalogue")

    def state_topic(self, d: Delivery) -> str | None:
        """The state topic a delivery is a snapshot (or tombstone) of; None for any other event."""
        payload = d.envelope.payload
        if isinstance(payload, StateTombstone):
            return payload.topic
        topic = self.registry.latest(d.envelope.event_type).topic
        return topic if BY_NAME[topic].compacted else None

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        state: list[tuple[Entity, Delivery]] = []
        marks: dict[Entity, str] = {}
        for d in deliveries:
            e = d.envelope
            topic = self.state_topic(d)
            if topic is not None:
                state.append(((e.tenant_id, topic, e.aggregate_id), d))
            elif (mirrored := self.live.get(self.registry.latest(e.event_type).topic)) is not None:
                entity = (e.tenant_id, mirrored, e.aggregate_id)
                marks[entity] = max(marks.get(entity, ""), e.event_id)
        stale = await self._stale(session, state) if state else set()
        if marks:
            await session.execute(_RAISE, _arrays(marks))
        todo = [d for d in deliveries if id(d) not in stale]
        if todo:
            await self.handler(session, todo)

    async def _stale(self, session: AsyncSession, state: Sequence[tuple[Entity, Delivery]]) -> set[int]:
        """The snapshots not newer than their entity's version (by `id()`); the versions raised for the rest."""
        entities = {entity: "" for entity, _ in state}
        await session.execute(_ENSURE, _arrays(entities))
        current = {(r.tenant_id, r.topic, r.key): r.version
                   for r in await session.execute(_LOCK, _arrays(entities))}
        stale: set[int] = set()
        for entity, d in state:  # in the batch's order: of one entity's snapshots, each must beat the one before
            if d.envelope.event_id <= current[entity]:
                stale.add(id(d))
            else:
                current[entity] = d.envelope.event_id
        await session.execute(_RAISE, _arrays({entity: current[entity] for entity in entities}))
        return stale
