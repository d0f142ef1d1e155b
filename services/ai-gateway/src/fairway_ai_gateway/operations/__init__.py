"""The gateway's operations. Importing this package registers them."""

from fairway_ai_gateway.operations import content, journeys, segments  # noqa: F401  (registers them)
from fairway_ai_gateway.operations.base import OPERATIONS, Context, Operation, Prompt, register

__all__ = ["OPERATIONS", "Context", "Operation", "Prompt", "register"]
