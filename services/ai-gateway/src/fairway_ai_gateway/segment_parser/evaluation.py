"""Scores the fallback parser on the corpus, by the members each criteria selects on a synthetic club.

A case is exact when the parser's criteria select the same members as the expected criteria and the parser's
`partial` flag is what the case expects. A miss is silent when the parser's answer is wrong and it did not say it
was partial: the one kind of error that must never happen. Used by the test and by `make bench`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fairway_ai_gateway.segment_parser.corpus import CASES, HELD_OUT, Case
from fairway_ai_gateway.segment_parser.parser import RuleParser
from fairway_schemas.criteria import STANDARD_CATALOGUE, Group
from fairway_schemas.criteria_eval import Predicate

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
TIERS = ["Bronze", "Silver", "Gold", "Platinum", "Diamond", "Junior", "Senior", "Social"]
TAGS = ["junior", "senior", "social", "vip", "beginner", "coach", "league", "ladies", "newsletter"]
ACTIVITY_TYPES = ["BOOKING_CREATED", "ROUND_PLAYED", "PURCHASE", "PAYMENT_RECEIVED", "EMAIL_OPENED",
                  "EMAIL_CLICKED", "MEMBERSHIP_RENEWED"]


def synthetic_club(size: int = 3000, seed: int = 7) -> list[dict[str, Any]]:
    """Members spread over every field's range, with missing values, so criteria that differ select differently."""
    rnd = random.Random(seed)

    def maybe(value: Any, missing: float = 0.08) -> Any:
        return None if rnd.random() < missing else value

    def instant(max_days: int) -> datetime | None:
        return maybe(NOW - timedelta(days=rnd.uniform(0, max_days)), 0.12)

    def count(top: int) -> int:
        return 0 if rnd.random() < 0.3 else rnd.randint(1, top)

    club = []
    for _ in range(size):
        churn = maybe(rnd.randint(0, 100), 0.05)
        b30, r30, a30 = count(8), count(6), count(15)
        p = {
            "status": rnd.choices(["ACTIVE", "INACTIVE", "MERGED", "DELETED"], [85, 8, 4, 3])[0],
            "lifecycleStage": rnd.choice(["SUBSCRIBER", "LEAD", "CUSTOMER", "ADVOCATE"]),
            "membershipTier": maybe(rnd.choice(TIERS), 0.05),
            "membershipStatus": rnd.choices(["ACTIVE", "EXPIRED", "CANCELLED"], [75, 15, 10])[0],
            "engagementScore": maybe(rnd.randint(0, 100), 0.05),
            "churnRiskScore": churn,
            "riskLevel": None if churn is None else ("LOW" if churn < 30 else "MEDIUM" if churn < 60
                                                     else "HIGH" if churn < 80 else "CRITICAL"),
            "bookingCount30d": b30, "bookingCount90d": b30 + count(10),
            "roundsPlayed30d": r30, "roundsPlayed90d": r30 + count(10),
            "activityCount30d": a30, "activityCount90d": a30 + count(20),
            "emailSends30d": count(10), "emailOpens30d": count(6), "emailClicks30d": count(4),
            "lastActivityAt": instant(200), "lastBookingAt": instant(300), "lastRoundAt": instant(300),
            "lastEmailOpenAt": instant(120), "lastEmailClickAt": instant(150),
            "lastActivityType": maybe(rnd.choice(ACTIVITY_TYPES)),
            "emailOptIn": maybe(rnd.random() < 0.6, 0.15), "smsOptIn": maybe(rnd.random() < 0.4, 0.15),
            "pushOptIn": maybe(rnd.random() < 0.3, 0.2), "whatsappOptIn": maybe(rnd.random() < 0.2, 0.25),
            "handicap": maybe(round(rnd.uniform(-2, 36), 1), 0.1),
            "lifetimeValue": rnd.randint(0, 3_000_000),
            "predictedClv": maybe(rnd.randint(0, 500_000)),
            "valueSegment": maybe(rnd.choice(["Champions", "Loyal", "At Risk", "Hibernating"])),
            "tags": rnd.sample(TAGS, rnd.randint(0, 3)),
            "memberSince": maybe(date(2000, 1, 1) + timedelta(days=rnd.randint(0, 9660))),
            "membershipExpiry": maybe((NOW + timedelta(days=rnd.randint(-200, 400))).date()),
            "homeClub": maybe(rnd.choice(["Royal Durban", "Stonehaven", "Fairway Links"])),
        }
        club.append(p)
    return club


@dataclass(frozen=True)
class Outcome:
    case: Case
    exact: bool
    silent: bool
    partial: bool
    millis: float
    got: dict[str, Any]


@dataclass(frozen=True)
class Score:
    outcomes: list[Outcome]

    @property
    def exact(self) -> float:
        return sum(o.exact for o in self.outcomes) / len(self.outcomes)

    @property
    def silent(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.silent]

    @property
    def p99_ms(self) -> float:
        times = sorted(o.millis for o in self.outcomes)
        return times[min(len(times) - 1, int(len(times) * 0.99))]


def members(criteria: Group, club: list[dict[str, Any]]) -> frozenset[int]:
    predicate = Predicate(criteria, STANDARD_CATALOGUE)
    return frozenset(i for i, p in enumerate(club) if predicate(p, NOW))


def evaluate(cases: tuple[Case, ...] = CASES + HELD_OUT, club: list[dict[str, Any]] | None = None) -> Score:
    club = club if club is not None else synthetic_club()
    parser = RuleParser(STANDARD_CATALOGUE)
    parser.parse("warm up")  # the first call pays for nothing it should: keep it out of the latency figure
    outcomes = []
    for case in cases:
        # Best of 3: the figure is the parser's own cost, not a neighbour's turn on a shared core.
        millis = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            parsed = parser.parse(case.query)
            millis = min(millis, (time.perf_counter() - started) * 1000)
        expected = Group.model_validate(case.expected)
        if not expected.rules:  # nothing should be understood
            same = not parsed.criteria.rules
        else:
            same = bool(parsed.criteria.rules) and members(parsed.criteria, club) == members(expected, club)
        exact = same and parsed.partial == case.partial
        outcomes.append(Outcome(case, exact, silent=not same and not parsed.partial, partial=parsed.partial,
                                millis=millis, got=parsed.criteria.dump()))
    return Score(outcomes)


def report(score: Score) -> str:
    lines = [f"segment parser (fallback): {sum(o.exact for o in score.outcomes)}/{len(score.outcomes)} exact "
             f"({score.exact:.1%}, target >= 90%), silent misses {len(score.silent)} (target 0), "
             f"parse p99 {score.p99_ms:.2f} ms, best of 3 per query (target < 5 ms)"]
    for o in score.outcomes:
        if not o.exact:
            lines.append(f"  {'SILENT ' if o.silent else ''}miss: {o.case.query!r} -> {o.got} "
                         f"(partial={o.partial}, expected partial={o.case.partial})")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(evaluate()))
