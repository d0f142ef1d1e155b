"""Valid legacy records as upstream messages: the event types SCL, TeeTime and Messaging publish, at the
records' historic times, so identity, timeline and ml-scoring take them in exactly like live traffic.

Event ids are uuid5 of tenant, region, entity, legacy id and the record's own key (its activity id, its consent
flag and time, ...), plus an occurrence number for identical records: the same export gives the same ids, so a
second or interrupted run is dropped by every consumer's inbox. The file's format (CSV or JSON Lines) and the
record's line are not part of the id, so a corrected and re-exported file does not duplicate its good rows.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fairway_cli.backfill.records import Export, Person, Record
from fairway_events.envelope import upstream_wire

NAMESPACE = uuid.UUID("0b7e3c53-2f7a-4d52-9a61-3c4f1e8b5d20")
SCL, TEETIME, MESSAGING = "scl.events", "teetime.events", "messaging.events"
KEY_ORDER = ("email", "phoneNumber", "sclMemberId", "teetimePlayerId", "messagingContactId")
# Notes and tags have no upstream event yet: identity takes tags only from staff (PATCH) and timeline notes only
# from its API, neither with the record's historic time or an idempotent id. They are validated and counted.
HELD_BACK = {"notes": "no upstream event carries staff notes yet (timeline takes notes only through its API)",
             "tags": "no upstream event carries tags yet (identity takes tags only from staff edits)"}

ACTIVITY_EVENTS: dict[str, tuple[str, str, str]] = {  # type -> (topic, event type, id field)
    "booking": (TEETIME, "teetime.booking.created", "bookingId"),
    "booking_cancelled": (TEETIME, "teetime.booking.cancelled", "bookingId"),
    "round": (TEETIME, "teetime.round.played", "roundId"),
    "purchase": (TEETIME, "teetime.purchase.completed", "purchaseId"),
    "handicap": (TEETIME, "teetime.handicap.updated", ""),
    "payment": (SCL, "scl.payment.received", "paymentId"),
    "email_sent": (MESSAGING, "messaging.email.sent", "messageId"),
    "email_delivered": (MESSAGING, "messaging.email.delivered", "messageId"),
    "email_opened": (MESSAGING, "messaging.email.opened", "messageId"),
    "email_clicked": (MESSAGING, "messaging.email.clicked", "messageId"),
    "sms_sent": (MESSAGING, "messaging.sms.sent", "messageId"),
}


@dataclass(frozen=True, slots=True)
class Message:
    entity: str
    legacy_id: str
    event_id: str
    event_type: str
    topic: str
    key: bytes
    value: bytes  # only the encoded event is kept: an import of a million activities holds them all at once


class _Ids:
    def __init__(self, tenant: str, region: str) -> None:
        self.prefix = f"{tenant}|{region}"
        self.seen: Counter[str] = Counter()

    def __call__(self, entity: str, legacy_id: str, key: str) -> str:
        name = f"{self.prefix}|{entity}|{legacy_id}|{key}"
        self.seen[name] += 1
        return str(uuid.uuid5(NAMESPACE, f"{name}|{self.seen[name]}"))


def person_key(identity: dict[str, str]) -> bytes:
    """The Kafka key: the person's first key, so the same person in two exports shares a partition."""
    return next(identity[k] for k in KEY_ORDER if k in identity).encode()


def _message(tenant: str, entity: str, legacy_id: str, event_id: str, event_type: str, topic: str, at: datetime,
             identity: dict[str, str], payload: dict[str, Any]) -> Message:
    payload = {k: v for k, v in payload.items() if v is not None}
    value = upstream_wire(event_id=event_id, event_type=event_type, tenant_id=tenant, timestamp=at,
                          identity=identity, payload=payload)
    return Message(entity, legacy_id, event_id, event_type, topic, person_key(identity), value)


def people_messages(export: Export, tenant: str) -> list[Message]:
    ids = _Ids(tenant, export.region)
    out = []
    for p in export.people.values():
        out.extend(_person(tenant, ids, p))
    return out


def _person(tenant: str, ids: _Ids, p: Person) -> Iterator[Message]:
    """One event per person: a TeeTime player (with the handicap) when only TeeTime knew them, else an SCL member."""
    a = p.attributes
    if "teetimePlayerId" in p.identity and "sclMemberId" not in p.identity:
        yield _message(tenant, "people", p.legacy_id, ids("people", p.legacy_id, ""), "teetime.player.created",
                       TEETIME, p.at, p.identity, {"firstName": a.get("firstName"), "lastName": a.get("lastName"),
                                                   "homeClub": a.get("homeClub"), "handicap": p.handicap})
        return
    yield _message(tenant, "people", p.legacy_id, ids("people", p.legacy_id, ""), "scl.member.created", SCL, p.at,
                   p.identity, dict(a))


def record_messages(export: Export, tenant: str) -> list[Message]:
    """Everything after the people. An SCL member's handicap comes here too (SCL does not carry handicaps,
    TeeTime's event does): on another topic it could reach identity before the person's own event."""
    ids = _Ids(tenant, export.region)
    out = [_message(tenant, "people", p.legacy_id, ids("people", p.legacy_id, "handicap"), "teetime.handicap.updated",
                    TEETIME, p.at, p.identity, {"handicap": p.handicap})
           for p in export.people.values() if p.handicap is not None and "sclMemberId" in p.identity
           or p.handicap is not None and "teetimePlayerId" not in p.identity]
    for r in export.records:
        if r.entity in HELD_BACK:
            continue
        identity = export.people[r.legacy_id].identity
        for event_type, topic, at, payload in _record(r):
            out.append(_message(tenant, r.entity, r.legacy_id, ids(r.entity, r.legacy_id, f"{event_type}|{r.key}"),
                                event_type, topic, at, identity, payload))
    return out


def _record(r: Record) -> Iterator[tuple[str, str, datetime, dict[str, Any]]]:
    f = r.fields
    if r.entity == "memberships":
        yield "scl.membership.renewed", SCL, r.at, {"membershipTier": f["tier"], "membershipExpiry": f["expires"],
                                                   "amount": f.get("amount"), "currency": f["currency"]}
        if "cancelled" in f:
            yield "scl.membership.cancelled", SCL, datetime.fromisoformat(f["cancelled"]), {
                "reason": f["reason"], "effectiveDate": f["cancelled"][:10]}
    elif r.entity == "consent":  # accepted only as Messaging's mirror would be: Messaging's own event
        yield "contactPreference.updated", MESSAGING, r.at, {f["flag"]: f["value"]}
    elif r.entity == "activities":
        topic, event_type, id_field = ACTIVITY_EVENTS[f["type"]]
        payload: dict[str, Any] = {id_field: r.key} if id_field else {}
        kind = f["type"]
        if kind == "booking":
            payload |= {"teeTime": r.at.isoformat(), "courseName": f.get("course"), "players": f.get("players", 1),
                        "amount": f.get("amount")}
        elif kind == "booking_cancelled":
            payload["reason"] = f.get("description")
        elif kind == "round":
            payload |= {"courseName": f.get("course"), "holes": f.get("holes", 18), "score": f.get("score")}
        elif kind == "purchase":
            payload |= {"amount": f["amount"], "currency": f["currency"], "quantity": 1,
                        "category": f.get("description")}
        elif kind == "payment":
            payload |= {"amount": f["amount"], "currency": f["currency"], "description": f.get("description")}
        elif kind == "handicap":
            payload["handicap"] = f["handicap"]
        elif kind.startswith("email"):
            payload["subject"] = f.get("subject")
        yield event_type, topic, r.at, payload
