"""Every event contract Fairway knows. Importing this package registers them all.

One module per owning topic; a service adds its events to its own module only.
"""
from fairway_events.contracts import (  # noqa: F401
    ai,
    campaigns,
    dispatch,
    identity,
    identity_commands,
    journeys,
    messaging_out,
    scoring,
    segmentation,
    social,
    social_requests,
    state,
    timeline,
    upstream,
)
