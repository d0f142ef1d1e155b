"""The errors every operation's OpenAPI documents: what the chassis itself answers (401, 403, 413, 422), with the
real `{"error", "detail"}` body. Its own module: it reads both the error tree and the auth dependencies."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from fairway_chassis.auth import current_principal
from fairway_chassis.errors import _DESCRIPTIONS, ErrorBody, FieldError, ValidationErrorBody


def document_errors(app: FastAPI) -> None:
    """Document on every API operation the errors the chassis itself may answer with, with the real body: 401
    and 403 where the route checks a token and roles, 422 everywhere (the request guard refuses a NUL in any
    query or path value), 413 where a body may be sent. Routes add what only they answer (404, 409, ...).

    Done on the generated document rather than on the routes: FastAPI builds included routes lazily."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        doc = generate()
        if doc.get("x-fairway-errors"):
            return doc  # FastAPI caches the document; it is already complete
        for rc in iter_route_contexts(app.routes):
            route = rc.original_route
            if not isinstance(route, APIRoute) or not rc.include_in_schema:
                continue
            calls = {d.call for d in _dependencies(route.dependant)}
            statuses = [422]
            if current_principal in calls:
                statuses.append(401)
            if any(getattr(c, "checks_roles", False) for c in calls):
                statuses.append(403)
            for method in rc.methods or ():
                operation = doc["paths"].get(rc.path_format, {}).get(method.lower())
                if operation is None:
                    continue
                extra = [413] if method not in ("GET", "HEAD", "OPTIONS", "DELETE") else []
                for status in (*statuses, *extra):
                    operation["responses"].setdefault(str(status), _reference(status))
                # FastAPI's default 422 describes a body this API never sends
                if "HTTPValidationError" in str(operation["responses"]["422"]):
                    operation["responses"]["422"] = _reference(422)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for model in (FieldError, ErrorBody, ValidationErrorBody):
            schemas.update(model.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {}))
            schemas[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused in schemas and unused not in _refs(doc["paths"]):
                del schemas[unused]
        doc["x-fairway-errors"] = True
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def _reference(status: int) -> dict[str, Any]:
    model = ValidationErrorBody if status == 422 else ErrorBody
    return {"description": _DESCRIPTIONS[status],
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}


def _refs(node: Any) -> set[str]:
    text = str(node)
    return {name for name in ("HTTPValidationError", "ValidationError") if f"schemas/{name}'" in text}


def _dependencies(dependant: Any) -> Iterable[Any]:
    for d in dependant.dependencies:
        yield d
        yield from _dependencies(d)
