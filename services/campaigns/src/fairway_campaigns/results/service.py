"""Results: what became of a campaign's messages, per variant and hour, with the uplift over the control group."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.campaigns.repository import Campaign
from fairway_campaigns.campaigns.schemas import AbTest
from fairway_campaigns.dispatcher import Dispatcher
from fairway_campaigns.results.repository import ResultRepository, VariantCounts
from fairway_campaigns.results.schemas import CampaignStats, HourStats, UpliftStats, VariantResult
from fairway_events.contracts.identity import (
    ProfileCreated,
    ProfileErased,
    ProfileIdentityLinked,
    ProfileMerged,
    ProfileSnapshot,
    ProfileUnmerged,
)
from fairway_events.contracts.state import ProfileState, StateTombstone

KEY_TYPES = ("email", "phoneNumber", "sclMemberId", "teetimePlayerId", "messagingContactId", "authUserId")
DEFAULT_ATTRIBUTION_DAYS = 7
UNSUBSCRIBE_WINDOW = timedelta(days=7)


def keys_of(identity: Any) -> list[tuple[str, str]]:
    out = []
    for t in KEY_TYPES:
        v = getattr(identity, t, None)
        if v:
            out.append((t, v.strip().lower() if t == "email" else str(v)))
    return out


def _snapshot_keys(p: ProfileSnapshot) -> list[tuple[str, str]]:
    return [(t, v.strip().lower() if t == "email" else v) for t in KEY_TYPES for v in getattr(p.identities, t)]


async def identity_changed(session: AsyncSession, tenant_id: str, payload: BaseModel) -> None:
    repo = ResultRepository(session, tenant_id)
    match payload:
        case ProfileCreated():
            await repo.link_keys(payload.profile.profileId, _snapshot_keys(payload.profile))
        case ProfileIdentityLinked():
            v = payload.value.strip().lower() if payload.keyType == "email" else payload.value
            await repo.link_keys(payload.profileId, [(payload.keyType, v)])
        case ProfileMerged():
            await repo.link_keys(payload.winnerId, _snapshot_keys(payload.winner))
        case ProfileUnmerged():
            await repo.link_keys(payload.profileId, _snapshot_keys(payload.profile))
            await repo.link_keys(payload.restoredId, _snapshot_keys(payload.restored))
        case ProfileErased():
            await repo.forget_profile(payload.profileId)
        case ProfileState(mergedInto=None):  # a snapshot (crm.identity.state): the profile's keys now
            await repo.link_keys(payload.profile.profileId, _snapshot_keys(payload.profile))
        case StateTombstone(topic="crm.identity.state"):  # identity's tombstone: an erasure
            await repo.forget_profile(payload.key)


async def converted(session: AsyncSession, tenant_id: str, event_id: str, keys: Sequence[tuple[str, str]],
                    amount: Decimal, at: datetime, window_days: int = DEFAULT_ATTRIBUTION_DAYS) -> int:
    """Attribute an upstream booking or purchase to every campaign that reached (or held back) the person within
    the attribution window before it."""
    return await converted_many(session, tenant_id, [Conversion(event_id, keys, amount, at)], window_days)


@dataclass(frozen=True)
class Conversion:
    event_id: str
    keys: Sequence[tuple[str, str]]
    amount: Decimal
    at: datetime


async def converted_many(session: AsyncSession, tenant_id: str, events: Sequence[Conversion],
                         window_days: int = DEFAULT_ATTRIBUTION_DAYS) -> int:
    """`converted` for a run of events: whose they are and what they convert in two statements whatever the
    run's size, then the conversions themselves (rare: only people a campaign reached lately) in order."""
    repo = ResultRepository(session, tenant_id)
    profiles = await repo.profiles_for([e.keys for e in events])
    known = [(e, p) for e, p in zip(events, profiles, strict=True) if p is not None]
    requests = await repo.convertible_many([(p, e.at) for e, p in known], window_days)
    for (e, _), request_ids in zip(known, requests, strict=True):
        if request_ids:
            await repo.convert(e.event_id, request_ids, e.amount, e.at)
    return sum(len(r) for r in requests)


async def unsubscribed(session: AsyncSession, tenant_id: str, keys: Sequence[tuple[str, str]], at: datetime) -> None:
    repo = ResultRepository(session, tenant_id)
    profile = await repo.profile_for(keys)
    if profile is not None:
        await repo.unsubscribed(profile, at, at - UNSUBSCRIBE_WINDOW)


def _rate(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


async def _ledger_outcomes(session: AsyncSession, dispatch: Dispatcher, tenant_id: str, campaign_id: str,
                           repo: ResultRepository) -> dict[tuple[str | None, str], dict[str, int]]:
    """Dispatch's recorded outcomes per (variant, channel), test-sends left out."""
    ledger: dict[tuple[str | None, str], dict[str, int]] = {}
    for o in await dispatch.outcome_counts(session, tenant_id, "CAMPAIGN", campaign_id):
        cell = ledger.setdefault((o.variant, o.channel), {})
        cell[o.outcome] = cell.get(o.outcome, 0) + o.count
    # Test-sends (proofs) share the campaign's source id in the ledger; they are not results.
    for proof in await repo.by_variant(campaign_id, waves=("PROOF",), by_channel=True):
        cell = ledger.get((proof.variant, proof.channel or ""))
        if cell is not None:
            for outcome, n in proof.outcomes.items():
                cell[outcome] = cell.get(outcome, 0) - n
    return {k: {o: n for o, n in v.items() if n > 0} for k, v in ledger.items()}


def _result(r: VariantCounts, outcomes: dict[str, int] | None) -> VariantResult:
    c = r.counts
    outcomes = outcomes or r.outcomes
    return VariantResult(
        variant=r.variant, channel=r.channel, targeted=r.targeted,
        requested=outcomes.get("REQUESTED", r.requested), held=outcomes.get("HELD", 0),
        skipped={k: v for k, v in outcomes.items() if k not in ("REQUESTED", "HELD")},
        revenue=r.revenue, openRate=_rate(c["opened"], r.requested), clickRate=_rate(c["clicked"], r.requested),
        conversionRate=_rate(c["converted"], r.requested), **c,
    )


async def stats(session: AsyncSession, dispatch: Dispatcher | None, tenant_id: str, campaign: Campaign
                ) -> CampaignStats:
    repo = ResultRepository(session, tenant_id)
    # Dispatch's ledger knows the fate of held messages first (released, expired, cancelled): its outcomes win.
    ledger = await _ledger_outcomes(session, dispatch, tenant_id, campaign.id, repo) if dispatch else {}
    cells = [_result(r, ledger.get((r.variant, r.channel or ""))) for r in
             await repo.by_variant(campaign.id, by_channel=True)]
    variants = []
    for r in await repo.by_variant(campaign.id):
        mine = [c for c in cells if c.variant == r.variant]
        merged: dict[str, int] = {}
        for (variant, _), outcomes in ledger.items():
            if variant == r.variant:
                for k, n in outcomes.items():
                    merged[k] = merged.get(k, 0) + n
        variants.append(_result(r, merged).model_copy(update={"channels": mine}))
    total = VariantResult.total(variants).model_copy(update={"channels": [
        VariantResult.total([c for c in cells if c.channel == ch]).model_copy(update={"channel": ch})
        for ch in sorted({c.channel for c in cells if c.channel})]})
    control_size, control_converted = await repo.control(campaign.id)
    reached = total.requested
    treated_rate = _rate(total.converted, reached)
    control_rate = _rate(control_converted, control_size)
    uplift = UpliftStats(
        controlSize=control_size, controlConverted=control_converted, controlConversionRate=control_rate,
        treatedConversionRate=treated_rate,
        absoluteUplift=round(treated_rate - control_rate, 4) if control_size else None,
        relativeUplift=round((treated_rate - control_rate) / control_rate, 4) if control_size and control_rate
        else None,
    )
    hours: dict[datetime, dict[str, int]] = {}
    for hour, what, n in await repo.hourly(campaign.id):
        hours.setdefault(hour, {})[what] = n
    ab = AbTest.model_validate(campaign.ab_test) if campaign.ab_test else None
    return CampaignStats(
        campaignId=campaign.id, state=campaign.state, audienceSize=campaign.audience_size,
        submitted=campaign.cursor, total=total, variants=[v for v in variants if v.variant is not None],
        hourly=[HourStats(hour=h, **{k: v.get(k, 0) for k in HourStats.COUNTS}) for h, v in sorted(hours.items())],
        uplift=uplift, abTest=campaign.decision, metric=ab.metric.value if ab else None,
    )
