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


def decode_raw(value: bytes | None, headers: dict[str, str] | None = None) -> RawEvent:
    headers = headers or {}
    if not value:
        raise DecodeError("empty message")
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"malformed JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise DecodeError("event must be a JSON object")
    try:
        if "event_type" in body:
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
        if "type" in body:
            return _decode_upstream(body, headers)
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodeError(f"malformed envelope: {exc!r}") from exc
    raise DecodeError("no event type: neither 'event_type' nor 'type' present")


def _decode_upstream(body: dict[str, Any], headers: dict[str, str]) -> RawEvent:
    event_type = str(body["type"])
    if "id" not in body:
        raise DecodeError("upstream event without 'id'")
    identity = body.get("identity")
    if identity is None:
        raise DecodeError("upstream event without 'identity'")
    version = int(body.get("version") or headers.get("version") or 1)
    identity = _as_dict(identity)
    # Upstream events key by the person's strongest id so one person's events stay ordered.
    aggregate = next(
        (str(identity[k]) for k in ("authUserId", "sclMemberId", "teetimePlayerId", "messagingContactId", "email",
                                    "phoneNumber") if identity.get(k)),
        str(body["id"]),
    )
    return RawEvent(
        event_id=str(body["id"]),
        event_type=event_type,
        version=version,
        tenant_id=body.get("tenantId"),
        occurred_at=body.get("timestamp"),
        aggregate_id=aggregate,
        source=UPSTREAM_SOURCES.get(event_type.split(".", 1)[0], event_type.split(".", 1)[0]),
        payload={"identity": identity, "payload": _as_dict(body.get("payload", {}))},
    )


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
