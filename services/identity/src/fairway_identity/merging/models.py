"""What the merge side of identity passes around."""

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
