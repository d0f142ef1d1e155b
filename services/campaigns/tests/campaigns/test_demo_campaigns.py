"""The demo club's planned campaigns are valid campaigns (the demo marketer posts them to the API)."""
from datetime import UTC, datetime

from fairway_campaigns.campaigns.schemas import CampaignIn, ScheduleKind
from fairway_campaigns.promotions.schemas import PromotionIn
from fairway_cli.demo_campaigns import demo_campaigns, demo_promotion


def test_demo_campaigns_validate() -> None:
    planned = [CampaignIn.model_validate(b) for b in demo_campaigns("seg-1", datetime(2026, 12, 4, 9, tzinfo=UTC))]
    assert [c.schedule.kind for c in planned] == [ScheduleKind.NOW, ScheduleKind.LOCAL_TIME, ScheduleKind.AT]
    assert planned[1].schedule.date is not None and planned[1].schedule.date.isoformat() == "2027-01-01"
    assert planned[2].abTest is not None and len(planned[2].abTest.variants) == 2


def test_demo_promotion_is_the_simulated_championship() -> None:
    now = datetime(2026, 12, 4, 9, tzinfo=UTC)
    p = PromotionIn.model_validate(demo_promotion(now))
    assert p.competitionId == "COMP-0" and p.capacity == 40
    assert p.entryDeadline is not None and p.entryDeadline < p.startsAt and p.startsAt > now
