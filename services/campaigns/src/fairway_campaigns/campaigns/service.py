"""Campaign rules: create and edit drafts, schedule, pause, resume, cancel. State changes take the campaign's row
lock, so they serialise with the fan-out's batches: a pause lands between two batches, never inside one."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from fairway_campaigns import events, tasks
from fairway_campaigns.campaigns.repository import Campaign, CampaignRepository
from fairway_campaigns.campaigns.schemas import CampaignIn, CampaignPatch, Schedule, ScheduleKind
from fairway_campaigns.campaigns.states import Action, State, target
from fairway_chassis import BadRequest, CursorCodec, NotFound, Page, Unprocessable, paginate
from fairway_events.contracts.campaigns import (
    CampaignCancelled,
    CampaignPaused,
    CampaignScheduled,
)

# The earliest wall clock on Earth runs 14 hours ahead of UTC: a LOCAL_TIME campaign starts its fan-out then, and
# dispatch holds each message until the recipient's own local time.
_EARLIEST_OFFSET = timedelta(hours=14)


class JobDeferrer(Protocol):
    async def defer_in(self, session: AsyncSession, task: Any, *, tenant_id: str, schedule_at: datetime | None = None,
                       queueing_lock: str | None = None, lock: str | None = None, priority: int = 0,
                       **kwargs: Any) -> int | None: ...


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
                   now: datetime, *, needs_approval: bool = False) -> Campaign:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    new_state = target(Action.SCHEDULE, campaign.state, needs_approval=needs_approval)
    if not campaign.target_segment_id:
        raise Unprocessable("a campaign needs a target segment", field="targetSegmentId")
    begin = starts_at(Schedule.model_validate(campaign.schedule), campaign.time_zone, now)
    await CampaignRepository(session, tenant_id).update(
        campaign_id, {"state": new_state.value, "starts_at": begin, "updated_at": now})
    if new_state is State.SCHEDULED:
        await _scheduled(session, jobs, campaign, begin, by)
    return await get(session, tenant_id, campaign_id)


async def _scheduled(session: AsyncSession, jobs: JobDeferrer, campaign: Campaign, begin: datetime, by: str) -> None:
    await jobs.defer_in(session, tasks.FANOUT, tenant_id=campaign.tenant_id, campaign_id=campaign.id,
                        schedule_at=begin, queueing_lock=f"fanout:{campaign.tenant_id}:{campaign.id}",
                        lock=f"fanout:{campaign.tenant_id}:{campaign.id}")
    await events.publish(session, campaign.tenant_id, campaign.id, CampaignScheduled(
        campaignId=campaign.id, name=campaign.name, channels=campaign.channels,
        targetSegmentId=campaign.target_segment_id, scheduleKind=campaign.schedule.get("kind", "NOW"),
        startsAt=begin, abTest=campaign.ab_test is not None, by=by))


async def approved(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, campaign_id: str, by: str,
                   now: datetime) -> Campaign:
    """Every piece of the campaign's content was approved: PENDING_APPROVAL -> SCHEDULED."""
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    target(Action.APPROVE, campaign.state)
    begin = max(campaign.starts_at or now, now)
    await CampaignRepository(session, tenant_id).update(
        campaign_id, {"state": State.SCHEDULED.value, "starts_at": begin, "updated_at": now})
    await _scheduled(session, jobs, campaign, begin, by)
    return await get(session, tenant_id, campaign_id)


async def rejected(session: AsyncSession, tenant_id: str, campaign_id: str, now: datetime) -> Campaign:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    target(Action.REJECT, campaign.state)
    await CampaignRepository(session, tenant_id).update(campaign_id, {"state": State.DRAFT.value, "updated_at": now})
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
                            queueing_lock=f"fanout:{tenant_id}:{campaign_id}", lock=f"fanout:{tenant_id}:{campaign_id}")
    elif campaign.phase != "WAITING":  # a running A/B test's decision job is still scheduled
        await jobs.defer_in(session, tasks.FANOUT, tenant_id=tenant_id, campaign_id=campaign_id,
                            queueing_lock=f"fanout:{tenant_id}:{campaign_id}", lock=f"fanout:{tenant_id}:{campaign_id}")
    return await get(session, tenant_id, campaign_id)


async def cancel(session: AsyncSession, tenant_id: str, campaign_id: str, by: str, now: datetime) -> Campaign:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    target(Action.CANCEL, campaign.state)
    await CampaignRepository(session, tenant_id).update(campaign_id, {
        "state": State.CANCELLED.value, "resume_state": None, "finished_at": now, "updated_at": now})
    await events.publish(session, tenant_id, campaign_id, CampaignCancelled(
        campaignId=campaign_id, fromState=campaign.state.value, submitted=campaign.cursor, cancelledAt=now, by=by))
    return await get(session, tenant_id, campaign_id)
