"""One error tree for every service, rendered as {"error": "ClassName", "detail": ...}."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
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

    @classmethod
    def fields(cls, errors: list[dict[str, str]]) -> Unprocessable:
        """Several fields at fault at once (`field_errors(exc)`, or a list built by hand)."""
        exc = cls("invalid")
        exc.detail = errors
        return exc


class ServiceUnavailable(FairwayError):
    """A dependency is not reachable right now."""

    status_code = 503


class PayloadTooLarge(FairwayError):
    """The request body is larger than this API accepts."""

    status_code = 413


# -- the error body, as rendered and as documented in every service's OpenAPI ---------------------------------
class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error response: the error's class name and what went wrong."""

    error: str
    detail: str | list[FieldError] | None = None


class ValidationErrorBody(BaseModel):
    """A 422: each part of the request at fault, named by its location (`body.name`, `query.limit`, `cursor`)."""

    error: str
    detail: list[FieldError] | str


_DESCRIPTIONS = {
    400: "The request cannot be processed as sent",
    401: "Missing, expired or invalid bearer token",
    403: "The token's roles do not allow this",
    404: "No such resource for this tenant",
    409: "The request conflicts with the current state",
    413: "The request body is too large",
    422: "A part of the request is invalid; `detail` names each field at fault",
    502: "A service this one depends on answered with something unusable",
    503: "A dependency is not reachable right now",
    504: "A service this one depends on did not answer in time",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for these error statuses with the real error body, for a router or one route:

        router = APIRouter(prefix="/api/v1/things", responses=error_responses(*API_ERRORS))
        @router.get("/{thing_id}", responses=error_responses(404))
    """
    return {
        status: {"model": ValidationErrorBody if status == 422 else ErrorBody, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }


# What every authenticated API can answer, whatever the route: bad token, wrong role, bad input, too large.
API_ERRORS = (401, 403, 413, 422)


def field_errors(exc: ValidationError, prefix: Sequence[str | int] = ()) -> list[dict[str, str]]:
    """Pydantic's errors as the `[{"field", "message"}]` list every 422 carries; `prefix` is where the validated
    value sits in the request (`("body",)`, `("body", "config")`)."""
    return locations_to_fields(((*prefix, *err["loc"]), err["msg"]) for err in exc.errors())


def locations_to_fields(errors: Iterable[tuple[Sequence[str | int], str]]) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in loc), "message": msg} for loc, msg in errors]


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
        detail = locations_to_fields((err["loc"], err["msg"]) for err in exc.errors())
        return JSONResponse({"error": "ValidationError", "detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthorized", 403: "Forbidden"}.get(
            exc.status_code, "HTTPError")
        return JSONResponse({"error": name, "detail": exc.detail}, status_code=exc.status_code)
    # Anything else is answered by guard.ErrorGuard: one log line, a 500 and `Connection: close`.
