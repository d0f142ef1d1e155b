"""Promotion rules. A promotion is an announcement to its audience, social posts, reminders on the tenant's
reminder days to audience members who have not entered, a "you're in" to each entrant and a reminder to entrants
the day before. Each step is a durable job at its time; a step hands its recipients to dispatch in batches (each
batch one transaction that locks the promotion row and advances the step's checkpoint), so a kill mid-step loses
or repeats nothing, and every message's request id is derived from (promotion, step, person, channel), which
dispatch's ledger and Messaging refuse to see twice.

TeeTime's changes take the same row lock: full or past its deadline, pending reminders stop and dispatch withdraws
what it still holds; cancelled, everything stops and entrants are told once; a new date moves the schedule."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from fairway_campaigns import events, tasks
from fairway_campaigns.dispatcher import Dispatcher
from fairway_campaigns.promotions import content as copy
from fairway_campaigns.promotions.plan import AUDIENCE_KINDS, Kind, Planned, Status, announcement, timed_steps
from fairway_campaigns.promotions.repository import Promotion, PromotionRepository, Step
from fairway_campaigns.promotions.schemas import (
    EntryResults,
    PromotionIn,
    PromotionSettings,
    ResultsOut,
    SendCount,
    SocialResults,
)
from fairway_campaigns.results.repository import NewMessage, ResultRepository
from fairway_campaigns.tasks import JobDeferrer, promotion_lock
from fairway_chassis import Conflict, CursorCodec, NotFound, Page, Unprocessable, paginate
from fairway_events.contracts.campaigns import PromotionCreated, PromotionReminderSent, PromotionStopped
from fairway_events.contracts.dispatch import (
    DispatchContent,
    DispatchRequested,
    DispatchSource,
    SendWindow,
    dispatch_request_id,
)
from fairway_events.contracts.social_requests import SocialPostRequested

KIND = "PROMOTION"
WAVE = "PROMO"  # campaign_messages.wave of a promotion's messages (results are shared with campaigns)
MESSAGE_CHANNELS = ("EMAIL", "PUSH", "SMS")  # in the order an entrant's one message picks its channel
_IDS = uuid.UUID("0c1f9a52-7e43-5b8d-a6c1-3f2e9d8b7a60")


class Step_(StrEnum):
    MORE = "MORE"
    STOP = "STOP"


def entrants_source(promotion_id: str) -> str:
    """Entrants' messages are their own dispatch source, so stopping reminders never withdraws a confirmation."""
    return f"{promotion_id}/entrants"


def competition_promotion_id(tenant_id: str, competition_id: str) -> str:
    return str(uuid.uuid5(_IDS, f"{tenant_id}\x1f{competition_id}"))


# -- settings ---------------------------------------------------------------------------------------------------
async def settings(session: AsyncSession, tenant_id: str) -> PromotionSettings:
    stored = await PromotionRepository(session, tenant_id).settings()
    return PromotionSettings.model_validate(stored) if stored else PromotionSettings()


async def save_settings(session: AsyncSession, tenant_id: str, body: PromotionSettings, now: datetime, by: str
                        ) -> PromotionSettings:
    await PromotionRepository(session, tenant_id).save_settings(body.model_dump(mode="json"), now, by)
    return body


# -- creating ---------------------------------------------------------------------------------------------------
def _plan(p: Promotion | PromotionIn, *, starts_at: datetime, deadline: datetime | None, days: list[int], zone: str,
          competition: bool, now: datetime) -> list[Planned]:
    planned = timed_steps(starts_at, deadline, days, zone, now)
    return [s for s in planned if competition or s.kind is not Kind.ENTRANT_REMINDER]


async def create(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, data: PromotionIn, by: str,
                 now: datetime, *, automatic: bool = False) -> Promotion | None:
    """A new promotion with its schedule. None when `automatic` and the competition is promoted already (or the
    tenant gave auto-promotion no audience); a staff member gets 409 or 422 instead."""
    s = await settings(session, tenant_id)
    repo = PromotionRepository(session, tenant_id)
    segment = data.audienceSegmentId or s.segment_for(data.format)
    if segment is None:
        if automatic:
            return None
        raise Unprocessable("no audience: give audienceSegmentId or set one in the promotion settings",
                            field="audienceSegmentId")
    if data.startsAt <= now:
        raise Unprocessable("the event has started", field="startsAt")
    channels = [c.value for c in (data.channels or s.channels)]
    days = data.reminderDays or s.reminderDays
    cid = data.competitionId
    promotion_id = competition_promotion_id(tenant_id, cid) if cid else str(uuid7())
    capacity = data.capacity or (await repo.entry_capacity(cid) if cid else None)
    status = "PENDING_APPROVAL" if s.needsApproval else "ACTIVE"
    added = await repo.add({
        "id": promotion_id, "competition_id": cid, "name": data.name, "description": data.description,
        "format": data.format, "starts_at": data.startsAt, "entry_deadline": data.entryDeadline,
        "capacity": capacity, "link": data.link, "channels": channels, "segment_id": segment, "reminder_days": days,
        "time_zone": s.timeZone, "attribution_days": s.attributionDays, "status": status, "automatic": automatic,
        "created_by": by, "created_at": now, "updated_at": now,
    })
    if not added:
        if automatic:
            return None
        raise Conflict(f"competition {cid!r} is promoted already: promotion {promotion_id}")
    planned = [announcement(now, timedelta(hours=s.announcementDelayHours), data.startsAt),
               *_plan(data, starts_at=data.startsAt, deadline=data.entryDeadline, days=days, zone=s.timeZone,
                      competition=cid is not None, now=now)]
    await repo.save_steps(promotion_id, planned)
    promotion = await get(session, tenant_id, promotion_id)
    if status == "ACTIVE":
        await _defer(session, jobs, promotion, await repo.steps(promotion_id))
    await events.publish(session, tenant_id, promotion_id, PromotionCreated(
        promotionId=promotion_id, competitionId=cid, name=data.name, startsAt=data.startsAt, channels=channels,
        audienceSegmentId=segment, reminderDays=[p.days_before for p in planned
                                                 if p.kind is Kind.REMINDER and p.status is Status.PENDING
                                                 and p.days_before is not None],
        automatic=automatic, by=by))
    return promotion


async def _defer(session: AsyncSession, jobs: JobDeferrer, p: Promotion, steps: Sequence[Step]) -> None:
    for st in steps:
        if st.status == Status.PENDING.value:
            due = st.due_at.isoformat()
            # The due time is in the lock and the arguments: a step moved to a new time gets a new job, and the
            # old one finds the step's time changed and does nothing.
            await jobs.defer_in(session, tasks.PROMOTION_STEP, tenant_id=p.tenant_id, schedule_at=st.due_at,
                                queueing_lock=f"{promotion_lock(p.tenant_id, p.id)}:{st.step}:{due}",
                                lock=promotion_lock(p.tenant_id, p.id), promotion_id=p.id, step=st.step, due=due)


async def get(session: AsyncSession, tenant_id: str, promotion_id: str, *, lock: bool = False) -> Promotion:
    p = await PromotionRepository(session, tenant_id).get(promotion_id, lock=lock)
    if p is None:
        raise NotFound(f"no promotion {promotion_id!r}")
    return p


CURSOR: CursorCodec[tuple[AwareDatetime, str]] = CursorCodec(tuple[AwareDatetime, str])


async def page(session: AsyncSession, tenant_id: str, cursor: str | None, limit: int) -> Page[Promotion]:
    rows = await PromotionRepository(session, tenant_id).page(CURSOR.decode(cursor), limit + 1)
    return paginate(rows, limit, CURSOR, key=lambda p: (p.created_at, p.id))


async def approve(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, promotion_id: str, by: str,
                  now: datetime) -> Promotion:
    """PENDING_APPROVAL -> ACTIVE: the announcement goes now if its time passed while waiting; reminders whose
    time passed meanwhile are skipped."""
    p = await get(session, tenant_id, promotion_id, lock=True)
    if p.status != "PENDING_APPROVAL":
        raise Conflict(f"the promotion is {p.status}")
    repo = PromotionRepository(session, tenant_id)
    ann = await repo.step(promotion_id, Kind.ANNOUNCE.value)
    if ann is not None and ann.status == Status.PENDING.value and ann.due_at < now:
        await repo.update_step(promotion_id, ann.step, {"due_at": now})
    await repo.save_steps(promotion_id, _plan(p, starts_at=p.starts_at, deadline=p.entry_deadline,
                                              days=p.reminder_days, zone=p.time_zone,
                                              competition=p.competition_id is not None, now=now))
    await repo.update(promotion_id, {"status": "ACTIVE", "approved_by": by, "approved_at": now, "updated_at": now})
    p = await get(session, tenant_id, promotion_id)
    await _defer(session, jobs, p, await repo.steps(promotion_id))
    return p


# -- running a step ---------------------------------------------------------------------------------------------
async def needs_content(session: AsyncSession, tenant_id: str, promotion_id: str) -> copy.Event | None:
    p = await PromotionRepository(session, tenant_id).get(promotion_id)
    if p is None or p.content is not None:
        return None
    return _event(p)


def _event(p: Promotion) -> copy.Event:
    return copy.Event(name=p.name, starts_at=p.starts_at, entry_deadline=p.entry_deadline,
                      description=p.description, format=p.format, link=p.link, time_zone=p.time_zone)


async def keep_content(session: AsyncSession, tenant_id: str, promotion_id: str, content: dict[str, Any],
                       source: str) -> None:
    """The first copy written stays: every message of the promotion says the same."""
    p = await get(session, tenant_id, promotion_id, lock=True)
    if p.content is None:
        await PromotionRepository(session, tenant_id).update(
            promotion_id, {"content": content, "content_source": source[:100]})


async def step(session: AsyncSession, dispatch: Dispatcher, tenant_id: str, promotion_id: str, step_name: str,
               due: datetime, now: datetime, batch_size: int) -> Step_:
    """One batch of a step, in the caller's transaction (its commit is the checkpoint)."""
    repo = PromotionRepository(session, tenant_id)
    p = await repo.get(promotion_id, lock=True)
    st = await repo.step(promotion_id, step_name)
    if p is None or st is None or st.status != Status.PENDING.value or st.due_at != due:
        return Step_.STOP  # done, stopped, or moved to another time (whose own job will run it)
    if p.status not in ("ACTIVE", "STOPPED"):
        return Step_.STOP  # waiting for approval (its approval plans the jobs again), or cancelled
    kind = Kind(st.kind)
    if kind is Kind.DEADLINE:
        await stop(session, dispatch, p, "DEADLINE_PASSED", now)
        await repo.update_step(promotion_id, st.step, {"status": Status.DONE.value, "done_at": now})
        return Step_.STOP
    if kind in AUDIENCE_KINDS and p.status != "ACTIVE":
        await repo.update_step(promotion_id, st.step, {"status": Status.STOPPED.value, "reason": p.stop_reason})
        return Step_.STOP
    if p.competition_id:
        await resolve_entries(session, tenant_id, p.competition_id)
    if kind is Kind.ENTRANT_REMINDER:
        people = await repo.entrants(p.competition_id or "", st.cursor, batch_size)
        key, source = "ENTRANT_REMINDER", entrants_source(p.id)
        channels = _entrant_channel(p)
    else:
        audience = dispatch.audience(tenant_id, p.segment_id, [])
        people = await repo.not_entered(audience, p.competition_id, st.cursor, batch_size)
        key, source = kind.value, p.id
        channels = [c for c in p.channels if c in MESSAGE_CHANNELS]
    if not people:
        await _finish(session, p, st, now)
        return Step_.STOP
    window = SendWindow(start=st.due_at, end=st.window_end) if st.window_end and st.window_end > st.due_at else None
    n = await submit(session, dispatch, p, people, channels, st.step, key, source, now, window=window,
                     days=st.days_before)
    await repo.update_step(promotion_id, st.step, {"cursor": people[-1], "recipients": st.recipients + len(people),
                                                    "requested": st.requested + n})
    return Step_.MORE


async def _finish(session: AsyncSession, p: Promotion, st: Step, now: datetime) -> None:
    repo = PromotionRepository(session, p.tenant_id)
    await repo.update_step(p.id, st.step, {"status": Status.DONE.value, "done_at": now})
    kind = Kind(st.kind)
    if kind in AUDIENCE_KINDS and "SOCIAL" in p.channels:
        text = copy.render(_copy(p)[f"SOCIAL_{kind.value}"], days=st.days_before)["body"]
        await events.publish(session, p.tenant_id, p.id, SocialPostRequested(
            requestId=_post_id(p.id, st.step), sourceKind="PROMOTION", sourceId=p.id, text=text, link=p.link))
    if kind is Kind.REMINDER:
        await events.publish(session, p.tenant_id, p.id, PromotionReminderSent(
            promotionId=p.id, step=st.step, daysBefore=st.days_before or 0, recipients=st.recipients,
            requested=st.requested, sentAt=now))


def _post_id(promotion_id: str, step_name: str) -> str:
    return dispatch_request_id(KIND, promotion_id, None, step_name, "-", "SOCIAL")


def _copy(p: Promotion) -> dict[str, dict[str, str]]:
    return p.content or copy.templates(_event(p))


def _entrant_channel(p: Promotion) -> list[str]:
    return [c for c in MESSAGE_CHANNELS if c in p.channels][:1]


async def submit(session: AsyncSession, dispatch: Dispatcher, p: Promotion, people: Sequence[str],
                 channels: Sequence[str], step_name: str, key: str, source: str, now: datetime, *,
                 window: SendWindow | None = None, days: int | None = None) -> int:
    """Hand one message per person and channel to dispatch and record each outcome with the promotion's results."""
    text = copy.render(_copy(p)[key], days=days)
    content = DispatchContent(subject=text.get("subject"), body=text["body"])
    requests = [
        DispatchRequested(
            requestId=dispatch_request_id(KIND, source, None, step_name, pid, channel), profileId=pid,
            channel=channel, source=DispatchSource(kind=KIND, id=source, stepId=step_name),  # type: ignore[arg-type]
            content=content, window=window)
        for pid in people for channel in channels
    ]
    if not requests:
        return 0
    results = await dispatch.submit_many(session, p.tenant_id, requests, now)
    await ResultRepository(session, p.tenant_id).record([
        NewMessage(request_id=res.request_id, campaign_id=p.id, profile_id=r.profileId, channel=r.channel,
                   variant=step_name, wave=WAVE, outcome=res.outcome, reason=res.reason, submitted_at=now)
        for res, r in zip(results, requests, strict=True)
    ])
    return len(requests)


async def resolve_entries(session: AsyncSession, tenant_id: str, competition_id: str) -> None:
    """Entries whose player identity was not linked to a profile when they came in, linked now if it is."""
    repo = PromotionRepository(session, tenant_id)
    keys = ResultRepository(session, tenant_id)
    for entry_id, entry_keys in await repo.unresolved(competition_id):
        profile = await keys.profile_for(entry_keys)
        if profile is not None:
            await repo.resolve(competition_id, entry_id, profile)


# -- what TeeTime reports ---------------------------------------------------------------------------------------
async def entered(session: AsyncSession, dispatch: Dispatcher, tenant_id: str, competition_id: str, entry_id: str,
                  keys: list[tuple[str, str]], capacity: int | None, at: datetime, now: datetime) -> None:
    """A player entered: remembered (so reminders pass them by) and, once, told they are in."""
    repo = PromotionRepository(session, tenant_id)
    profile = await ResultRepository(session, tenant_id).profile_for(keys)
    await repo.enter(competition_id, entry_id, keys, profile, at, capacity)
    p = await repo.of_competition(competition_id, lock=True)
    if p is None:
        return
    if capacity and p.capacity != capacity:
        await repo.update(p.id, {"capacity": capacity, "updated_at": now})
    if profile is not None and p.status in ("ACTIVE", "STOPPED") and now < p.starts_at:
        await submit(session, dispatch, p, [profile], _entrant_channel(p), "CONFIRM", "CONFIRM",
                     entrants_source(p.id), now)


async def withdrew(session: AsyncSession, tenant_id: str, competition_id: str, entry_id: str, at: datetime) -> None:
    await PromotionRepository(session, tenant_id).withdraw(competition_id, entry_id, at)


async def changed(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, competition_id: str,
                  details: dict[str, Any], now: datetime) -> None:
    """The competition changed: its details follow, and a new date or deadline moves the pending schedule."""
    repo = PromotionRepository(session, tenant_id)
    p = await repo.of_competition(competition_id, lock=True)
    if p is None or p.status == "CANCELLED":
        return
    values = {k: v for k, v in details.items() if v is not None}
    await repo.update(p.id, {**values, "updated_at": now})
    p = await get(session, tenant_id, p.id)
    await repo.save_steps(p.id, _plan(p, starts_at=p.starts_at, deadline=p.entry_deadline, days=p.reminder_days,
                                      zone=p.time_zone, competition=True, now=now))
    if p.status in ("ACTIVE", "STOPPED"):
        await _defer(session, jobs, p, await repo.steps(p.id))


async def full(session: AsyncSession, dispatch: Dispatcher, tenant_id: str, competition_id: str,
               capacity: int | None, now: datetime) -> None:
    p = await PromotionRepository(session, tenant_id).of_competition(competition_id, lock=True)
    if p is not None:
        if capacity:
            await PromotionRepository(session, tenant_id).update(p.id, {"capacity": capacity})
        await stop(session, dispatch, p, "FULL", now)


async def cancelled(session: AsyncSession, dispatch: Dispatcher, tenant_id: str, competition_id: str,
                    now: datetime) -> None:
    p = await PromotionRepository(session, tenant_id).of_competition(competition_id, lock=True)
    if p is not None:
        await stop(session, dispatch, p, "CANCELLED", now)


async def cancel(session: AsyncSession, dispatch: Dispatcher, tenant_id: str, promotion_id: str, now: datetime
                 ) -> Promotion:
    """A staff member stops the promotion (the event itself goes ahead: entrants are not told anything)."""
    p = await get(session, tenant_id, promotion_id, lock=True)
    if p.status == "CANCELLED":
        raise Conflict("the promotion is CANCELLED")
    await stop(session, dispatch, p, "STAFF_CANCELLED", now)
    return await get(session, tenant_id, promotion_id)


async def stop(session: AsyncSession, dispatch: Dispatcher, p: Promotion, reason: str, now: datetime) -> None:
    """FULL, DEADLINE_PASSED: the audience's pending steps stop and dispatch withdraws what it holds of them.
    CANCELLED, STAFF_CANCELLED: every step stops, entrants' held messages too, posts not yet out are withdrawn;
    when the event itself is cancelled, its entrants are told once."""
    repo = PromotionRepository(session, p.tenant_id)
    everything = reason in ("CANCELLED", "STAFF_CANCELLED")
    if p.status == "CANCELLED" or (not everything and p.status != "ACTIVE"):
        return
    kinds = [k.value for k in Kind] if everything else [k.value for k in AUDIENCE_KINDS]
    stopped = await repo.stop_steps(p.id, kinds, reason)
    held = await dispatch.cancel_source(session, p.tenant_id, KIND, p.id, now)
    if everything:
        held += await dispatch.cancel_source(session, p.tenant_id, KIND, entrants_source(p.id), now)
        if "SOCIAL" in p.channels:
            for st in await repo.steps(p.id):
                if Kind(st.kind) in AUDIENCE_KINDS and st.status == Status.DONE.value:
                    await events.publish(session, p.tenant_id, p.id, SocialPostRequested(
                        requestId=_post_id(p.id, st.step), sourceKind="PROMOTION", sourceId=p.id, text="-",
                        cancel=True))
    await repo.update(p.id, {"status": "CANCELLED" if everything else "STOPPED", "stop_reason": reason,
                             "updated_at": now})
    await events.publish(session, p.tenant_id, p.id, PromotionStopped(
        promotionId=p.id, reason=reason, stoppedSteps=stopped, cancelledHeld=held, at=now))  # type: ignore[arg-type]
    if reason == "CANCELLED" and p.competition_id and now < p.starts_at:
        await resolve_entries(session, p.tenant_id, p.competition_id)
        after: str | None = None
        while people := await repo.entrants(p.competition_id, after, 1000):
            await submit(session, dispatch, p, people, _entrant_channel(p), "CANCELLED", "CANCELLED",
                         entrants_source(p.id), now)
            after = people[-1]


# -- results ----------------------------------------------------------------------------------------------------
async def results(session: AsyncSession, p: Promotion) -> ResultsOut:
    repo = PromotionRepository(session, p.tenant_id)
    m = await repo.message_totals(p.id)
    social = await repo.social_totals(p.id)
    total = attributed = 0
    if p.competition_id:
        audience_steps = [st.step for st in await repo.steps(p.id) if Kind(st.kind) in AUDIENCE_KINDS]
        total, attributed = await repo.entry_totals(p.competition_id, p.id, audience_steps, p.attribution_days)
    return ResultsOut(
        reach=m.reach, sends=[SendCount(channel=c, outcome=o, count=n) for c, o, n in m.sends], opened=m.opened,
        clicked=m.clicked, social=SocialResults(**social.__dict__),
        entries=EntryResults(total=total, attributed=attributed, capacity=p.capacity,
                             attributionDays=p.attribution_days))
