from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

Content = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class NoteType(StrEnum):
    GENERAL = "GENERAL"
    CALL = "CALL"
    MEETING = "MEETING"
    EMAIL = "EMAIL"
    COMPLAINT = "COMPLAINT"


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: Content
    type: NoteType = NoteType.GENERAL
    pinned: bool = False
    private: bool = False


class NotePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: Content | None = None
    type: NoteType | None = None
    pinned: bool | None = None
    private: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> NotePatch:
        if not self.model_fields_set:
            raise ValueError("give at least one of content, type, pinned, private")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class NoteOut(BaseModel):
    id: str
    profileId: str
    type: NoteType
    content: str
    pinned: bool
    private: bool
    author: str
    createdAt: datetime
    updatedAt: datetime


class NoteList(BaseModel):
    profileId: str
    items: list[NoteOut]
