"""A merge candidate: two profiles that may be one person. Resolution opens candidates (or merges at once, when
the policy allows it); merging accepts, dismisses and undoes; privacy exports them. Below all three."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Candidate:
    tenant_id: str
    pair: tuple[str, str]
    evidence: list[dict[str, Any]]
    conflict_keys: list[str]
    source_event_id: str
