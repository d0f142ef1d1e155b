"""The Fairway service chassis: settings, auth, errors, database, logging, metrics, app wiring, and the one way
of doing what every service does (cursor pagination, clocks, periodic background work, documented errors)."""
# Exports are imported on first use (PEP 562), so importing one light module of the package (a command that only
# needs the topic catalogue, or the token signer) does not pay for SQLAlchemy, Kafka and FastAPI.
from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fairway_chassis.app import (
        ConsumerSpec,
        Runtime,
        ServiceDefinition,
        create_service,
        runtime_state,
        serve,
    )
    from fairway_chassis.auth import CurrentPrincipal, Principal, issue_token, require_roles
    from fairway_chassis.clock import Clock, ManualClock, SystemClock
    from fairway_chassis.db import SessionDep, make_metadata
    from fairway_chassis.errors import (
        API_ERRORS,
        BadRequest,
        Conflict,
        ErrorBody,
        FairwayError,
        FieldError,
        Forbidden,
        NotFound,
        PayloadTooLarge,
        ServiceUnavailable,
        Unauthorized,
        Unprocessable,
        ValidationErrorBody,
        error_responses,
        field_errors,
    )
    from fairway_chassis.jobs import JobRegistry, Jobs, create_procrastinate_schema_op
    from fairway_chassis.pagination import CursorCodec, Page, paginate
    from fairway_chassis.periodic import periodic, run_every
    from fairway_chassis.repository import RepositoryBase
    from fairway_chassis.settings import ServiceSettings
    from fairway_chassis.state_consumers import state_consumer

_MODULES: dict[str, tuple[str, ...]] = {
    "fairway_chassis.app": ("ConsumerSpec", "Runtime", "ServiceDefinition", "create_service", "runtime_state", "serve"),
    "fairway_chassis.auth": ("CurrentPrincipal", "Principal", "issue_token", "require_roles"),
    "fairway_chassis.clock": ("Clock", "ManualClock", "SystemClock"),
    "fairway_chassis.db": ("SessionDep", "make_metadata"),
    "fairway_chassis.errors": ("API_ERRORS", "BadRequest", "Conflict", "ErrorBody", "FairwayError", "FieldError", "Forbidden", "NotFound", "PayloadTooLarge", "ServiceUnavailable", "Unauthorized", "Unprocessable", "ValidationErrorBody", "error_responses", "field_errors"),
    "fairway_chassis.jobs": ("JobRegistry", "Jobs", "create_procrastinate_schema_op"),
    "fairway_chassis.pagination": ("CursorCodec", "Page", "paginate"),
    "fairway_chassis.periodic": ("periodic", "run_every"),
    "fairway_chassis.repository": ("RepositoryBase",),
    "fairway_chassis.settings": ("ServiceSettings",),
    "fairway_chassis.state_consumers": ("state_consumer",),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """`periodic` names both a submodule and the function it defines: importing the submodule later must not replace
    the exported function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == f"{__name__}.{name}":
            return  # the submodule stays in sys.modules; the package's name keeps meaning the exported object
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "API_ERRORS", "BadRequest", "Clock", "Conflict", "ConsumerSpec", "CurrentPrincipal", "CursorCodec", "ErrorBody",
    "FairwayError", "FieldError", "Forbidden", "JobRegistry", "Jobs", "ManualClock", "NotFound", "Page",
    "PayloadTooLarge", "Principal", "RepositoryBase", "Runtime", "ServiceDefinition", "ServiceSettings", "ServiceUnavailable",
    "SessionDep", "SystemClock", "Unauthorized", "Unprocessable", "ValidationErrorBody",
    "create_procrastinate_schema_op", "create_service", "error_responses", "field_errors", "issue_token",
    "make_metadata", "paginate", "periodic", "require_roles", "run_every", "runtime_state", "serve",
    "state_consumer",
]
