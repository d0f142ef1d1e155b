"""The event envelope every Fairway event travels in, and its wire codec.

Two wire shapes exist:
- Fairway's own envelope (`event_id`, `event_type`, `version`, ...), written by outboxes;
- the upstream contract v1 of SCL, TeeTime and Messaging (`id`, `type`, `tenantId`, ...).
Both decode to the same `Envelope`, so consumers never care which system produced an event.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
import uuid_utils
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from fairway_schemas import TenantId

P = TypeVar("P", bound=BaseModel)

UPSTREAM_SOURCES = {"scl": "scl", "teetime": "teetime", "messaging": "messaging", "contactPreference": "messaging"}


def new_event_id() -> str:
    """UUIDv7: time-ordered, so ids sort by creation and index well."""
    return str(uuid_utils.uuid7())


def utcnow() -> datetime:
    return datetime.now(UTC)


# The type of a null record on a compacted state topic (see Outbox.tombstone_row); its payload is StateTombstone.
TOMBSTONE = "state.tombstone"


class Envelope(BaseModel, Generic[P]):
    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default_factory=new_event_id, min_length=1, max_length=200)
    event_type: str
    version: int = Field(ge=1)
    tenant_id: TenantId
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    aggregate_id: str = Field(min_length=1)
    source: str
    payload: P

    def to_wire(self) -> bytes:
        # serialize_as_any: the payload is declared as a base model but carries its own type's fields.
        return self.model_dump_json(serialize_as_any=True).encode()

    def wire_headers(self) -> dict[str, str]:
        """Routing facts duplicated into headers so tools can filter without parsing bodies."""
        return {"event_type": self.event_type, "version": str(self.version), "tenant_id": self.tenant_id}


@dataclass(frozen=True, slots=True)
class RawEvent:
    """A decoded but not yet validated event: the registry turns it into a typed Envelope."""

    event_id: str
    event_type: str
    version: int
    tenant_id: Any
    occurred_at: Any
    aggregate_id: str
    source: str
    payload: dict[str, Any]


class DecodeError(ValueError):
    """The bytes are not an event at all (not JSON, not an object, no type)."""


def parse_json(value: bytes | None) -> dict[str, Any]:
    if not value:
        raise DecodeError("empty message")
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"malformed JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise DecodeError("event must be a JSON object")
    return body


def event_type_of(body: dict[str, Any]) -> str:
    t = body.get("event_type", body.get("type"))
    if not isinstance(t, str):
        raise DecodeError("no event type: neither 'event_type' nor 'type' present")
    return t


def is_upstream(body: dict[str, Any]) -> bool:
    return "event_type" not in body


def upstream_version(body: dict[str, Any], headers: dict[str, str]) -> int:
    try:
        return int(body.get("version") or headers.get("version") or 1)
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"malformed envelope: version {body.get('version')!r}") from exc


def check_upstream(body: dict[str, Any]) -> None:
    if "id" not in body:
        raise DecodeError("upstream event without 'id'")
    if body.get("identity") is None:
        raise DecodeError("upstream event without 'identity'")


def upstream_source(event_type: str) -> str:
    system = event_type.split(".", 1)[0]
    return UPSTREAM_SOURCES.get(system, system)


PERSON_KEY_ORDER = ("authUserId", "sclMemberId", "teetimePlayerId", "messagingContactId", "email", "phoneNumber")


def upstream_aggregate(identity: dict[str, Any], event_id: str) -> str:
    """Upstream events key by the person's strongest id so one person's events stay ordered."""
    return next((str(identity[k]) for k in PERSON_KEY_ORDER if identity.get(k)), event_id)


def decode_raw(value: bytes | None, headers: dict[str, str] | None = None) -> RawEvent:
    return raw_from_body(parse_json(value), headers or {})


def raw_from_body(body: dict[str, Any], headers: dict[str, str]) -> RawEvent:
    event_type_of(body)
    try:
        if not is_upstream(body):
            return RawEvent(
                event_id=str(body["event_id"]),
                event_type=str(body["event_type"]),
                version=int(body.get("version", 1)),
                tenant_id=body.get("tenant_id"),
                occurred_at=body.get("occurred_at"),
                aggregate_id=str(body.get("aggregate_id") or body["event_id"]),
                source=str(body.get("source", "unknown")),
                payload=_as_dict(body.get("payload")),
            )
        check_upstream(body)
        event_type = str(body["type"])
        identity = _as_dict(body["identity"])
        return RawEvent(
            event_id=str(body["id"]),
            event_type=event_type,
            version=upstream_version(body, headers),
            tenant_id=body.get("tenantId"),
            occurred_at=body.get("timestamp"),
            aggregate_id=upstream_aggregate(identity, str(body["id"])),
            source=upstream_source(event_type),
            payload={"identity": identity, "payload": _as_dict(body.get("payload", {}))},
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, DecodeError):
            raise
        raise DecodeError(f"malformed envelope: {exc!r}") from exc


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def upstream_wire(
    *, event_id: str, event_type: str, tenant_id: str, timestamp: datetime, identity: dict[str, Any],
    payload: dict[str, Any],
) -> bytes:
    """Encode an event in the upstream contract v1 (what SCL, TeeTime and Messaging send)."""
    return json.dumps(
        {"id": event_id, "type": event_type, "tenantId": tenant_id, "timestamp": timestamp.isoformat(),
         "identity": {k: v for k, v in identity.items() if v is not None}, "payload": payload},
        default=str,
    ).encode()
