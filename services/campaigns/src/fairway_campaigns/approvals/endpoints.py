"""/api/v1/approvals: the review queue, decisions (approve, reject with feedback, edit) and the tenant's rules."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from fairway_campaigns.api import JobsDep, NowDep, Reader, Reviewer
from fairway_campaigns.approvals import service
from fairway_campaigns.approvals.repository import Approval
from fairway_campaigns.approvals.rules import ApprovalSettings
from fairway_campaigns.approvals.schemas import ApprovalOut, ApprovalPage, EditIn, RejectIn
from fairway_chassis import API_ERRORS, SessionDep, error_responses

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"], responses=error_responses(*API_ERRORS))
DECISION = error_responses(404, 409)  # 409: the request is no longer PENDING



def out(a: Approval) -> ApprovalOut:
    return ApprovalOut(
        id=a.id, campaignId=a.campaign_id, channel=a.channel, field=a.field, variant=a.variant,
        contentType=a.content_type, text=a.text, requirement=a.requirement, reason=a.reason,
        gatewayFlagged=a.gateway_flagged, status=a.status, reviewer=a.reviewer, feedback=a.feedback,  # type: ignore[arg-type]
        edited=a.edited, createdAt=a.created_at, expiresAt=a.expires_at, decidedAt=a.decided_at,
    )


@router.get("", response_model=ApprovalPage)
async def list_approvals(
    session: SessionDep,
    principal: Reader,
    status: Literal["PENDING", "APPROVED", "REJECTED", "EXPIRED", "WITHDRAWN"] | None = "PENDING",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ApprovalPage:
    """Newest first (pending ones by default)."""
    page = await service.page(session, principal.tenant_id, status, cursor, limit)
    return ApprovalPage(items=[out(a) for a in page.items], nextCursor=page.next_cursor)


@router.get("/settings", response_model=ApprovalSettings)
async def get_settings(session: SessionDep, principal: Reader) -> ApprovalSettings:
    return await service.settings(session, principal.tenant_id)


@router.put("/settings", response_model=ApprovalSettings)
async def put_settings(body: ApprovalSettings, session: SessionDep, now: NowDep, principal: Reviewer
                       ) -> ApprovalSettings:
    """Per content type NONE, SAMPLE_REVIEW, FIRST_USE or ALL; auto-approval after N approved uses; expiry."""
    return await service.put_settings(session, principal.tenant_id, body, principal.subject, now)


@router.get("/{approval_id}", response_model=ApprovalOut, responses=error_responses(404))
async def get_approval(approval_id: str, session: SessionDep, principal: Reader) -> ApprovalOut:
    return out(await service.get(session, principal.tenant_id, approval_id))


@router.post("/{approval_id}/approve", response_model=ApprovalOut, responses=DECISION)
async def approve(approval_id: str, session: SessionDep, jobs: JobsDep, now: NowDep, principal: Reviewer
                  ) -> ApprovalOut:
    return out(await service.approve(session, jobs, principal.tenant_id, approval_id, principal.subject, now))


@router.post("/{approval_id}/edit", response_model=ApprovalOut, responses=DECISION)
async def edit(approval_id: str, body: EditIn, session: SessionDep, jobs: JobsDep, now: NowDep, principal: Reviewer
               ) -> ApprovalOut:
    """Approve the reviewer's rewrite; it replaces the text in the campaign."""
    return out(await service.approve(session, jobs, principal.tenant_id, approval_id, principal.subject, now,
                                     edited_text=body.text))


@router.post("/{approval_id}/reject", response_model=ApprovalOut, responses=DECISION)
async def reject(approval_id: str, body: RejectIn, session: SessionDep, jobs: JobsDep, now: NowDep,
                 principal: Reviewer) -> ApprovalOut:
    """Reject with feedback: the campaign goes back to DRAFT for editing."""
    return out(await service.reject(session, jobs, principal.tenant_id, approval_id, principal.subject,
                                     body.feedback, now))
