"""Content approval: open review requests for a campaign's texts, record reviewers' decisions, expire the
forgotten ones. The campaign's own state follows through a job (tasks.APPROVAL_DECIDED), so this concept never
reaches into campaigns: campaigns asks it, not the other way round."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from fairway_campaigns import events, tasks
from fairway_campaigns.approvals import repository as repo_module
from fairway_campaigns.approvals.repository import Approval, ApprovalRepository
from fairway_campaigns.approvals.rules import ApprovalSettings, Piece, content_hash, pieces, review_reason
from fairway_campaigns.tasks import JobDeferrer
from fairway_chassis import Conflict, CursorCodec, NotFound, Page, paginate
from fairway_events.contracts.campaigns import ContentApprovalRequested, ContentApproved, ContentRejected

CURSOR: CursorCodec[tuple[AwareDatetime, str]] = CursorCodec(tuple[AwareDatetime, str])


async def settings(session: AsyncSession, tenant_id: str) -> ApprovalSettings:
    stored = await ApprovalRepository(session, tenant_id).settings()
    return ApprovalSettings.model_validate(stored) if stored else ApprovalSettings()


async def put_settings(session: AsyncSession, tenant_id: str, data: ApprovalSettings, by: str, now: datetime
                       ) -> ApprovalSettings:
    await ApprovalRepository(session, tenant_id).put_settings(data.model_dump(mode="json"), by, now)
    return data


async def request_reviews(session: AsyncSession, tenant_id: str, campaign_id: str, channels: list[str],
                          content: dict[str, Any], ab_test: dict[str, Any] | None, now: datetime) -> int:
    """Open a review request for every text that needs one; returns how many are pending. Texts approved
    automatically (after N approved uses) count one more use."""
    repo = ApprovalRepository(session, tenant_id)
    rules = await settings(session, tenant_id)
    found = pieces(channels, content, ab_test)
    uses = await repo.uses([p.hash for p in found])
    pending: list[tuple[Piece, str]] = []
    for p in found:
        reason = review_reason(p, rules, uses.get(p.hash, 0))
        if reason is not None:
            pending.append((p, reason))
        elif uses.get(p.hash, 0) >= rules.autoApproveAfter:
            await repo.count_use(p.hash)
    await repo.withdraw_pending(campaign_id, now)  # an earlier round's leftovers
    expires = now + timedelta(hours=rules.expiryHours)
    rows = [{
        "id": str(uuid7()), "campaign_id": campaign_id, "channel": p.channel, "field": p.field, "variant": p.variant,
        "content_type": p.content_type, "content_hash": p.hash, "text": p.text,
        "requirement": rules.requirement(p.content_type), "reason": reason, "gateway_flagged": p.gateway_flagged,
        "status": "PENDING", "created_at": now, "expires_at": expires,
    } for p, reason in pending]
    await repo.add(rows)
    await events.publish(session, tenant_id, campaign_id, *(ContentApprovalRequested(
        approvalId=r["id"], campaignId=campaign_id, contentType=r["content_type"], contentHash=r["content_hash"],
        requirement=r["requirement"], reason=r["reason"], expiresAt=expires) for r in rows))
    return len(rows)


async def unapproved_flagged(session: AsyncSession, tenant_id: str, channels: list[str], content: dict[str, Any],
                             ab_test: dict[str, Any] | None) -> list[str]:
    """The gateway-flagged texts of a campaign nobody approved: the last gate before anything is sent."""
    flagged = [p for p in pieces(channels, content, ab_test) if p.gateway_flagged]
    if not flagged:
        return []
    uses = await ApprovalRepository(session, tenant_id).uses([p.hash for p in flagged])
    return [f"{p.channel}.{p.field}" + (f" ({p.variant})" if p.variant else "") for p in flagged
            if uses.get(p.hash, 0) == 0]


async def get(session: AsyncSession, tenant_id: str, approval_id: str, *, lock: bool = False) -> Approval:
    found = await ApprovalRepository(session, tenant_id).get(approval_id, lock=lock)
    if found is None:
        raise NotFound(f"no approval request {approval_id!r}")
    return found


async def page(session: AsyncSession, tenant_id: str, status: str | None, cursor: str | None, limit: int
               ) -> Page[Approval]:
    rows = await ApprovalRepository(session, tenant_id).page(status, CURSOR.decode(cursor), limit + 1)
    return paginate(rows, limit, CURSOR, key=lambda a: (a.created_at, a.id))


async def _pending(session: AsyncSession, tenant_id: str, approval_id: str) -> Approval:
    a = await get(session, tenant_id, approval_id, lock=True)
    if a.status != "PENDING":
        raise Conflict(f"the approval request is {a.status}, not PENDING")
    return a


async def approve(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, approval_id: str, reviewer: str,
                  now: datetime, edited_text: str | None = None) -> Approval:
    """Approve as it is, or as the reviewer edited it (the edit replaces the text in the campaign)."""
    a = await _pending(session, tenant_id, approval_id)
    repo = ApprovalRepository(session, tenant_id)
    text = edited_text if edited_text is not None else a.text
    new_hash = content_hash(a.content_type, text)
    await repo.decide(approval_id, {"status": "APPROVED", "reviewer": reviewer, "decided_at": now, "text": text,
                                    "content_hash": new_hash, "edited": edited_text is not None})
    await repo.count_use(new_hash)
    await events.publish(session, tenant_id, a.campaign_id, ContentApproved(
        approvalId=a.id, campaignId=a.campaign_id, contentType=a.content_type, contentHash=new_hash,  # type: ignore[arg-type]
        reviewer=reviewer, edited=edited_text is not None))
    await _follow(session, jobs, tenant_id, a.campaign_id)
    return await get(session, tenant_id, approval_id)


async def reject(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, approval_id: str, reviewer: str,
                 feedback: str, now: datetime, *, status: str = "REJECTED") -> Approval:
    a = await _pending(session, tenant_id, approval_id)
    await ApprovalRepository(session, tenant_id).decide(
        approval_id, {"status": status, "reviewer": reviewer, "feedback": feedback, "decided_at": now})
    await events.publish(session, tenant_id, a.campaign_id, ContentRejected(
        approvalId=a.id, campaignId=a.campaign_id, contentType=a.content_type, contentHash=a.content_hash,  # type: ignore[arg-type]
        reviewer=reviewer, feedback=feedback))
    await _follow(session, jobs, tenant_id, a.campaign_id)
    return await get(session, tenant_id, approval_id)


async def _follow(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, campaign_id: str) -> None:
    await jobs.defer_in(session, tasks.APPROVAL_DECIDED, tenant_id=tenant_id, campaign_id=campaign_id)


async def round_status(session: AsyncSession, tenant_id: str, campaign_id: str) -> tuple[str, list[Approval]]:
    """The campaign's current review round: PENDING (someone still has to decide), REJECTED (a text was rejected
    or expired), or APPROVED (every text approved; the approvals carry any edits)."""
    every = await ApprovalRepository(session, tenant_id).of_campaign(
        campaign_id, ["PENDING", "APPROVED", "REJECTED", "EXPIRED"])
    # A round's requests are opened together (one `now`); earlier rounds' decisions no longer count.
    latest = max((a.created_at for a in every), default=None)
    current = [a for a in every if a.created_at == latest]
    if any(a.status in ("REJECTED", "EXPIRED") for a in current):
        return "REJECTED", current
    if any(a.status == "PENDING" for a in current):
        return "PENDING", current
    return "APPROVED", current


async def expire(session: AsyncSession, jobs: JobDeferrer, now: datetime) -> int:
    """Requests nobody decided in time are rejected as expired (their campaign goes back to DRAFT)."""
    gone = await repo_module.expired(session, now)
    for a in gone:
        await reject(session, jobs, a.tenant_id, a.id, "expiry", "expired before anyone reviewed it", now,
                     status="EXPIRED")
    return len(gone)


async def withdraw(session: AsyncSession, tenant_id: str, campaign_id: str, now: datetime) -> None:
    await ApprovalRepository(session, tenant_id).withdraw_pending(campaign_id, now)


def apply_edits(content: dict[str, Any], ab_test: dict[str, Any] | None, decided: list[Approval]
                ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The campaign's content and A/B test with the reviewers' edited texts in place of the originals."""
    content = {k: dict(v) for k, v in content.items()}
    ab = {**ab_test, "variants": [dict(v) for v in ab_test["variants"]]} if ab_test else None
    for a in decided:
        if not a.edited:
            continue
        if a.variant is None:
            content.setdefault(a.channel, {})[a.field] = a.text
        elif ab is not None:
            for v in ab["variants"]:
                if v["name"] == a.variant:
                    v[a.field] = a.text
    return content, ab
