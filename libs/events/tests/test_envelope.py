import json

import pytest
from pydantic import BaseModel, ConfigDict

from fairway_events.envelope import DecodeError, decode_raw
from fairway_events.registry import EventRegistry, InvalidEvent, UnknownEventType, UnknownVersion, registry
from fairway_testkit import upstream_event


def test_upstream_event_decodes_to_typed_envelope() -> None:
    raw = decode_raw(upstream_event("teetime.booking.created", "club-a", {"email": "A@X.com", "sclMemberId": 7},
                                    {"bookingId": "b1", "players": 2}, event_id="ev-1"))
    env = registry.validate(raw)
    assert env.event_id == "ev-1" and env.tenant_id == "club-a" and env.source == "teetime"
    assert env.payload.identity.sclMemberId == "7"
    assert env.payload.payload.players == 2
    assert env.aggregate_id == "7"  # keyed by the person's strongest id


def test_envelope_round_trips_through_the_wire() -> None:
    env = registry.validate(decode_raw(upstream_event("scl.payment.received", "club-a", {"email": "a@x.com"},
                                                      {"paymentId": "p1", "amount": "120.50"})))
    again = registry.validate(decode_raw(env.to_wire()))
    assert again == env


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "malformed JSON"),
        (b"[1,2]", "JSON object"),
        (b"", "empty"),
        (json.dumps({"hello": 1}).encode(), "no event type"),
        (json.dumps({"type": "scl.member.created", "tenantId": "a", "timestamp": "2026-01-01T00:00:00Z",
                     "payload": {}}).encode(), "without 'id'"),
        (json.dumps({"id": "1", "type": "scl.member.created", "tenantId": "a",
                     "timestamp": "2026-01-01T00:00:00Z", "payload": {}}).encode(), "without 'identity'"),
    ],
)
def test_malformed_bytes_are_rejected_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_raw(raw)


def test_unknown_type_and_version_are_rejected() -> None:
    with pytest.raises(UnknownEventType):
        registry.validate(decode_raw(upstream_event("scl.member.exploded", "a", {"email": "a@x.com"})))
    body = json.loads(upstream_event("scl.member.created", "a", {"email": "a@x.com"}))
    body["version"] = 9
    with pytest.raises(UnknownVersion, match="v9"):
        registry.validate(decode_raw(json.dumps(body).encode()))


def test_empty_identity_is_invalid_for_person_events() -> None:
    with pytest.raises(InvalidEvent, match="at least one key"):
        registry.validate(decode_raw(upstream_event("teetime.round.played", "a", {"email": ""}, {"roundId": "r"})))


def test_invalid_payload_names_the_field() -> None:
    with pytest.raises(InvalidEvent, match=r"payload\.amount"):
        registry.validate(decode_raw(upstream_event("scl.payment.received", "a", {"email": "a@x.com"},
                                                    {"paymentId": "p", "amount": "-3"})))


def test_bad_tenant_is_invalid() -> None:
    with pytest.raises(InvalidEvent, match="tenant_id"):
        registry.validate(decode_raw(upstream_event("scl.member.created", "Not A Tenant!", {"email": "a@x.com"})))


class GreetingV1(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str


class GreetingV2(BaseModel):
    model_config = ConfigDict(frozen=True)
    first_name: str
    last_name: str = ""


class GreetingV3(BaseModel):
    model_config = ConfigDict(frozen=True)
    first_name: str
    last_name: str
    formal: bool


def _registry() -> EventRegistry:
    reg = EventRegistry()
    reg.register("greeting", 1, GreetingV1, "crm.identity")
    reg.register("greeting", 2, GreetingV2, "crm.identity")
    reg.register("greeting", 3, GreetingV3, "crm.identity")

    @reg.upcaster("greeting", 1)
    def upcast_v1_v2(p: dict) -> dict:
        first, _, last = p.pop("name").partition(" ")
        return {"first_name": first, "last_name": last}

    @reg.upcaster("greeting", 2)
    def upcast_v2_v3(p: dict) -> dict:
        return {**p, "formal": False}

    return reg


def _raw(version: int, payload: dict) -> bytes:
    return json.dumps({"event_id": "e", "event_type": "greeting", "version": version, "tenant_id": "a",
                       "occurred_at": "2026-01-01T00:00:00+00:00", "aggregate_id": "x", "source": "t",
                       "payload": payload}).encode()


def test_upcaster_v1_to_v2() -> None:
    reg = _registry()
    assert reg.upcast("greeting", 1, {"name": "Ada Lovelace"}) == {"first_name": "Ada", "last_name": "Lovelace",
                                                                   "formal": False}


def test_upcaster_v2_to_v3() -> None:
    env = _registry().validate(decode_raw(_raw(2, {"first_name": "Ada", "last_name": "L"})))
    assert env.version == 3 and env.payload == GreetingV3(first_name="Ada", last_name="L", formal=False)


def test_missing_upcaster_is_an_unknown_version() -> None:
    reg = EventRegistry()
    reg.register("greeting", 1, GreetingV1, "crm.identity")
    reg.register("greeting", 2, GreetingV2, "crm.identity")
    with pytest.raises(UnknownVersion, match="no upcaster"):
        reg.validate(decode_raw(_raw(1, {"name": "Ada"})))


def test_models_are_frozen() -> None:
    env = registry.validate(decode_raw(upstream_event("scl.member.created", "a", {"email": "a@x.com"})))
    with pytest.raises(Exception):
        env.tenant_id = "b"  # type: ignore[misc]


# -- the one-pass path the consumers use must agree with the general path ------------------------------------
def _both(value: bytes) -> tuple:
    from fairway_events.envelope import parse_json

    def run(f):  # noqa: ANN001, ANN202
        try:
            return f()
        except Exception as exc:  # noqa: BLE001 (comparing failures too)
            return type(exc)

    body = parse_json(value)
    return run(lambda: registry.from_wire(value, body, {})), run(lambda: registry.validate(decode_raw(value)))


@pytest.mark.parametrize("event", [
    upstream_event("scl.member.created", "club-a", {"sclMemberId": 7, "email": "A@x.com"},
                   {"firstName": "Jo", "dateOfBirth": "1980-02-03", "membershipTier": "Gold"}),
    upstream_event("scl.payment.received", "club-a", {"email": "a@x.com"}, {"paymentId": 1, "amount": "12.5"}),
    upstream_event("teetime.competition.published", "club-a", {}, {"competitionId": "c", "name": "Champs",
                                                                   "startsAt": "2026-12-01T08:00:00Z"}),
    upstream_event("teetime.competition.updated", "club-a", {}, {"competitionId": "c", "name": "Champs",
                                                                 "startsAt": "2026-12-02T08:00:00Z", "capacity": 40,
                                                                 "changed": ["startsAt"]}),
    upstream_event("teetime.competition.entry_created", "club-a", {"teetimePlayerId": "T1"},
                   {"competitionId": "c", "entryId": 5, "entries": 12, "capacity": 40}),
    upstream_event("teetime.competition.full", "club-a", {}, {"competitionId": "c", "capacity": 40, "entries": 40}),
    upstream_event("contactPreference.updated", "club-a", {"messagingContactId": "MC-1"}, {"emailOptIn": False}),
    json.dumps({"id": 123, "type": "teetime.round.played", "tenantId": "club-a", "timestamp": "2026-01-01T00:00:00Z",
                "identity": {"teetimePlayerId": "T1"}, "payload": {"roundId": 9, "extra": "ignored"}}).encode(),
])
def test_one_pass_decoding_equals_the_general_path(event: bytes) -> None:
    fast, general = _both(event)
    assert fast == general
    assert fast.payload.model_dump() == general.payload.model_dump()


@pytest.mark.parametrize("event", [
    upstream_event("scl.payment.received", "club-a", {"email": "a@x.com"}, {"paymentId": "p", "amount": "-3"}),
    upstream_event("teetime.round.played", "club-a", {"email": ""}, {"roundId": "r"}),
    upstream_event("teetime.competition.entry_cancelled", "club-a", {}, {"competitionId": "c", "entryId": "e"}),
    upstream_event("scl.member.created", "Bad Tenant", {"email": "a@x.com"}),
    json.dumps({"id": "1", "type": "scl.member.created", "tenantId": "a", "timestamp": "yesterday",
                "identity": {"email": "a@x.com"}, "payload": {}}).encode(),
])
def test_one_pass_decoding_rejects_what_the_general_path_rejects(event: bytes) -> None:
    fast, general = _both(event)
    assert fast is InvalidEvent and general is InvalidEvent
