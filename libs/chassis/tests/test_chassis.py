from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, ClassVar

import jwt
import pytest
from fastapi import APIRouter, Depends
from pydantic import BaseModel, EmailStr, ValidationError
from sqlalchemy import text

from fairway_chassis import (
    API_ERRORS,
    Conflict,
    ConsumerSpec,
    CurrentPrincipal,
    Principal,
    ServiceDefinition,
    ServiceSettings,
    SessionDep,
    create_service,
    error_responses,
    field_errors,
    require_roles,
    runtime_state,
)
from fairway_events import Dispatch, outbox, registry
from fairway_events.contracts.messaging_out import Recipient, SendRequested
from fairway_testkit import TEST_JWT_SECRET, auth_headers, run_service

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "campaigns" / "migrations"


class DemoSettings(ServiceSettings):
    service_name: ClassVar[str] = "demo"
    default_port: ClassVar[int] = 8999


class Thing(BaseModel):
    name: str
    email: EmailStr


@dataclass
class DemoState:
    """A service's typed state on the runtime (instead of a string-keyed bag)."""

    greeting: str = "hello"
    calls: list[str] = field(default_factory=list)


StateDep = Annotated[DemoState, Depends(runtime_state(DemoState))]
Admin = Annotated[Principal, require_roles("admin")]
router = APIRouter(prefix="/api/v1/things", responses=error_responses(*API_ERRORS))


class Greeting(BaseModel):
    greeting: str
    calls: int


@router.get("/greeting")
async def greeting(state: StateDep, principal: CurrentPrincipal) -> Greeting:
    state.calls.append(principal.subject)
    return Greeting(greeting=state.greeting, calls=len(state.calls))


@router.post("", status_code=201)
async def create(thing: Thing, session: SessionDep, principal: CurrentPrincipal) -> dict:
    if thing.name == "dup":
        raise Conflict("a thing with that name exists")
    value = (await session.execute(text("SELECT 41 + 1"))).scalar()
    return {"tenant": principal.tenant_id, "answer": value, "name": thing.name}


@router.post("/{name}/announce", status_code=202)
async def announce(name: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    env = registry.envelope(SendRequested(requestId=name, channel="SMS", recipient=Recipient(profileId=name), body="hi"),
                            tenant_id=principal.tenant_id, aggregate_id=name, source="demo")
    await outbox.append(session, env)
    return {"event_id": env.event_id}


@router.delete("/{name}", responses=error_responses(404))
async def delete(name: str, principal: Admin) -> dict:
    return {"deleted": name}


def make_app(settings_for):  # noqa: ANN001, ANN201
    return create_service(ServiceDefinition(name="demo", settings=settings_for(DemoSettings), migrations_dir=MIGRATIONS,
                                            routers=[router], state=DemoState()))


def test_settings_refuse_bad_config() -> None:
    with pytest.raises(ValidationError, match="jwt_secret"):
        DemoSettings(jwt_secret="changeme")
    with pytest.raises(ValidationError, match="PostgreSQL"):
        DemoSettings(jwt_secret="x" * 40, database_url="mysql://x/y")
    with pytest.raises(ValidationError, match="host:port"):
        DemoSettings(jwt_secret="x" * 40, kafka_bootstrap="localhost")
    s = DemoSettings(jwt_secret="x" * 40)
    assert s.port == 8999 and s.db_name == "fairway_demo"


def test_service_prefix_wins_over_platform_env(monkeypatch: pytest.MonkeyPatch) -> None:
    class IdentityLike(DemoSettings):
        model_config = {"env_prefix": "FAIRWAY_DEMO_", "extra": "ignore"}

    monkeypatch.setenv("FAIRWAY_JWT_SECRET", "p" * 40)
    monkeypatch.setenv("FAIRWAY_KAFKA_BOOTSTRAP", "platform:9092")
    monkeypatch.setenv("FAIRWAY_DEMO_KAFKA_BOOTSTRAP", "mine:9093")
    s = IdentityLike()
    assert s.kafka_bootstrap == "mine:9093" and s.jwt_secret == "p" * 40


async def test_http_contract(settings_for) -> None:  # noqa: ANN001
    async with run_service(make_app(settings_for)) as svc:
        http = svc.http
        assert (await http.get("/healthz")).json()["status"] == "ok"
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "ok"}

        r = await http.post("/api/v1/things", json={"name": "a", "email": "a@x.com"})
        assert r.status_code == 401 and r.json()["error"] == "Unauthorized"
        bad = jwt.encode({"sub": "x", "tenant": "club-a", "exp": 9999999999}, "wrong-secret" * 4)
        r = await http.post("/api/v1/things", json={"name": "a", "email": "a@x.com"},
                            headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401
        expired = jwt.encode({"sub": "x", "tenant": "club-a", "exp": 1}, TEST_JWT_SECRET)
        r = await http.post("/api/v1/things", json={"name": "a", "email": "a@x.com"},
                            headers={"Authorization": f"Bearer {expired}"})
        assert r.status_code == 401 and "expired" in r.json()["detail"]

        r = await http.post("/api/v1/things", json={"name": "a", "email": "a@x.com"},
                            headers=auth_headers("club-a", ["staff"]))
        assert r.status_code == 201 and r.json() == {"tenant": "club-a", "answer": 42, "name": "a"}

        r = await http.post("/api/v1/things", json={"name": "a", "email": "not-an-email"},
                            headers=auth_headers("club-a", ["staff"]))
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.email"
        r = await http.post("/api/v1/things", content=b"{broken", headers={**auth_headers("club-a"),
                                                                            "content-type": "application/json"})
        assert r.status_code == 422
        r = await http.post("/api/v1/things", json={"name": "dup", "email": "a@x.com"}, headers=auth_headers("club-a"))
        assert r.status_code == 409 and r.json() == {"error": "Conflict", "detail": "a thing with that name exists"}

        r = await http.delete("/api/v1/things/a", headers=auth_headers("club-a", ["staff"]))
        assert r.status_code == 403 and r.json()["error"] == "Forbidden"
        r = await http.delete("/api/v1/things/a", headers=auth_headers("club-a", ["admin"]))
        assert r.status_code == 200
        assert (await http.get("/api/v1/nothing-here")).status_code == 404

        metrics = (await http.get("/metrics")).text
        assert 'fairway_http_requests_total{method="POST",route="/api/v1/things",service="demo",status="201"}' in metrics
        r = await http.get("/api/v1/things/greeting", headers=auth_headers("club-a", ["staff"]))
        assert r.json() == {"greeting": "hello", "calls": 1} and svc.runtime.state.calls == ["tester"]

        spec = (await http.get("/openapi.json")).json()
        assert "/api/v1/things" in spec["paths"]
        # every error the route can answer is documented with the real body, the 422 with its field list
        responses = spec["paths"]["/api/v1/things/{name}"]["delete"]["responses"]
        assert set(responses) == {"200", "401", "403", "404", "413", "422"}
        assert responses["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
        assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrorBody")
        assert set(spec["components"]["schemas"]["FieldError"]["required"]) == {"field", "message"}
        assert "HTTPValidationError" not in spec["components"]["schemas"]
        assert (await http.get("/asyncapi.json")).json()["asyncapi"].startswith("3.")


async def test_asyncapi_lists_the_events_a_service_publishes_and_consumes(settings_for) -> None:  # noqa: ANN001
    dispatch = Dispatch()

    @dispatch.on("scl.member.created")
    async def noop(session, env) -> None:  # noqa: ANN001
        return None

    # Named like a service that owns a topic: its publications come from the catalogue and the registry.
    settings = settings_for(DemoSettings)
    app = create_service(ServiceDefinition(
        name="identity", settings=settings, migrations_dir=MIGRATIONS,
        consumers=[ConsumerSpec(name="identity.test", topics=["scl.events"], handler=dispatch, handles=dispatch.types)]))
    async with run_service(app) as svc:
        doc = (await svc.http.get("/asyncapi.json")).json()
    assert "profile.merged v1" in doc["channels"]  # published via the outbox
    assert doc["channels"]["identity.test"]["address"] == settings.topic_prefix + "scl.events"  # consumed


async def test_http_trace_context_reaches_the_outbox_row(settings_for) -> None:  # noqa: ANN001
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with run_service(make_app(settings_for)) as svc:
        r = await svc.http.post("/api/v1/things/x/announce", headers={
            **auth_headers("club-a"), "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
        assert r.status_code == 202
        async with svc.runtime.engine.connect() as conn:
            headers = (await conn.execute(text("SELECT headers FROM event_outbox WHERE event_id = :e"),
                                          {"e": r.json()["event_id"]})).scalar_one()
    assert headers["traceparent"].split("-")[1] == trace_id
    assert headers["tenant_id"] == "club-a"


def test_field_errors_name_each_field_where_it_sits_in_the_request() -> None:
    with pytest.raises(ValidationError) as err:
        Thing.model_validate({"name": 3, "email": "nope"})
    assert [e["field"] for e in field_errors(err.value, ("body",))] == ["body.name", "body.email"]
    assert field_errors(err.value)[0] == {"field": "name", "message": "Input should be a valid string"}


async def test_readyz_fails_naming_the_group_and_partition_of_a_stuck_consumer(settings_for, producer) -> None:  # noqa: ANN001
    from fairway_events import Retryable
    from fairway_testkit import upstream_event, wait_for

    stuck = {"on": True}
    dispatch = Dispatch()

    @dispatch.on("scl.member.created")
    async def needs_a_read_model(session, env) -> None:  # noqa: ANN001
        if stuck["on"]:
            raise Retryable("the tier is not known yet")

    app = create_service(ServiceDefinition(
        name="demo", settings=settings_for(DemoSettings), migrations_dir=MIGRATIONS,
        consumers=[ConsumerSpec(name="demo.members", topics=["scl.events"], handler=dispatch,
                                handles=dispatch.types)]))
    async with run_service(app) as svc:
        assert (await svc.http.get("/readyz")).status_code == 200
        topics = svc.runtime.topics
        sent = await producer.send_and_wait(topics("scl.events"), upstream_event(
            "scl.member.created", "stonehaven", {"email": "iain.fraser@stonehavengolf.co.uk"},
            {"membershipNumber": "SH-1044", "membershipTier": "full"}), key=b"iain")

        async def not_ready() -> dict | None:
            r = await svc.http.get("/readyz")
            return r.json() if r.status_code == 503 else None

        body = await wait_for(not_ready, what="/readyz to report the stuck consumer")
        check = body["checks"]["consumer demo.members"]
        assert topics.group("demo.members") in check and f"{sent.topic}/{sent.partition}" in check
        assert body["checks"]["database"] == "ok"
        stuck["on"] = False
        await wait_for(lambda: _ready(svc), what="/readyz green again once the consumer moves")


async def _ready(svc) -> bool:  # noqa: ANN001
    return (await svc.http.get("/readyz")).status_code == 200
