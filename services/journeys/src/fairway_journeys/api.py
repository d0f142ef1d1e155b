"""What every endpoint of the service shares: its state, the clock and the roles."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from fairway_chassis import Clock, Principal, require_roles, runtime_state
from fairway_journeys.state import JourneysState

StateDep = Annotated[JourneysState, Depends(runtime_state(JourneysState))]


def _clock(state: StateDep) -> Clock:
    return state.clock


ClockDep = Annotated[Clock, Depends(_clock)]
JourneyIdPath = Annotated[str, Path(min_length=1, max_length=64)]
ProfileIdPath = Annotated[str, Path(min_length=1, max_length=200, description="A profile id from identity")]

# Marketers build and run journeys; analysts and staff read them.
Reader = Annotated[Principal, require_roles("marketer", "analyst", "staff")]
Writer = Annotated[Principal, require_roles("marketer")]
