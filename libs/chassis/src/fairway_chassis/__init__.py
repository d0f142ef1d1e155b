"""The Fairway service chassis: settings, auth, errors, database, logging, metrics, app wiring."""
from fairway_chassis.app import ConsumerSpec, Runtime, ServiceDefinition, create_service, serve
from fairway_chassis.auth import CurrentPrincipal, Principal, issue_token, require_roles
from fairway_chassis.db import SessionDep, make_metadata
from fairway_chassis.errors import (
    BadRequest,
    Conflict,
    FairwayError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    Unprocessable,
)
from fairway_chassis.settings import ServiceSettings

__all__ = [
    "BadRequest", "Conflict", "ConsumerSpec", "CurrentPrincipal", "FairwayError", "Forbidden", "NotFound",
    "Principal", "Runtime", "ServiceDefinition", "ServiceSettings", "ServiceUnavailable", "SessionDep",
    "Unauthorized", "Unprocessable", "create_service", "issue_token", "make_metadata", "require_roles", "serve",
]
