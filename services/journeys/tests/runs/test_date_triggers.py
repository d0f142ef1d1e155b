"""Date triggers: members whose membership expires in 30 days enter at 09:00 in the journey's time zone, once."""
from __future__ import annotations

from datetime import UTC, date, datetime

from harness import Harness, fairway_event, member

from fairway_journeys import upkeep
from fairway_journeys.definitions.repository import JourneyRepository
from fairway_journeys.generate.templates import RENEWAL, definition_of

T = "stonehaven"


async def test_renewal_reminder_enters_members_thirty_days_before_expiry(harness: Harness) -> None:
    harness.clock.set(datetime(2026, 5, 1, 6, 30, tzinfo=UTC))  # 08:30 in Johannesburg
    jid = await harness.journey(T, "Renewal", definition_of(RENEWAL))
    await harness.feed(
        fairway_event(member("p-kim", "kim.lamont@stonehavengolf.co.uk", membershipExpiry=date(2026, 5, 31)), T, "p-kim"),
        fairway_event(member("p-lou", "lou.baird@stonehavengolf.co.uk", membershipExpiry=date(2026, 6, 1)), T, "p-lou"))
    async with harness.sessions() as s:
        j = await JourneyRepository(s, T).get(jid)
    assert j is not None
    assert await upkeep.sweep_date_trigger(harness.sessions, harness.state, j) == 0  # before 09:00 local
    harness.clock.set(datetime(2026, 5, 1, 7, 5, tzinfo=UTC))  # 09:05 local
    assert await upkeep.sweep_date_trigger(harness.sessions, harness.state, j) == 1
    assert await upkeep.sweep_date_trigger(harness.sessions, harness.state, j) == 0  # once per day
    run = await harness.run_of(jid, "p-kim")
    assert (run.entry_key, run.trigger, run.step_id) == ("date:membershipExpiry:2026-05-31", "date:membershipExpiry",
                                                         "wait-2w")
    assert await harness.run_of(jid, "p-lou") is None  # tomorrow's turn
