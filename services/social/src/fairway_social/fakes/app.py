"""One Starlette app serving every fake platform: Facebook Login + Graph API (`/v19.0/...`), X (`/i/oauth2/...`,
`/2/...`) and the control API (`/_fake/...`). Fairway reaches each through its own base-URL setting, so pointing
it at the real hosts is a configuration change."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fairway_social.fakes import control, facebook, x
from fairway_social.fakes.state import State


def create_fake_app(state: State | None = None) -> Starlette:
    state = state or State()

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "fake": "social platforms"})

    # Order matters: the Graph API's catch-all `/{version}/{path}` comes last.
    app = Starlette(routes=[Route("/healthz", health), *control.routes(state), *x.routes(state),
                            *facebook.routes(state)])
    app.state.fake = state
    return app
