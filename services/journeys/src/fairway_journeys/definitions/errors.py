"""The journeys service's own errors, in the chassis' error tree."""
from __future__ import annotations

from fairway_chassis import Unprocessable
from fairway_journeys.definitions.validation import Problem


class InvalidJourney(Unprocessable):
    """The definition is refused; `detail` lists each problem with its step and the path of the part at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("invalid definition")
        self.detail = [p.model_dump() for p in problems]
