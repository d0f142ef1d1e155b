"""What every endpoint of the service shares: the clock, the settings it needs, the roles and path parameters.

It reaches the running service's state (`JourneysState`) through the request instead of importing it, so the
concept folders' endpoints depend on this module without depending on the state's own imports (which reach into
the concept folders: that would be a cycle)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from fairway_chassis import Clock, Principal, require_roles


def _state(request: Request) -> Any:
    return request.app.state.runtime.state


def _clock(request: Request) -> Clock:
    return _state(request).clock


def run_deps(request: Request) -> Any:
    """The engine's dependencies (`runs.deps.RunDeps`); endpoints annotate the type themselves."""
    return _state(request).deps


def _ai_timeout(request: Request) -> float:
    return float(_state(request).settings.ai_timeout_seconds)


ClockDep = Annotated[Clock, Depends(_clock)]
AiTimeoutDep = Annotated[float, Depends(_ai_timeout)]
JourneyIdPath = Annotated[str, Path(min_length=1, max_length=64)]
ProfileIdPath = Annotated[str, Path(min_length=1, max_length=200, description="A profile id from identity")]

# Marketers build and run journeys; analysts and staff read them.
Reader = Annotated[Principal, require_roles("marketer", "analyst", "staff")]
Writer = Annotated[Principal, require_roles("marketer")]
