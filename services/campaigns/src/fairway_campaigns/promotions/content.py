"""A promotion's copy: the AI gateway writes the announcement (email and social post) from the event's details
(`content.generate` over Kafka request/reply); templates write everything else, and stand in for the gateway
whenever it is slow, down or refuses, so a promotion always has its copy."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from fairway_campaigns.campaigns.content import ask
from fairway_chassis.errors import FairwayError
from fairway_schemas.ai import AudienceContext, ContentGenerateRequest

log = structlog.get_logger("fairway.campaigns.promotions")
TEMPLATE = "template"


@dataclass(frozen=True)
class Event:
    name: str
    starts_at: datetime
    entry_deadline: datetime | None
    description: str | None
    format: str | None
    link: str | None
    time_zone: str


def _when(at: datetime, zone: str) -> str:
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%A %d %B} at {local:%H:%M}"


def templates(e: Event) -> dict[str, dict[str, str]]:
    """Message kind -> subject and body; SOCIAL kinds carry the post's text as the body."""
    when = _when(e.starts_at, e.time_zone)
    what = f" ({e.format})" if e.format else ""
    more = f" {e.description}" if e.description else ""
    by = f" Entries close {_when(e.entry_deadline, e.time_zone)}." if e.entry_deadline else ""
    link = f" {e.link}" if e.link else ""
    return {
        "ANNOUNCE": {"subject": f"Entries are open: {e.name}",
                     "body": f"{e.name}{what} tees off {when}.{more}{by} Enter now to secure your place.{link}"},
        "REMINDER": {"subject": f"{{days}} days to go: {e.name}",
                     "body": f"{e.name} is {{days}} days away ({when}).{by} There is still room: enter now.{link}"},
        "CONFIRM": {"subject": f"You're in: {e.name}",
                    "body": f"Thanks for entering {e.name}. See you on the first tee {when}."},
        "ENTRANT_REMINDER": {"subject": f"Tomorrow: {e.name}",
                             "body": f"A reminder that {e.name} is tomorrow, {when}. Good luck!"},
        "CANCELLED": {"subject": f"Cancelled: {e.name}",
                      "body": f"We're sorry: {e.name} on {when} has been cancelled. Your entry is withdrawn."},
        "SOCIAL_ANNOUNCE": {"body": f"Entries are open for {e.name}{what}, {when}.{by}{link}"},
        "SOCIAL_REMINDER": {"body": f"{{days}} days to go until {e.name}. Still room in the field: enter now!{link}"},
    }


def render(piece: dict[str, str], **values: Any) -> dict[str, str]:
    return {k: v.replace("{days}", str(values.get("days", ""))) for k, v in piece.items()}


async def write(rpc: Any, tenant_id: str, e: Event, timeout: float) -> tuple[dict[str, dict[str, str]], str]:
    """The copy and where it came from (the gateway's decision id, or `template`)."""
    copy = templates(e)
    if rpc is None:
        return copy, TEMPLATE
    goal = (f"Get members to enter {e.name}, {_when(e.starts_at, e.time_zone)}"
            + (f" ({e.format})" if e.format else "") + (f": {e.description}" if e.description else ""))[:500]
    audience = AudienceContext(segmentName="club members")

    async def one(kind: str, max_length: int) -> Any:
        request = ContentGenerateRequest(type=kind, campaignGoal=goal, audience=audience,  # type: ignore[arg-type]
                                         variantCount=1, maxLength=max_length, callToAction="Enter now")
        return await ask(rpc, tenant_id, request, timeout)

    try:
        body, post = await asyncio.gather(one("EMAIL_BODY", 1200), one("SOCIAL_POST", 280))
    except (FairwayError, ValueError, TimeoutError) as exc:  # the template always works
        log.info("promotion copy from templates", tenant_id=tenant_id, reason=str(exc))
        return copy, TEMPLATE
    if not body.variants or not post.variants or body.requiresApproval or post.requiresApproval:
        # Copy the gateway wants reviewed never goes out unreviewed: the templates do instead.
        return copy, TEMPLATE
    copy["ANNOUNCE"] = {**copy["ANNOUNCE"], "body": body.variants[0].content}
    copy["SOCIAL_ANNOUNCE"] = {"body": post.variants[0].content}
    return copy, body.decisionId or "ai-gateway"
