"""Synthetic club histories for tests, benchmarks and demos (no real member data needed).

Each member plays at a personal rate; the risk of leaving rises when they play less, their handicap
worsens, they ignore emails or their membership nears expiry. Leavers stop playing and some cancel.
Members open emails at a preferred hour, so send-time profiles have something to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from fairway_ml_scoring.features.events import LogEvent


@dataclass
class Member:
    player_id: str
    rate: float  # activities per 30 days while active
    churn_at: datetime | None
    open_prob: float
    open_hour: int
    tier: str


def club_history(
    tenant_id: str, *, members: int = 200, start: datetime, end: datetime, seed: int = 1, id_prefix: str = "M"
) -> tuple[list[LogEvent], list[Member]]:
    rng = np.random.default_rng(seed)
    events: list[LogEvent] = []
    roster: list[Member] = []
    span_days = (end - start).days
    n = 0

    def ev(kind: str, pid: str, at: datetime, amount: float | None = None, **attrs: object) -> None:
        nonlocal n
        n += 1
        events.append(
            LogEvent(
                tenant_id=tenant_id,
                event_id=f"{tenant_id}-{id_prefix}-{n}",
                kind=kind,
                occurred_at=at,
                keys=[f"teetimePlayerId:{pid}"],
                amount=amount,
                attrs=dict(attrs),
            )
        )

    for i in range(members):
        pid = f"{id_prefix}{i:05d}"
        rate = float(rng.gamma(2.0, 2.0))  # mean 4 activities a month
        open_prob = float(rng.beta(2, 3))
        joined = start - timedelta(days=int(rng.integers(30, 3000)))
        tier = str(rng.choice(["Full", "Weekday", "Junior", "Senior"], p=[0.5, 0.2, 0.1, 0.2]))
        hour = int(rng.choice([7, 8, 12, 13, 19, 20, 21]))
        # Monthly hazard: low players, email ignorers and members who worsen leave sooner.
        hazard = 0.01 + 0.05 * np.exp(-rate / 2.0) + 0.03 * (1 - open_prob)
        worsening = rng.random() < 0.3
        if worsening:
            hazard += 0.03
        months = rng.geometric(min(0.9, hazard))
        churn_at = start + timedelta(days=int(months * 30))
        churn_at = churn_at if churn_at < end else None
        roster.append(Member(pid, rate, churn_at, open_prob, hour, tier))
        expiry = date(start.year, joined.month, min(joined.day, 28))
        ev(
            "member",
            pid,
            start,
            memberSince=joined.date().isoformat(),
            membershipExpiry=expiry.isoformat(),
            membershipTier=tier,
            membershipStatus="ACTIVE",
        )
        ev(
            "consent",
            pid,
            start,
            emailOptIn=True,
            smsOptIn=bool(rng.random() < 0.5),
            pushOptIn=bool(rng.random() < 0.3),
        )
        handicap = float(rng.uniform(2, 30))
        stop = churn_at or end
        # Activity slows in the two months before leaving: the signal a churn model should learn.
        day = 0.0
        while True:
            at = start + timedelta(days=day)
            slow = churn_at is not None and (churn_at - at).days < 60
            gap = rng.exponential(30.0 / max(0.2, rate * (0.35 if slow else 1.0)))
            day += gap
            at = start + timedelta(days=day, hours=int(rng.integers(6, 18)))
            if at >= stop:
                break
            kind = rng.choice(["booking", "round", "purchase"], p=[0.45, 0.4, 0.15])
            if kind == "booking":
                ev("booking", pid, at, float(rng.choice([0, 250, 450])))
                if rng.random() < (0.25 if slow else 0.05):
                    ev("booking_cancelled", pid, at + timedelta(hours=2))
            elif kind == "round":
                ev("round", pid, at)
            else:
                ev("purchase", pid, at, float(round(rng.gamma(2.0, 150.0), 2)))
        for month in range(0, span_days // 30):
            at = start + timedelta(days=30 * month + 2, hours=10)
            if at >= end:
                break
            handicap += float(rng.normal(0.4 if worsening else -0.05, 0.3))
            ev("handicap", pid, at + timedelta(days=5), handicap=round(min(54.0, max(-5.0, handicap)), 1))
            ev("email_sent", pid, at)
            leaving = churn_at is not None and (churn_at - at).days < 60
            if rng.random() < open_prob * (0.4 if leaving else 1.0) and (churn_at is None or at < churn_at):
                open_at = at.replace(hour=hour) + timedelta(days=int(rng.integers(0, 2)))
                ev("email_opened", pid, open_at)
                if rng.random() < 0.3:
                    ev("email_clicked", pid, open_at + timedelta(minutes=3))
            renew = datetime(at.year, expiry.month, min(expiry.day, 28), tzinfo=UTC)
            if renew.month == at.month and (churn_at is None or renew < churn_at):
                ev(
                    "membership_renewed",
                    pid,
                    renew,
                    membershipExpiry=renew.replace(year=renew.year + 1).date().isoformat(),
                )
        if churn_at is not None and rng.random() < 0.6:
            ev(
                "membership_cancelled",
                pid,
                churn_at + timedelta(days=int(rng.integers(1, 40))),
                reason="moved",
            )
    return events, roster


def feature_matrix(n: int, features: tuple[str, ...], seed: int = 3) -> np.ndarray:
    """Plausible model features for n synthetic profiles (benchmarks: no event history needed)."""
    rng = np.random.default_rng(seed)
    cols = []
    for name in features:
        if name.startswith("days_since"):
            cols.append(np.minimum(rng.exponential(40, n), 1000))
        elif name.endswith(("_rate_90d", "_rate_365d")):
            cols.append(rng.beta(2, 3, n))
        elif name.startswith(("spend", "lifetime", "payment_amount")):
            cols.append(rng.gamma(2.0, 800.0, n))
        elif name == "engagement_score":
            cols.append(rng.integers(0, 101, n).astype(float))
        elif name == "days_to_membership_expiry":
            cols.append(rng.uniform(-60, 365, n))
        elif name == "tenure_days":
            cols.append(rng.uniform(0, 5000, n))
        elif name == "handicap":
            cols.append(rng.uniform(0, 36, n))
        elif name in ("is_member", "membership_cancelled"):
            cols.append((rng.random(n) < (0.9 if name == "is_member" else 0.05)).astype(float))
        else:
            cols.append(rng.poisson(3.0, n).astype(float))
    return np.column_stack(cols)
