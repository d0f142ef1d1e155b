from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from fairway_chassis.app import Runtime
from fairway_chassis.auth import issue_token
from fairway_events.catalogue import TopicNames
from fairway_events.envelope import new_event_id, upstream_wire
from fairway_events.registry import registry

TEST_JWT_SECRET = "test-" + secrets.token_hex(24)
T = TypeVar("T")


def token(tenant: str, roles: tuple[str, ...] | list[str] = ("admin",), subject: str = "tester") -> str:
    return issue_token(TEST_JWT_SECRET, tenant=tenant, roles=list(roles), subject=subject)


def auth_headers(tenant: str, roles: tuple[str, ...] | list[str] = ("admin",), subject: str = "tester") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(tenant, roles, subject)}"}


@dataclass
class RunningService:
    app: FastAPI
    http: httpx.AsyncClient

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime


@contextlib.asynccontextmanager
async def run_service(app: FastAPI) -> AsyncIterator[RunningService]:
    """Start a service in-process as its process would (migrations, broker, relay), with an HTTP client."""
    # Generous: on 2 cores shared by several test workers a start (migrations, topics, broker) can take a while.
    async with LifespanManager(app, startup_timeout=240, shutdown_timeout=60):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield RunningService(app=app, http=http)


async def wait_for(check: Callable[[], Awaitable[T]], *, timeout: float = 60.0, interval: float = 0.1,
                   what: str = "condition") -> T:
    """Poll `check` until it returns a truthy value; fail with `what` after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        last = await check()
        if last:
            return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        await asyncio.sleep(interval)


def upstream_event(event_type: str, tenant: str, identity: dict[str, Any], payload: dict[str, Any] | None = None,
                   *, event_id: str | None = None, at: datetime | None = None) -> bytes:
    return upstream_wire(event_id=event_id or new_event_id(), event_type=event_type, tenant_id=tenant,
                         timestamp=at or datetime.now(UTC), identity=identity, payload=payload or {})


async def send_upstream(producer: AIOKafkaProducer, topics: TopicNames, event_type: str, tenant: str,
                        identity: dict[str, Any], payload: dict[str, Any] | None = None, *,
                        event_id: str | None = None, at: datetime | None = None, key: str | None = None) -> str:
    """Publish one upstream event on its system's topic, as SCL, TeeTime and Messaging do; returns its id.
    Keyed by its first identity value unless `key` is given."""
    event_id = event_id or new_event_id()
    value = upstream_event(event_type, tenant, identity, payload, event_id=event_id, at=at)
    k = key or next((str(v) for v in identity.values() if v), event_id)
    await producer.send_and_wait(topics(registry.latest(event_type).topic), value, key=k.encode())
    return event_id
