"""The fan-out: when sending starts the audience is snapshotted; then recipients go to dispatch in batches in the
snapshot's order. Each batch is one transaction that locks the campaign row, hands the batch to dispatch (its
ledger rows and send requests) and advances the checkpoint: a crash or kill before the commit leaves nothing of the
batch, after it everything, so a restart carries on from the checkpoint and nobody is requested twice (dispatch's
ledger would refuse a second request with the same id anyway). A pause or cancel takes the same lock, so it lands
between two batches.

With an A/B test the first `test_size` positions (a random sample: the order is hashed) get the variants in turn;
when they are out the campaign waits for the test's end (phase WAITING), then the rest gets the winner.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from fairway_campaigns import events, tasks
from fairway_campaigns.approvals import service as approvals
from fairway_campaigns.campaigns import service as campaigns
from fairway_campaigns.campaigns.repository import Campaign, CampaignRepository
from fairway_campaigns.campaigns.schemas import MESSAGE_CHANNELS, AbTest, AudienceOut, Schedule, ScheduleKind
from fairway_campaigns.campaigns.states import Action, State, target
from fairway_campaigns.dispatcher import Dispatcher
from fairway_campaigns.results.repository import NewMessage, ResultRepository
from fairway_campaigns.sending.repository import Recipient, RecipientRepository
from fairway_campaigns.sending.schemas import TestSendOut, TestSendResult
from fairway_campaigns.tasks import JobDeferrer
from fairway_chassis import ServiceUnavailable
from fairway_events.contracts.campaigns import CampaignCompleted, CampaignStarted
from fairway_events.contracts.dispatch import (
    DispatchContent,
    DispatchRequested,
    DispatchSource,
    SendWindow,
    dispatch_request_id,
)
from fairway_events.contracts.social_requests import SocialPostRequested

KIND = "CAMPAIGN"


class Phase(StrEnum):
    ALL = "ALL"  # no A/B test: everyone gets the campaign's content
    TEST = "TEST"  # the A/B test wave is going out
    WAITING = "WAITING"  # the test wave is out; the decision job is scheduled for the test's end
    REST = "REST"  # the winner goes to the rest
    DONE = "DONE"  # no significant winner and the tenant chose to send nothing more


class Step(StrEnum):
    MORE = "MORE"  # a batch went out; there may be more
    STOP = "STOP"  # paused, cancelled, finished, or waiting for the A/B test


@dataclass(frozen=True)
class Started:
    audience: int
    test_size: int


async def start(session: AsyncSession, dispatch: Dispatcher, tenant_id: str, campaign_id: str, now: datetime
                ) -> Campaign | None:
    """SCHEDULED -> SENDING with the audience snapshot. Returns the campaign if it is SENDING afterwards."""
    repo = CampaignRepository(session, tenant_id)
    campaign = await repo.get(campaign_id, lock=True)
    if campaign is None or campaign.state is not State.SCHEDULED:
        return campaign if campaign and campaign.state is State.SENDING else None
    if await approvals.unapproved_flagged(session, tenant_id, campaign.channels, campaign.content,
                                          campaign.ab_test):
        # The last gate: content the AI gateway flagged never goes out unapproved.
        await approvals.request_reviews(session, tenant_id, campaign_id, campaign.channels, campaign.content,
                                        campaign.ab_test, now)
        await repo.update(campaign_id, {"state": target(Action.HOLD, campaign.state).value, "updated_at": now})
        return None
    target(Action.START, campaign.state)
    ab = AbTest.model_validate(campaign.ab_test) if campaign.ab_test else None
    audience = dispatch.audience(tenant_id, campaign.target_segment_id or "", campaign.exclusion_segment_ids)
    recipients = RecipientRepository(session, tenant_id)
    # The size decides the test wave, and the snapshot deals variants over it: count first, then copy.
    size = await recipients.count(audience)
    test_size = min(size, max(len(ab.variants), math.ceil(size * ab.testShare))) if ab else 0
    size = await recipients.snapshot(campaign_id, audience, [v.name for v in ab.variants] if ab else [], test_size)
    phase = Phase.TEST if ab and test_size else Phase.ALL
    await repo.update(campaign_id, {"state": State.SENDING.value, "phase": phase.value, "audience_size": size,
                                    "test_size": test_size, "cursor": 0, "started_at": now, "updated_at": now})
    await events.publish(session, tenant_id, campaign_id,
                         CampaignStarted(campaignId=campaign_id, audienceSize=size, testSize=test_size, startedAt=now))
    social = campaign.content.get("SOCIAL") if "SOCIAL" in campaign.channels else None
    if social:
        await events.publish(session, tenant_id, campaign_id, SocialPostRequested(
            requestId=dispatch_request_id(KIND, campaign_id, None, None, "-", "SOCIAL"), sourceKind="CAMPAIGN",
            sourceId=campaign_id, text=social.get("body") or social.get("subject") or campaign.name,
            link=social.get("link"), hashtags=social.get("hashtags", []),
        ))
    return await repo.get(campaign_id)


async def step(session: AsyncSession, dispatch: Dispatcher, jobs: JobDeferrer, tenant_id: str, campaign_id: str,
               now: datetime, batch_size: int) -> Step:
    """One batch, in the caller's transaction (which the caller commits: that is the checkpoint)."""
    repo = CampaignRepository(session, tenant_id)
    campaign = await repo.get(campaign_id, lock=True)
    if campaign is None or campaign.state is not State.SENDING:
        return Step.STOP
    phase = Phase(campaign.phase or Phase.ALL)
    total = campaign.audience_size or 0
    end = (campaign.test_size or 0) if phase is Phase.TEST else total
    if phase is Phase.WAITING:
        return Step.STOP
    if phase is Phase.DONE:  # no winner, and the tenant chose to send nothing more
        await complete(session, tenant_id, campaign, now)
        return Step.STOP
    if campaign.cursor >= end:
        if phase is Phase.TEST and end < total:
            ab = AbTest.model_validate(campaign.ab_test)
            await repo.update(campaign_id, {"phase": Phase.WAITING.value, "updated_at": now})
            await jobs.defer_in(session, tasks.DECIDE_AB_TEST, tenant_id=tenant_id, campaign_id=campaign_id,
                                schedule_at=now + timedelta(hours=ab.durationHours),
                                queueing_lock=f"decide:{tenant_id}:{campaign_id}")
            return Step.STOP
        await complete(session, tenant_id, campaign, now)
        return Step.STOP
    batch = await RecipientRepository(session, tenant_id).batch(campaign_id, campaign.cursor, end, batch_size)
    await submit(session, dispatch, tenant_id, campaign, batch, wave=_wave(phase), now=now)
    await repo.update(campaign_id, {"cursor": batch[-1].position + 1 if batch else end, "updated_at": now})
    return Step.MORE


def _wave(phase: Phase) -> str:
    return {Phase.TEST: "TEST", Phase.REST: "REST"}.get(phase, "ALL")


async def submit(session: AsyncSession, dispatch: Dispatcher, tenant_id: str, campaign: Campaign,
                 batch: list[Recipient], *, wave: str, now: datetime, run_id: str | None = None) -> int:
    """Hand `batch` to dispatch (one request per recipient and message channel) and record the outcomes."""
    if not batch:
        return 0
    ab = AbTest.model_validate(campaign.ab_test) if campaign.ab_test else None
    variants = {v.name: v for v in ab.variants} if ab else {}
    schedule = Schedule.model_validate(campaign.schedule)
    zones: dict[str, str] = {}
    if schedule.kind is ScheduleKind.LOCAL_TIME:
        zones = await dispatch.time_zones(session, tenant_id, [r.profile_id for r in batch])
    requests: list[DispatchRequested] = []
    meta: list[tuple[Recipient, str, str | None]] = []
    message_channels = [c for c in campaign.channels if c in {m.value for m in MESSAGE_CHANNELS}]
    # What recipients of one variant and channel share is built once per batch, not once per recipient: the same
    # content object also lets dispatch hash it once (its content id).
    shared: dict[tuple[str | None, str], tuple[DispatchSource, DispatchContent, SendWindow | None]] = {}
    not_before: dict[tuple[str | None, str | None], datetime | None] = {}
    for r in batch:
        variant_name = r.variant if wave != "REST" else (campaign.winner or r.variant)
        variant = variants.get(variant_name or "")
        channels = [variant.channel] if variant and variant.channel else message_channels
        zone = zones.get(r.profile_id)
        if (variant_name, zone) not in not_before:
            not_before[(variant_name, zone)] = _not_before(schedule, campaign, zone, variant)
        for channel in channels:
            common = shared.get((variant_name, channel))
            if common is None:
                common = shared[(variant_name, channel)] = (
                    DispatchSource(kind=KIND, id=campaign.id, runId=run_id, stepId=variant_name),
                    _content(campaign.content.get(channel) or _first_message_content(campaign), variant),
                    SendWindow(start=schedule.window.start, end=schedule.window.end)
                    if schedule.kind is ScheduleKind.BEST_TIME and schedule.window and not (variant and variant.sendAt)
                    else None,
                )
            source, content, window = common
            requests.append(DispatchRequested(
                requestId=dispatch_request_id(KIND, campaign.id, run_id, None, r.profile_id, channel),
                profileId=r.profile_id, channel=channel, source=source, content=content,
                notBefore=not_before[(variant_name, zone)], window=window,
            ))
            meta.append((r, channel, variant_name))
    results = await dispatch.submit_many(session, tenant_id, requests, now)
    await ResultRepository(session, tenant_id).record([
        NewMessage(request_id=res.request_id, campaign_id=campaign.id, profile_id=r.profile_id, channel=channel,
                   variant=variant_name, wave=wave, outcome=res.outcome, reason=res.reason, submitted_at=now)
        for res, (r, channel, variant_name) in zip(results, meta, strict=True)
    ])
    return len(requests)


def _first_message_content(campaign: Campaign) -> dict[str, Any]:
    """A channel variant may switch to a channel the campaign has no content for: reuse the first message content."""
    return next(campaign.content[c] for c in campaign.channels if c != "SOCIAL")


def _content(base: dict[str, Any], variant: Any) -> DispatchContent:
    subject = (variant.subject if variant and variant.subject else None) or base.get("subject")
    body = (variant.body if variant and variant.body else None) or base.get("body")
    return DispatchContent(
        templateId=base.get("templateId"), templateData=base.get("templateData") or {}, subject=subject, body=body,
        aiPersonalised=bool(base.get("aiPersonalised")), approvalContentId=base.get("approvalId"),
    )


def _not_before(schedule: Schedule, campaign: Campaign, recipient_zone: str | None, variant: Any
                ) -> datetime | None:
    """When the message is due: dispatch holds it until then, and expires it when it is far past (a platform
    back from a long outage must not send this morning's campaign in the evening)."""
    if variant is not None and variant.sendAt is not None:
        return variant.sendAt.astimezone(UTC)
    if schedule.kind is ScheduleKind.LOCAL_TIME and schedule.date and schedule.localTime:
        zone = ZoneInfo(recipient_zone or campaign.time_zone)
        return datetime.combine(schedule.date, schedule.localTime, tzinfo=zone).astimezone(UTC)
    if schedule.kind is ScheduleKind.BEST_TIME:
        return None  # the window says when
    return campaign.starts_at


async def complete(session: AsyncSession, tenant_id: str, campaign: Campaign, now: datetime) -> None:
    target(Action.COMPLETE, campaign.state)
    await CampaignRepository(session, tenant_id).update(
        campaign.id, {"state": State.COMPLETED.value, "finished_at": now, "updated_at": now})
    counts = await ResultRepository(session, tenant_id).by_variant(campaign.id)
    skipped: dict[str, int] = {}
    for c in counts:
        for outcome, n in c.outcomes.items():
            if outcome not in ("REQUESTED", "HELD"):
                skipped[outcome] = skipped.get(outcome, 0) + n
    await events.publish(session, tenant_id, campaign.id, CampaignCompleted(
        campaignId=campaign.id, audienceSize=campaign.audience_size or 0,
        requested=sum(c.requested for c in counts), skipped=skipped, completedAt=now))


# -- before and beside the fan-out ----------------------------------------------------------------------------
async def preview(session: AsyncSession, dispatch: Dispatcher | None, tenant_id: str, campaign_id: str,
                  sample: int = 20) -> AudienceOut:
    campaign = await campaigns.get(session, tenant_id, campaign_id)
    if dispatch is None or not campaign.target_segment_id:
        return AudienceOut(count=0, sample=[], excluded=0)
    repo = RecipientRepository(session, tenant_id)
    audience = dispatch.audience(tenant_id, campaign.target_segment_id, campaign.exclusion_segment_ids)
    count = await repo.count(audience)
    everyone = await repo.count(dispatch.audience(tenant_id, campaign.target_segment_id, []))
    return AudienceOut(count=count, sample=await repo.sample(audience, sample), excluded=everyone - count)


async def test_send(session: AsyncSession, dispatch: Dispatcher | None, tenant_id: str, campaign_id: str,
                    profile_ids: list[str], now: datetime) -> TestSendOut:
    campaign = await campaigns.get(session, tenant_id, campaign_id)
    if dispatch is None:
        raise ServiceUnavailable("dispatch is not running")
    run_id = f"proof-{uuid7()}"
    batch = [Recipient(position=i, profile_id=p, variant=None) for i, p in enumerate(dict.fromkeys(profile_ids))]
    proof = replace(campaign, ab_test=None, schedule={"kind": "NOW"}, starts_at=now)
    await submit(session, dispatch, tenant_id, proof, batch, wave="PROOF", now=now, run_id=run_id)
    rows = await ResultRepository(session, tenant_id).of_run(campaign_id, [
        dispatch_request_id(KIND, campaign_id, run_id, None, r.profile_id, c)
        for r in batch for c in campaign.channels if c != "SOCIAL"])
    return TestSendOut(runId=run_id, results=[
        TestSendResult(profileId=m.profile_id, channel=m.channel, requestId=m.request_id, outcome=m.outcome,
                       reason=m.reason) for m in rows])
