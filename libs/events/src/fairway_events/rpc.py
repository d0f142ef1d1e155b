"""Request/reply over Kafka: services never call each other over HTTP.

A request goes to the responder's request topic with a correlation id, the reply topic and a deadline in
its headers. The responder answers on the reply topic, keyed by correlation id. Each requesting process
reads every partition of the reply topic from the end and completes the future waiting for that id.
Errors cross the wire typed: `{"ok": false, "error": {"type": ..., "message": ...}}`.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from fairway_events.catalogue import TopicNames
from fairway_events.tracing import consume_span, current_trace_headers, headers_to_dict

log = structlog.get_logger("fairway.rpc")

REPLY_TOPIC = "fairway.replies"


class RpcError(Exception):
    """Base of request/reply errors."""


class RpcTimeout(RpcError):
    pass


class RemoteError(RpcError):
    """The responder raised; `type` is its error class name, `message` its text."""

    def __init__(self, type_: str, message: str, detail: Any = None) -> None:
        super().__init__(f"{type_}: {message}")
        self.type = type_
        self.message = message
        self.detail = detail


class UnknownOperation(RpcError):
    pass


class RequestRejected(RpcError):
    """Raise in a responder for a request that is wrong (bad input): the caller gets it typed."""

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.detail = detail


Operation = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class RpcClient:
    def __init__(self, bootstrap: str, producer: AIOKafkaProducer, topics: TopicNames) -> None:
        self.bootstrap = bootstrap
        self.producer = producer
        self.topics = topics
        self.reply_topic = topics(REPLY_TOPIC)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await self._consumer.start()
        parts = self._consumer.partitions_for_topic(self.reply_topic)
        if not parts:
            await self._consumer._client.force_metadata_update()  # topic created after start
            parts = self._consumer.partitions_for_topic(self.reply_topic) or {0}
        tps = [TopicPartition(self.reply_topic, p) for p in parts]
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:  # resolve positions now, so replies to requests sent next are not skipped
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._read_replies())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await self._consumer.stop()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(RpcError("client stopped"))

    async def _read_replies(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    cid = headers_to_dict(r.headers).get("fw-correlation-id")
                    fut = self._pending.pop(cid, None) if cid else None
                    if fut is not None and not fut.done():
                        try:
                            fut.set_result(json.loads(r.value))
                        except (ValueError, TypeError) as exc:
                            fut.set_exception(RpcError(f"unreadable reply: {exc}"))

    async def request(
        self, topic: str, operation: str, tenant_id: str, payload: dict[str, Any], *, timeout: float = 30.0
    ) -> dict[str, Any]:
        correlation_id = str(uuid.uuid4())
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = fut
        headers = {
            "fw-correlation-id": correlation_id,
            "fw-reply-to": self.reply_topic,
            "fw-deadline": f"{time.time() + timeout:.3f}",
            "fw-operation": operation,
            "tenant_id": tenant_id,
            **current_trace_headers(),
        }
        body = json.dumps({"operation": operation, "tenant_id": tenant_id, "payload": payload}, default=str)
        try:
            await self.producer.send_and_wait(
                self.topics(topic), value=body.encode(), key=tenant_id.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
            reply = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise RpcTimeout(f"{operation} got no reply within {timeout}s") from None
        finally:
            self._pending.pop(correlation_id, None)
        if reply.get("ok"):
            return reply["result"]
        err = reply.get("error") or {}
        if err.get("type") == "UnknownOperation":
            raise UnknownOperation(err.get("message", operation))
        raise RemoteError(err.get("type", "Error"), err.get("message", ""), err.get("detail"))


class RpcServer:
    """Answers requests on one topic. Requests run concurrently (bounded); an expired request is dropped."""

    def __init__(self, name: str, topic: str, topics: TopicNames, *, producer: AIOKafkaProducer | None = None,
                 concurrency: int = 32) -> None:
        self.name = name
        self.topic = topic
        self.producer = producer  # bound when the service starts
        self.topics = topics
        self.operations: dict[str, Operation] = {}
        self._sem = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def operation(self, name: str) -> Callable[[Operation], Operation]:
        def deco(fn: Operation) -> Operation:
            self.operations[name] = fn
            return fn

        return deco

    def attach(self, broker: KafkaBroker) -> None:
        @broker.subscriber(self.topics(self.topic), group_id=self.topics.group(f"{self.name}.rpc"), auto_offset_reset="latest", no_reply=True,
                           title=f"{self.name}:rpc", description=f"operations: {sorted(self.operations)}")
        async def on_request(msg: KafkaMessage) -> None:
            record = msg.raw_message
            task = asyncio.create_task(self.handle(record.value, headers_to_dict(record.headers)))  # type: ignore[union-attr]
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def handle(self, value: bytes, headers: dict[str, str]) -> None:
        cid, reply_to = headers.get("fw-correlation-id"), headers.get("fw-reply-to")
        if not cid or not reply_to:
            log.warning("request without correlation id or reply topic; dropped")
            return
        deadline = float(headers.get("fw-deadline") or 0)
        if deadline and time.time() > deadline:
            log.info("request expired before handling; dropped", correlation_id=cid)
            return
        async with self._sem:
            reply: dict[str, Any]
            try:
                req = json.loads(value)
                op = self.operations.get(req.get("operation"))
                if op is None:
                    raise UnknownOperation(f"unknown operation {req.get('operation')!r}")
                with consume_span(f"rpc {req['operation']}", headers, tenant_id=str(req.get("tenant_id"))):
                    result = await op(str(req["tenant_id"]), req.get("payload") or {})
                reply = {"ok": True, "result": result}
            except Exception as exc:  # every failure goes back typed; the caller decides
                detail = getattr(exc, "detail", None)
                if not isinstance(exc, RpcError):
                    log.exception("rpc operation failed", correlation_id=cid)
                reply = {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc), "detail": detail}}
            assert self.producer is not None, "RpcServer.producer is bound when the service starts"
            await self.producer.send_and_wait(
                reply_to, value=json.dumps(reply, default=str).encode(), key=cid.encode(),
                headers=[("fw-correlation-id", cid.encode())],
            )
