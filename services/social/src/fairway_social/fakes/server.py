"""Run the fake platforms inside the current event loop (tests) as a real HTTP server on a free local port."""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from fairway_social.fakes.app import create_fake_app
from fairway_social.fakes.state import State


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakePlatformsServer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port()
        self.state = State()
        self.app = create_fake_app(self.state)
        self._server = uvicorn.Server(uvicorn.Config(self.app, host=host, port=self.port, log_level="warning",
                                                     lifespan="off", access_log=False, timeout_keep_alive=120))
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def control(self, path: str, body: Any) -> Any:
        """POST to the control API over HTTP, as a test or a demo script would."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            r = await client.post(f"/_fake/{path}", json=body)
            r.raise_for_status()
            return r.json()

    async def start(self) -> FakePlatformsServer:
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(500):
            if self._server.started:
                return self
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("fake platforms did not start")

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task:
            await self._task

    async def __aenter__(self) -> FakePlatformsServer:
        return await self.start()

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
