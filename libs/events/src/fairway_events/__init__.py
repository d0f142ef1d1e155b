"""Fairway's event backbone: envelope, registry, topic catalogue, outbox, inbox, DLQ, request/reply.

The registry loads every contract (fairway_events.contracts) the first time it is read."""
# Exports are imported on first use (PEP 562), so importing one light module of the package (a command that only
# needs the topic catalogue, or the token signer) does not pay for SQLAlchemy, Kafka and FastAPI.
from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fairway_events.catalogue import CONSUMER_GROUPS, TOPICS, ConsumerGroup, Topic, TopicNames
    from fairway_events.consumer import Delivery, Dispatch, EventConsumer, Retryable
    from fairway_events.envelope import Envelope, new_event_id, utcnow
    from fairway_events.outbox import Outbox, OutboxRelay, outbox
    from fairway_events.outbox_sql import Sql
    from fairway_events.registry import EventRegistry, EventRejected, registry
    from fairway_events.tables import event_tables

_MODULES: dict[str, tuple[str, ...]] = {
    "fairway_events.catalogue": ("CONSUMER_GROUPS", "TOPICS", "ConsumerGroup", "Topic", "TopicNames"),
    "fairway_events.consumer": ("Delivery", "Dispatch", "EventConsumer", "Retryable"),
    "fairway_events.envelope": ("Envelope", "new_event_id", "utcnow"),
    "fairway_events.outbox": ("Outbox", "OutboxRelay", "outbox"),
    "fairway_events.outbox_sql": ("Sql",),
    "fairway_events.registry": ("EventRegistry", "EventRejected", "registry"),
    "fairway_events.tables": ("event_tables",),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """`outbox` and `registry` name both a submodule and the object it defines (as they did when this file imported
    everything): importing the submodule later must not replace the exported object."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == f"{__name__}.{name}":
            return  # the submodule stays in sys.modules; the package's name keeps meaning the exported object
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "CONSUMER_GROUPS", "TOPICS", "ConsumerGroup", "Delivery", "Dispatch", "Envelope", "EventConsumer", "EventRegistry", "EventRejected", "Outbox",
    "OutboxRelay", "Retryable", "Sql", "Topic", "TopicNames", "event_tables", "new_event_id", "outbox", "registry", "utcnow",
]
