"""crm.identity.commands: changes other services ask identity to make to a profile. Identity owns profiles; a
journey's UPDATE step never writes one itself. Keyed by profile id."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry

TOPIC = "crm.identity.commands"


@registry.event("profile.update_requested", 1, topic=TOPIC)
class ProfileUpdateRequested(BaseModel):
    """Add or remove tags and set staff-editable attributes. Applied once per requestId."""

    model_config = ConfigDict(frozen=True)
    requestId: str
    profileId: str
    sourceKind: Literal["JOURNEY", "CAMPAIGN", "PROMOTION"]
    sourceId: str
    addTags: list[str] = Field(default_factory=list)
    removeTags: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
