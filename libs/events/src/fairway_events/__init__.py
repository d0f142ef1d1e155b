"""Fairway's event backbone: envelope, registry, topic catalogue, outbox, inbox, DLQ, request/reply."""
from fairway_events import contracts  # noqa: F401  (registers every contract)
from fairway_events.catalogue import TOPICS, Topic, TopicNames
from fairway_events.consumer import Delivery, Dispatch, EventConsumer, Retryable
from fairway_events.envelope import Envelope, new_event_id, utcnow
from fairway_events.outbox import Outbox, OutboxRelay, outbox
from fairway_events.outbox_sql import Sql
from fairway_events.registry import EventRegistry, EventRejected, registry
from fairway_events.tables import event_tables

__all__ = [
    "TOPICS", "Delivery", "Dispatch", "Envelope", "EventConsumer", "EventRegistry", "EventRejected", "Outbox",
    "OutboxRelay", "Retryable", "Sql", "Topic", "TopicNames", "event_tables", "new_event_id", "outbox", "registry", "utcnow",
]
