"""Campaign rules: create and edit drafts, schedule, pause, resume, cancel. State changes take the campaign's row
lock, so they serialise with the fan-out's batches: a pause lands between two batches, never inside one."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from fairway_campaigns import events, tasks
from fairway_campaigns.approvals import service as approvals
from fairway_campaigns.campaigns.repository import Campaign, CampaignRepository
from fairway_campaigns.campaigns.schemas import CampaignIn, CampaignPatch, Schedule, ScheduleKind
from fairway_campaigns.campaigns.states import Action, State, target
from fairway_campaigns.dispatcher import Dispatcher
from fairway_campaigns.tasks import JobDeferrer, fanout_lock
from fairway_chassis import BadRequest, CursorCodec, NotFound, Page, Unprocessable, paginate
from fairway_events.contracts.campaigns import (
    CampaignCancelled,
    CampaignPaused,
    CampaignScheduled,
)

# The earliest wall clock on Earth runs 14 hours ahead of UTC: a LOCAL_TIME campaign starts its fan-out then, and
# dispatch holds each message until the recipient's own local time.
_EARLIEST_OFFSET = timedelta(hours=14)


def definition(data: CampaignIn) -> dict[str, Any]:
    """The stored columns of a campaign's definition."""
    return {
        "name": data.name,
        "goal": data.goal,
        "channels": [c.value for c in data.channels],
        "target_segment_id": data.targetSegmentId,
        "exclusion_segment_ids": list(dict.fromkeys(data.exclusionSegmentIds)),
        "content": {c.value: v.model_dump(mode="json", exclude_defaults=True) for c, v in data.content.items()},
        "time_zone": data.timeZone,
        "schedule": data.schedule.model_dump(mode="json", exclude_none=True),
        "ab_test": data.abTest.model_dump(mode="json") if data.abTest else None,
    }


def as_input(c: Campaign) -> CampaignIn:
    return CampaignIn(
        name=c.name, goal=c.goal, channels=c.channels, targetSegmentId=c.target_segment_id or "",
        exclusionSegmentIds=c.exclusion_segment_ids, content=c.content, timeZone=c.time_zone,
        schedule=c.schedule, abTest=c.ab_test,
    )


async def create(session: AsyncSession, tenant_id: str, author: str, data: CampaignIn, now: datetime) -> Campaign:
    campaign_id = str(uuid7())
    await CampaignRepository(session, tenant_id).add({
        "id": campaign_id, **definition(data), "state": State.DRAFT.value, "created_by": author,
        "created_at": now, "updated_at": now,
    })
    return await get(session, tenant_id, campaign_id)


async def get(session: AsyncSession, tenant_id: str, campaign_id: str, *, lock: bool = False) -> Campaign:
    campaign = await CampaignRepository(session, tenant_id).get(campaign_id, lock=lock)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    return campaign


CURSOR: CursorCodec[tuple[AwareDatetime, str]] = CursorCodec(tuple[AwareDatetime, str])


async def page(session: AsyncSession, tenant_id: str, cursor: str | None, limit: int, state: State | None
               ) -> Page[Campaign]:
    rows = await CampaignRepository(session, tenant_id).page(CURSOR.decode(cursor), limit + 1, state)
    return paginate(rows, limit, CURSOR, key=lambda c: (c.created_at, c.id))


async def change(session: AsyncSession, tenant_id: str, campaign_id: str, patch: CampaignPatch, now: datetime
                 ) -> Campaign:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    target(Action.EDIT, campaign.state)
    merged = as_input(campaign).model_dump(mode="json")
    merged.update(patch.model_dump(mode="json", exclude_unset=True))
    try:
        data = CampaignIn.model_validate(merged)
    except ValueError as exc:
        raise Unprocessable(str(exc).splitlines()[-1].strip(), field="body") from None
    await CampaignRepository(session, tenant_id).update(campaign_id, {**definition(data), "updated_at": now})
    return await get(session, tenant_id, campaign_id)


async def remove(session: AsyncSession, tenant_id: str, campaign_id: str) -> None:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    target(Action.DELETE, campaign.state)
    await CampaignRepository(session, tenant_id).delete(campaign_id)


def starts_at(schedule: Schedule, time_zone: str, now: datetime) -> datetime:
    """When the fan-out starts. A time in the past is refused (a campaign scheduled for yesterday is a mistake)."""
    match schedule.kind:
        case ScheduleKind.NOW:
            return now
        case ScheduleKind.AT:
            assert schedule.at is not None
            if schedule.at < now - timedelta(minutes=1):
                raise Unprocessable("the time is in the past", field="schedule.at")
            return max(schedule.at.astimezone(UTC), now)
        case ScheduleKind.LOCAL_TIME:
            assert schedule.date is not None and schedule.localTime is not None
            wall = datetime.combine(schedule.date, schedule.localTime, tzinfo=UTC)
            if wall + _EARLIEST_OFFSET < now:  # even the latest time zone is past it
                raise Unprocessable("that local time has passed everywhere", field="schedule.date")
            return max(wall - _EARLIEST_OFFSET, now)
        case ScheduleKind.BEST_TIME:
            assert schedule.window is not None
            if schedule.window.end <= now:
                raise Unprocessable("the window has ended", field="schedule.window.end")
            return max(schedule.window.start.astimezone(UTC), now)
    raise BadRequest(f"unknown schedule kind {schedule.kind}")


async def schedule(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, campaign_id: str, by: str,
                   now: datetime) -> Campaign:
    """DRAFT -> SCHEDULED, or PENDING_APPROVAL while texts await review (the tenant's rules, the gateway's flag)."""
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    target(Action.SCHEDULE, campaign.state)
    if not campaign.target_segment_id:
        raise Unprocessable("a campaign needs a target segment", field="targetSegmentId")
    begin = starts_at(Schedule.model_validate(campaign.schedule), campaign.time_zone, now)
    pending = await approvals.request_reviews(session, tenant_id, campaign_id, campaign.channels, campaign.content,
                                              campaign.ab_test, now)
    new_state = target(Action.SCHEDULE, campaign.state, needs_approval=pending > 0)
    await CampaignRepository(session, tenant_id).update(
        campaign_id, {"state": new_state.value, "starts_at": begin, "updated_at": now})
    if new_state is State.SCHEDULED:
        await _scheduled(session, jobs, campaign, begin, by)
    return await get(session, tenant_id, campaign_id)


async def _scheduled(session: AsyncSession, jobs: JobDeferrer, campaign: Campaign, begin: datetime, by: str) -> None:
    await jobs.defer_in(session, tasks.FANOUT, tenant_id=campaign.tenant_id, campaign_id=campaign.id,
                        schedule_at=begin, queueing_lock=fanout_lock(campaign.tenant_id, campaign.id), lock=fanout_lock(campaign.tenant_id, campaign.id))
    await events.publish(session, campaign.tenant_id, campaign.id, CampaignScheduled(
        campaignId=campaign.id, name=campaign.name, channels=campaign.channels,
        targetSegmentId=campaign.target_segment_id, scheduleKind=campaign.schedule.get("kind", "NOW"),
        startsAt=begin, abTest=campaign.ab_test is not None, by=by))


async def review_decided(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, campaign_id: str,
                         now: datetime) -> Campaign | None:
    """A reviewer (or the expiry) decided on one of the campaign's texts. Every text approved: the reviewers' edits
    go into the content and PENDING_APPROVAL -> SCHEDULED. One rejected or expired: back to DRAFT for editing."""
    campaign = await CampaignRepository(session, tenant_id).get(campaign_id, lock=True)
    if campaign is None or campaign.state is not State.PENDING_APPROVAL:
        return campaign
    status, current = await approvals.round_status(session, tenant_id, campaign_id)
    if status == "PENDING":
        return campaign
    if status == "REJECTED":
        await approvals.withdraw(session, tenant_id, campaign_id, now)
        await CampaignRepository(session, tenant_id).update(campaign_id, {
            "state": target(Action.REJECT, campaign.state).value, "updated_at": now})
        return await get(session, tenant_id, campaign_id)
    content, ab_test = approvals.apply_edits(campaign.content, campaign.ab_test, current)
    begin = max(campaign.starts_at or now, now)
    await CampaignRepository(session, tenant_id).update(campaign_id, {
        "state": target(Action.APPROVE, campaign.state).value, "starts_at": begin, "content": content,
        "ab_test": ab_test, "updated_at": now})
    reviewer = next((a.reviewer for a in reversed(current) if a.reviewer), "reviewer") or "reviewer"
    await _scheduled(session, jobs, campaign, begin, reviewer)
    return await get(session, tenant_id, campaign_id)


async def pause(session: AsyncSession, tenant_id: str, campaign_id: str, by: str, now: datetime) -> Campaign:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    target(Action.PAUSE, campaign.state)
    await CampaignRepository(session, tenant_id).update(campaign_id, {
        "state": State.PAUSED.value, "resume_state": campaign.state.value, "updated_at": now})
    await events.publish(session, tenant_id, campaign_id, CampaignPaused(
        campaignId=campaign_id, fromState=campaign.state.value, submitted=campaign.cursor, pausedAt=now, by=by))
    return await get(session, tenant_id, campaign_id)


async def resume(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, campaign_id: str, by: str,
                 now: datetime) -> Campaign:
    """Back to where it was paused. The fan-out carries on from its checkpoint: nobody before it is sent again,
    nobody after it is skipped."""
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    back = target(Action.RESUME, campaign.state, resume_state=campaign.resume_state)
    await CampaignRepository(session, tenant_id).update(
        campaign_id, {"state": back.value, "resume_state": None, "updated_at": now})
    if back is State.SCHEDULED:
        begin = max(campaign.starts_at or now, now)
        await jobs.defer_in(session, tasks.FANOUT, tenant_id=tenant_id, campaign_id=campaign_id, schedule_at=begin,
                            queueing_lock=fanout_lock(tenant_id, campaign_id), lock=fanout_lock(tenant_id, campaign_id))
    else:
        # Messages are due from now on: dispatch expires messages far past their time (a platform back from an
        # outage), but a campaign resumed on purpose is meant to go.
        await CampaignRepository(session, tenant_id).update(campaign_id, {"starts_at": now})
    if back is State.SENDING and campaign.phase != "WAITING":  # a running A/B test's decision job is scheduled
        await jobs.defer_in(session, tasks.FANOUT, tenant_id=tenant_id, campaign_id=campaign_id,
                            queueing_lock=fanout_lock(tenant_id, campaign_id), lock=fanout_lock(tenant_id, campaign_id))
    return await get(session, tenant_id, campaign_id)


async def cancel(session: AsyncSession, dispatch: Dispatcher | None, tenant_id: str, campaign_id: str, by: str,
                 now: datetime) -> Campaign:
    """Stops the fan-out at the next batch, and withdraws what dispatch still holds (quiet hours, best time)."""
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    target(Action.CANCEL, campaign.state)
    if dispatch is not None and campaign.started_at is not None:
        await dispatch.cancel_source(session, tenant_id, "CAMPAIGN", campaign_id, now)
    await CampaignRepository(session, tenant_id).update(campaign_id, {
        "state": State.CANCELLED.value, "resume_state": None, "finished_at": now, "updated_at": now})
    await events.publish(session, tenant_id, campaign_id, CampaignCancelled(
        campaignId=campaign_id, fromState=campaign.state.value, submitted=campaign.cursor, cancelledAt=now, by=by))
    return await get(session, tenant_id, campaign_id)
