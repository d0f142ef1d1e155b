"""`fairway reannounce` drives each owner's state admin API until nothing is pending (against a local HTTP server
speaking that API; the owners' side is tested in identity's state-topic test)."""

import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fairway_cli.reannounce import reannounce
from fairway_localinfra import free_port


@pytest.fixture
def owner():
    seen: dict[str, object] = {"pending": 0, "auth": None}

    async def flag(request: Request) -> JSONResponse:
        seen["auth"] = request.headers.get("authorization")
        seen["pending"] = 5
        return JSONResponse({"topics": {"crm.identity.state": 5}})

    async def pending(request: Request) -> JSONResponse:
        seen["pending"] = max(0, int(seen["pending"]) - 2)  # the publisher works through them
        return JSONResponse({"topics": {"crm.identity.state": seen["pending"]}})

    app = Starlette(routes=[Route("/api/v1/admin/state/reannounce", flag, methods=["POST"]),
                            Route("/api/v1/admin/state", pending)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", seen
    server.should_exit = True
    thread.join(10)


def test_reannounce_waits_until_every_snapshot_is_out(owner) -> None:
    url, seen = owner
    assert reannounce("demo", {"identity": url}, "tok-123", progress=False) == 5
    assert seen["pending"] == 0 and seen["auth"] == "Bearer tok-123"


def test_reannounce_gives_up_with_what_is_left(owner) -> None:
    url, seen = owner
    seen["stuck"] = True

    with pytest.raises(TimeoutError, match="still unannounced"):
        reannounce("demo", {"identity": url, "again": url}, "tok", timeout=0, progress=False)
