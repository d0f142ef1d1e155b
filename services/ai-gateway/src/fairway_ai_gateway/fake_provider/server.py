"""Run the fake provider inside the current event loop (tests) on a free local port."""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType

import uvicorn

from fairway_ai_gateway.fake_provider.app import FakeState, create_fake_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeProviderServer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port()
        self.state = FakeState()
        self.app = create_fake_app(self.state)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=host,
                port=self.port,
                log_level="warning",
                lifespan="off",
                timeout_keep_alive=120,
                access_log=False,
            )
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> FakeProviderServer:
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(200):
            if self._server.started:
                return self
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("fake provider did not start")

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task:
            await self._task

    async def __aenter__(self) -> FakeProviderServer:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
