from __future__ import annotations

from pydantic import BaseModel


class TestSendResult(BaseModel):
    profileId: str
    channel: str
    requestId: str
    outcome: str
    reason: str | None = None


class TestSendOut(BaseModel):
    runId: str
    results: list[TestSendResult]
