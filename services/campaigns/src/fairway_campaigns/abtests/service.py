"""The end of an A/B test: read each variant's metric from the results, test for significance, store and publish
the decision, and send the winner to the rest (or, with no significant winner, what the tenant chose)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns import events, tasks
from fairway_campaigns.abtests.stats import Decision, decide
from fairway_campaigns.campaigns.repository import CampaignRepository
from fairway_campaigns.campaigns.schemas import AbMetric, AbTest
from fairway_campaigns.campaigns.states import State
from fairway_campaigns.results.repository import ResultRepository
from fairway_campaigns.tasks import JobDeferrer, fanout_lock
from fairway_events.contracts.campaigns import AbTestWinnerSelected, VariantStats

METRIC_COLUMN = {AbMetric.OPEN_RATE: "opened_at", AbMetric.CLICK_RATE: "clicked_at",
                 AbMetric.CONVERSION: "converted_at"}


def outcome(decision: Decision, no_winner: str) -> tuple[str, str | None]:
    """(decision label, variant for the rest)."""
    if decision.significant:
        return "SIGNIFICANT", decision.best
    if no_winner == "SEND_BEST" and decision.best is not None:
        return "BEST_NOT_SIGNIFICANT", decision.best
    return "NONE", None


async def conclude(session: AsyncSession, jobs: JobDeferrer, tenant_id: str, campaign_id: str, now: datetime
                   ) -> dict[str, Any] | None:
    """Decide once: a campaign no longer WAITING (decided already, or cancelled) is left alone."""
    repo = CampaignRepository(session, tenant_id)
    campaign = await repo.get(campaign_id, lock=True)
    if campaign is None or campaign.phase != "WAITING" or campaign.state in (State.CANCELLED, State.COMPLETED):
        return None
    ab = AbTest.model_validate(campaign.ab_test)
    counts = await ResultRepository(session, tenant_id).metric_counts(campaign_id, METRIC_COLUMN[ab.metric], "TEST")
    for v in ab.variants:
        counts.setdefault(v.name, (0, 0))
    decision = decide({v.name: counts[v.name] for v in ab.variants}, ab.confidence)
    label, winner = outcome(decision, ab.noWinner)
    rest = (campaign.audience_size or 0) - (campaign.test_size or 0)
    stored = {
        "decision": label, "winner": winner, "pValue": decision.p_value, "overallPValue": decision.overall_p_value,
        "test": decision.test, "confidence": ab.confidence, "metric": ab.metric.value, "decidedAt": now.isoformat(),
        "variants": [{"variant": a.name, "recipients": a.trials, "successes": a.successes, "rate": a.rate}
                     for a in decision.arms],
    }
    await repo.update(campaign_id, {"phase": "REST" if winner else "DONE", "winner": winner, "decision": stored,
                                    "updated_at": now})
    await events.publish(session, tenant_id, campaign_id, AbTestWinnerSelected(
        campaignId=campaign_id, metric=ab.metric.value, decision=label, winner=winner, pValue=decision.p_value,
        confidence=ab.confidence, test=decision.test,
        variants=[VariantStats(variant=a.name, recipients=a.trials, successes=a.successes, rate=a.rate)
                  for a in decision.arms],
        restSize=rest if winner else 0, decidedAt=now,
    ))
    if campaign.state is State.SENDING:  # a paused campaign sends the rest when resumed
        await jobs.defer_in(session, tasks.FANOUT, tenant_id=tenant_id, campaign_id=campaign_id,
                            queueing_lock=fanout_lock(tenant_id, campaign_id), lock=fanout_lock(tenant_id, campaign_id))
    return stored
