"""One error tree for every service, rendered as {"error": "ClassName", "detail": ...}."""
from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger("fairway.http")


class FairwayError(Exception):
    status_code = 500

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail)
        self.detail = detail if detail is not None else self.__class__.__doc__


class BadRequest(FairwayError):
    """The request cannot be processed as sent."""

    status_code = 400


class Unauthorized(FairwayError):
    """Missing or invalid credentials."""

    status_code = 401


class Forbidden(FairwayError):
    """The credentials do not allow this."""

    status_code = 403


class NotFound(FairwayError):
    """No such resource."""

    status_code = 404


class Conflict(FairwayError):
    """The request conflicts with the current state."""

    status_code = 409


class Unprocessable(FairwayError):
    """The request is well-formed but invalid; `field` names the part at fault."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__([{"field": field, "message": message}] if field else message)


class ServiceUnavailable(FairwayError):
    """A dependency is not reachable right now."""

    status_code = 503


def _render(exc: FairwayError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse({"error": type(exc).__name__, "detail": exc.detail}, status_code=exc.status_code,
                        headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FairwayError)
    async def _fairway(_: Request, exc: FairwayError) -> JSONResponse:
        return _render(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()
        ]
        return JSONResponse({"error": "ValidationError", "detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthorized", 403: "Forbidden"}.get(
            exc.status_code, "HTTPError")
        return JSONResponse({"error": name, "detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", error=repr(exc))
        return JSONResponse({"error": "InternalError", "detail": "internal error"}, status_code=500)
