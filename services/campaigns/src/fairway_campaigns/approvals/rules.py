"""Which pieces of a campaign's content a person must review, pure (AI marketing spec §13.1).

Per tenant and content type: NONE (never), SAMPLE_REVIEW (a stable sample of texts, `sampleShare` of them),
FIRST_USE (a text nobody approved before), ALL (every use). Whatever the rule, a text people approved
`autoApproveAfter` times is approved automatically, and a text the AI gateway marked `requiresApproval` is
always reviewed (unless approved before): it never goes out unapproved.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Requirement = Literal["NONE", "SAMPLE_REVIEW", "FIRST_USE", "ALL"]
ContentType = Literal["EMAIL_SUBJECT", "EMAIL_BODY", "SMS", "PUSH", "SOCIAL_POST"]
CONTENT_TYPES: tuple[ContentType, ...] = ("EMAIL_SUBJECT", "EMAIL_BODY", "SMS", "PUSH", "SOCIAL_POST")


class ApprovalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requirements: dict[ContentType, Requirement] = Field(default_factory=lambda: dict.fromkeys(CONTENT_TYPES, "NONE"))
    autoApproveAfter: int = Field(default=10, ge=1, le=10_000)
    expiryHours: float = Field(default=48, gt=0, le=24 * 30)
    sampleShare: float = Field(default=0.05, gt=0, le=1)

    def requirement(self, content_type: ContentType) -> Requirement:
        return self.requirements.get(content_type, "NONE")


@dataclass(frozen=True)
class Piece:
    channel: str
    field: str  # subject or body
    variant: str | None
    content_type: ContentType
    text: str
    gateway_flagged: bool

    @property
    def hash(self) -> str:
        return content_hash(self.content_type, self.text)


def content_hash(content_type: str, text: str) -> str:
    return hashlib.sha256(f"{content_type}\x1f{text.strip()}".encode()).hexdigest()


def _type(channel: str, field: str) -> ContentType | None:
    return {("EMAIL", "subject"): "EMAIL_SUBJECT", ("EMAIL", "body"): "EMAIL_BODY", ("SMS", "body"): "SMS",
            ("PUSH", "body"): "PUSH", ("SOCIAL", "body"): "SOCIAL_POST"}.get((channel, field))  # type: ignore[return-value]


def pieces(channels: list[str], content: dict[str, Any], ab_test: dict[str, Any] | None) -> list[Piece]:
    """Every written text the campaign can send: each channel's subject and body, and each variant's."""
    out: list[Piece] = []
    for channel in channels:
        c = content.get(channel) or {}
        for field in ("subject", "body"):
            t = _type(channel, field)
            if t and c.get(field):
                out.append(Piece(channel, field, None, t, c[field], bool(c.get("requiresApproval"))))
    for v in (ab_test or {}).get("variants", []):
        for channel in ([v["channel"]] if v.get("channel") else [c for c in channels if c != "SOCIAL"]):
            for field in ("subject", "body"):
                t = _type(channel, field)
                if t and v.get(field):
                    out.append(Piece(channel, field, v["name"], t, v[field], bool(v.get("requiresApproval"))))
    return out


def review_reason(piece: Piece, settings: ApprovalSettings, approved_uses: int) -> str | None:
    """Why `piece` needs a person's review, or None when it may go out as it is."""
    if approved_uses >= settings.autoApproveAfter:
        return None  # approved often enough: automatic from now on
    if piece.gateway_flagged and approved_uses == 0:
        return "the AI gateway requires approval of this content"
    match settings.requirement(piece.content_type):
        case "ALL":
            return f"every {piece.content_type} is reviewed (ALL)"
        case "FIRST_USE" if approved_uses == 0:
            return f"first use of this {piece.content_type} (FIRST_USE)"
        case "SAMPLE_REVIEW" if int(piece.hash[:8], 16) / 0xFFFFFFFF < settings.sampleShare:
            return f"in the review sample of {piece.content_type} (SAMPLE_REVIEW)"
    return None
