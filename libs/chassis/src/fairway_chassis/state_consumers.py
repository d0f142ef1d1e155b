"""A mirroring service's state consumer: its read model bootstraps, and rebuilds, from the owners' state topics.

    ServiceDefinition(..., consumers=[
        ConsumerSpec(name="segmentation.read-model", topics=[...live...], handler=StateReader(handle, live=LIVE)),
        state_consumer("segmentation.state", ["crm.identity.state", ...], handle),
    ])

The state consumer is a group of its own: a new group starts at the earliest offsets (every consumer does), so it
reads each state topic from the beginning and upserts every snapshot into the rows the live events maintain,
through the same handler; a tombstone removes the entity. `StateReader` keeps snapshots and live events in order.
"""
from __future__ import annotations

from collections.abc import Sequence

from fairway_chassis.app import ConsumerSpec
from fairway_events.catalogue import BY_NAME
from fairway_events.consumer import BatchHandler
from fairway_events.envelope import TOMBSTONE
from fairway_events.registry import registry
from fairway_events.state_readers import StateReader


def state_consumer(name: str, topics: Sequence[str], handler: BatchHandler, *, max_records: int = 500
                   ) -> ConsumerSpec:
    """A consumer of `topics` (state topics only) handing their snapshots and tombstones to `handler`."""
    for topic in topics:
        if not BY_NAME[topic].compacted:
            raise ValueError(f"{topic!r} is not a state topic")
    handles = {s.event_type for s in registry.specs() if s.topic in topics} | {TOMBSTONE}
    return ConsumerSpec(name=name, topics=list(topics), handler=StateReader(handler), handles=handles,
                        max_records=max_records)
