"""What the running journeys service holds beside the chassis' Runtime: typed, one attribute per need."""
from __future__ import annotations

from dataclasses import dataclass, field

from fairway_chassis import Clock
from fairway_journeys.definitions.cache import VersionCache
from fairway_journeys.settings import Settings


@dataclass
class JourneysState:
    settings: Settings
    clock: Clock
    versions: VersionCache = field(default_factory=VersionCache)
