"""The Fairway service chassis: settings, auth, errors, database, logging, metrics, app wiring, and the one way
of doing what every service does (cursor pagination, clocks, periodic background work, documented errors)."""
from fairway_chassis.app import ConsumerSpec, Runtime, ServiceDefinition, create_service, runtime_state, serve
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

__all__ = [
    "API_ERRORS", "BadRequest", "Clock", "Conflict", "ConsumerSpec", "CurrentPrincipal", "CursorCodec", "ErrorBody",
    "FairwayError", "FieldError", "Forbidden", "JobRegistry", "Jobs", "ManualClock", "NotFound", "Page",
    "PayloadTooLarge", "Principal", "RepositoryBase", "Runtime", "ServiceDefinition", "ServiceSettings", "ServiceUnavailable",
    "SessionDep", "SystemClock", "Unauthorized", "Unprocessable", "ValidationErrorBody",
    "create_procrastinate_schema_op", "create_service", "error_responses", "field_errors", "issue_token",
    "make_metadata", "paginate", "periodic", "require_roles", "run_every", "runtime_state", "serve",
]
