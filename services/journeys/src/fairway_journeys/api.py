"""What every endpoint of the service shares: the clock and the roles."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from fairway_chassis import require_roles
from fairway_journeys.clock import Clock
from fairway_journeys.state import JourneysState


def _state(request: Request) -> JourneysState:
    return request.app.state.journeys


def _clock(request: Request) -> Clock:
    return request.app.state.journeys.clock


StateDep = Annotated[JourneysState, Depends(_state)]
ClockDep = Annotated[Clock, Depends(_clock)]
JourneyIdPath = Annotated[str, Path(min_length=1, max_length=64)]
ProfileIdPath = Annotated[str, Path(min_length=1, max_length=200, description="A profile id from identity")]

# Marketers build and run journeys; analysts and staff read them.
Reader = require_roles("marketer", "analyst", "staff")
Writer = require_roles("marketer")
