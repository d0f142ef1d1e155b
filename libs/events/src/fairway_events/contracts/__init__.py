"""Every event contract Fairway knows. Importing this package registers them all."""
from fairway_events.contracts import messaging_out, upstream  # noqa: F401
