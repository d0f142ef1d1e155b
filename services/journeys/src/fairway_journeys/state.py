"""What the running journeys service holds beside the chassis' Runtime: typed, one attribute per need."""
from __future__ import annotations

from dataclasses import dataclass, field

from fairway_chassis import Clock
from fairway_chassis.jobs import Jobs
from fairway_journeys.runs.deps import RunDeps
from fairway_journeys.settings import Settings


@dataclass
class JourneysState:
    settings: Settings
    clock: Clock
    deps: RunDeps = field(default_factory=RunDeps)
    jobs: Jobs | None = None
