"""All SQL on campaign results: the messages a campaign asked for, what became of them, and their statistics."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.results.models import conversions, messages, profile_keys


@dataclass(frozen=True)
class NewMessage:
    request_id: str
    campaign_id: str
    profile_id: str
    channel: str
    variant: str | None
    wave: str
    outcome: str
    reason: str | None
    submitted_at: datetime


# Messaging's event types -> the column each one stamps (first time wins: a redelivery changes nothing).
STAMPS = {
    "messaging.email.sent": "sent_at", "messaging.sms.sent": "sent_at", "messaging.push.sent": "sent_at",
    "messaging.email.delivered": "delivered_at", "messaging.sms.delivered": "delivered_at",
    "messaging.email.opened": "opened_at", "messaging.push.opened": "opened_at",
    "messaging.email.clicked": "clicked_at", "messaging.email.bounced": "bounced_at",
}
LONGEST_CONVERSION_DAYS = 60  # the largest `conversionDays` an A/B test accepts (campaigns.schemas.AbTest)
COUNTED = ("sent_at", "delivered_at", "opened_at", "clicked_at", "bounced_at", "unsubscribed_at", "converted_at")


_RECORD = text("""
INSERT INTO campaign_messages (tenant_id, request_id, campaign_id, profile_id, channel, variant, wave, outcome, reason,
                               submitted_at, requested_at)
SELECT CAST(:t AS varchar), r.request_id, r.campaign_id, r.profile_id, r.channel, r.variant, r.wave, r.outcome,
       r.reason, r.submitted_at, CASE WHEN r.outcome = 'REQUESTED' THEN r.submitted_at END
FROM unnest(CAST(:request_id AS text[]), CAST(:campaign_id AS text[]), CAST(:profile_id AS text[]),
            CAST(:channel AS text[]), CAST(:variant AS text[]), CAST(:wave AS text[]), CAST(:outcome AS text[]),
            CAST(:reason AS text[]), CAST(:submitted_at AS timestamptz[]))
     AS r(request_id, campaign_id, profile_id, channel, variant, wave, outcome, reason, submitted_at)
ON CONFLICT DO NOTHING
""")


@dataclass(frozen=True)
class VariantCounts:
    variant: str | None
    channel: str | None  # None: the variant's channels together
    targeted: int
    requested: int
    outcomes: dict[str, int]
    counts: dict[str, int]  # sent, delivered, opened, clicked, bounced, unsubscribed, converted
    revenue: Decimal


class ResultRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def record(self, rows: Sequence[NewMessage]) -> None:
        """One statement whatever the batch: the rows go in as one array per column (no per-row bind parameters,
        so no limit on their number and no per-row Python work in the driver)."""
        if not rows:
            return
        await self.session.execute(_RECORD, {
            "t": self.tenant_id, "request_id": [r.request_id for r in rows],
            "campaign_id": [r.campaign_id for r in rows], "profile_id": [r.profile_id for r in rows],
            "channel": [r.channel for r in rows], "variant": [r.variant for r in rows], "wave": [r.wave for r in rows],
            "outcome": [r.outcome for r in rows], "reason": [r.reason for r in rows],
            "submitted_at": [r.submitted_at for r in rows],
        })

    async def set_outcome(self, request_id: str, outcome: str, reason: str | None, at: datetime) -> None:
        """A held message's later fate (requested at its time, expired, cancelled)."""
        await self.session.execute(
            update(messages)
            .where(messages.c.tenant_id == self.tenant_id, messages.c.request_id == request_id)
            .values(outcome=outcome, reason=reason,
                    requested_at=case((messages.c.requested_at.is_(None), at if outcome == "REQUESTED" else None),
                                      else_=messages.c.requested_at))
        )

    async def stamp(self, request_id: str, column: str, at: datetime) -> bool:
        """Messaging did something with the message: a message dispatch held (quiet hours, best time) was
        evidently requested since."""
        col = messages.c[column]
        result = await self.session.execute(
            update(messages)
            .where(messages.c.tenant_id == self.tenant_id, messages.c.request_id == request_id, col.is_(None))
            .values({column: at, "outcome": case((messages.c.outcome == "HELD", "REQUESTED"),
                                                 else_=messages.c.outcome),
                     "requested_at": func.coalesce(messages.c.requested_at, at)})
        )
        return bool(result.rowcount)

    async def unsubscribed(self, profile_id: str, at: datetime, since: datetime) -> None:
        """An unsubscribe counts against the person's latest campaign message before it (within `since`)."""
        latest = (
            select(messages.c.request_id)
            .where(messages.c.tenant_id == self.tenant_id, messages.c.profile_id == profile_id,
                   messages.c.requested_at.is_not(None), messages.c.requested_at <= at,
                   messages.c.requested_at >= since)
            .order_by(messages.c.requested_at.desc()).limit(1).scalar_subquery()
        )
        await self.session.execute(
            update(messages)
            .where(messages.c.tenant_id == self.tenant_id, messages.c.request_id == latest,
                   messages.c.unsubscribed_at.is_(None))
            .values(unsubscribed_at=at)
        )

    # -- conversions ------------------------------------------------------------------------------------
    async def convertible(self, profile_id: str, at: datetime, window_days: int) -> list[str]:
        """The person's campaign messages a booking or purchase at `at` is attributed to: every campaign that
        targeted them within the attribution window (requested, or held back as control), last touch per campaign."""
        return (await self.convertible_many([(profile_id, at)], window_days))[0]

    async def convertible_many(self, wanted: Sequence[tuple[str, datetime]], window_days: int) -> list[list[str]]:
        """`convertible` of several (profile, moment) pairs, in one statement; a list per pair. Each campaign's
        own window applies (its A/B test's `conversionDays`); `window_days` to campaigns without one."""
        out: list[list[str]] = [[] for _ in wanted]
        if not wanted:
            return out
        # The first bound (the longest window any campaign may have) lets the profile index do the work; the
        # second is the campaign's own window.
        rows = (await self.session.execute(text("""
            SELECT w.i, max(m.request_id) AS rid
              FROM unnest(CAST(:p AS text[]), CAST(:at AS timestamptz[])) WITH ORDINALITY AS w(profile_id, at, i)
              JOIN campaign_messages m ON m.tenant_id = :t AND m.profile_id = w.profile_id
              LEFT JOIN campaigns c ON c.tenant_id = m.tenant_id AND c.id = m.campaign_id
             WHERE m.wave != 'PROOF' AND m.outcome IN ('REQUESTED', 'CONTROL_GROUP')
               AND m.submitted_at <= w.at
               AND m.submitted_at >= w.at - make_interval(days => GREATEST(CAST(:days AS int), CAST(:longest AS int)))
               AND m.submitted_at >= w.at - make_interval(
                     days => COALESCE(CAST(c.ab_test->>'conversionDays' AS int), CAST(:days AS int)))
             GROUP BY w.i, m.campaign_id
        """), {"t": self.tenant_id, "p": [p for p, _ in wanted], "at": [a for _, a in wanted],
               "days": window_days, "longest": LONGEST_CONVERSION_DAYS})).all()
        for r in rows:
            out[r.i - 1].append(r.rid)
        return out

    async def convert(self, event_id: str, request_ids: Sequence[str], amount: Decimal, at: datetime) -> None:
        for rid in request_ids:
            new = (await self.session.execute(
                insert(conversions).values(tenant_id=self.tenant_id, event_id=event_id, request_id=rid,
                                           amount=amount, at=at).on_conflict_do_nothing()
            )).rowcount
            if new:
                await self.session.execute(
                    update(messages)
                    .where(messages.c.tenant_id == self.tenant_id, messages.c.request_id == rid)
                    .values(converted_at=func.coalesce(messages.c.converted_at, at),
                            revenue=messages.c.revenue + amount)
                )

    # -- identity keys ----------------------------------------------------------------------------------
    async def link_keys(self, profile_id: str, keys: Sequence[tuple[str, str]]) -> None:
        if keys:
            unique = list(dict.fromkeys(keys))
            await self.session.execute(text("""
                INSERT INTO campaign_profile_keys (tenant_id, key_type, key_value, profile_id)
                SELECT :t, kt, kv, :p FROM unnest(CAST(:kt AS text[]), CAST(:kv AS text[])) AS u(kt, kv)
                ON CONFLICT (tenant_id, key_type, key_value) DO UPDATE SET profile_id = EXCLUDED.profile_id
            """), {"t": self.tenant_id, "p": profile_id, "kt": [k for k, _ in unique], "kv": [v for _, v in unique]})

    async def forget_profile(self, profile_id: str) -> None:
        await self.session.execute(profile_keys.delete().where(
            profile_keys.c.tenant_id == self.tenant_id, profile_keys.c.profile_id == profile_id))

    async def profile_for(self, keys: Sequence[tuple[str, str]]) -> str | None:
        return (await self.profiles_for([keys]))[0]

    async def profiles_for(self, wanted: Sequence[Sequence[tuple[str, str]]]) -> list[str | None]:
        """The profile each list of keys belongs to (its first key identity announced), in one statement."""
        flat = [(i, t, v) for i, keys in enumerate(wanted) for t, v in keys]
        out: list[str | None] = [None for _ in wanted]
        if not flat:
            return out
        rows = (await self.session.execute(text("""
            SELECT DISTINCT ON (w.i) w.i, k.profile_id
              FROM unnest(CAST(:i AS int[]), CAST(:kt AS text[]), CAST(:kv AS text[])) WITH ORDINALITY
                   AS w(i, key_type, key_value, n)
              JOIN campaign_profile_keys k
                ON k.tenant_id = :t AND k.key_type = w.key_type AND k.key_value = w.key_value
             ORDER BY w.i, w.n
        """), {"t": self.tenant_id, "i": [f[0] for f in flat], "kt": [f[1] for f in flat],
               "kv": [f[2] for f in flat]})).all()
        for r in rows:
            out[r.i] = r.profile_id
        return out

    # -- statistics -------------------------------------------------------------------------------------
    async def by_variant(self, campaign_id: str, waves: Sequence[str] = ("ALL", "TEST", "REST"), *,
                         by_channel: bool = False) -> list[VariantCounts]:
        """Counts per variant, or per variant and channel (`targeted` counts people, so a person a variant reached
        on two channels is one of the variant's but one of each channel's)."""
        base = and_(messages.c.tenant_id == self.tenant_id, messages.c.campaign_id == campaign_id,
                    messages.c.wave.in_(list(waves)))
        reached = messages.c.outcome == "REQUESTED"
        keys: list[Any] = [messages.c.variant, messages.c.channel] if by_channel else [messages.c.variant]
        cols: list[Any] = [
            *keys,
            func.count(func.distinct(messages.c.profile_id)).label("targeted"),
            func.count().filter(messages.c.outcome == "REQUESTED").label("requested"),
            # The control group's conversions are the baseline (control()), not the campaign's.
            func.coalesce(func.sum(messages.c.revenue).filter(reached), 0).label("revenue"),
            *(func.count(messages.c[c]).filter(reached).label(c) for c in COUNTED),
        ]
        rows = (await self.session.execute(select(*cols).where(base).group_by(*keys))).all()
        outcome_rows = (await self.session.execute(
            select(*keys, messages.c.outcome, func.count()).where(base).group_by(*keys, messages.c.outcome)
        )).all()
        outcomes: dict[tuple[str | None, str | None], dict[str, int]] = {}
        for *key, outcome, n in outcome_rows:
            outcomes.setdefault((key[0], key[1] if by_channel else None), {})[outcome] = n
        out = []
        for r in rows:
            channel = r.channel if by_channel else None
            out.append(VariantCounts(
                variant=r.variant, channel=channel, targeted=r.targeted, requested=r.requested,
                outcomes=outcomes.get((r.variant, channel), {}),
                counts={c.removesuffix("_at"): getattr(r, c) for c in COUNTED}, revenue=Decimal(r.revenue),
            ))
        return out

    async def hourly(self, campaign_id: str) -> list[tuple[datetime, str, int]]:
        """(hour, what, count) for every stamped column: the campaign hour by hour."""
        out: list[tuple[datetime, str, int]] = []
        base = and_(messages.c.tenant_id == self.tenant_id, messages.c.campaign_id == campaign_id,
                    messages.c.outcome == "REQUESTED")
        for column in ("requested_at", *COUNTED):
            col = messages.c[column]
            hour = func.date_trunc("hour", col)
            rows = (await self.session.execute(
                select(hour, func.count()).where(base, col.is_not(None)).group_by(hour).order_by(hour))).all()
            out += [(h, column.removesuffix("_at"), n) for h, n in rows]
        return out

    async def control(self, campaign_id: str) -> tuple[int, int]:
        """(members held back by the global control group, of them converted)."""
        row = (await self.session.execute(
            select(func.count(func.distinct(messages.c.profile_id)),
                   func.count(func.distinct(messages.c.profile_id)).filter(messages.c.converted_at.is_not(None)))
            .where(messages.c.tenant_id == self.tenant_id, messages.c.campaign_id == campaign_id,
                   messages.c.outcome == "CONTROL_GROUP")
        )).one()
        return int(row[0]), int(row[1])

    async def metric_counts(self, campaign_id: str, column: str, wave: str) -> dict[str, tuple[int, int]]:
        """variant -> (recipients requested, of them with `column` set), for the A/B test's decision."""
        col = messages.c[column]
        rows = (await self.session.execute(
            select(messages.c.variant, func.count(func.distinct(messages.c.profile_id)),
                   func.count(func.distinct(messages.c.profile_id)).filter(col.is_not(None)))
            .where(messages.c.tenant_id == self.tenant_id, messages.c.campaign_id == campaign_id,
                   messages.c.wave == wave, messages.c.outcome == "REQUESTED")
            .group_by(messages.c.variant)
        )).all()
        return {r[0]: (int(r[1]), int(r[2])) for r in rows if r[0] is not None}

    async def of_run(self, campaign_id: str, request_ids: Sequence[str]) -> list[NewMessage]:
        rows = (await self.session.execute(
            select(messages.c.request_id, messages.c.campaign_id, messages.c.profile_id, messages.c.channel,
                   messages.c.variant, messages.c.wave, messages.c.outcome, messages.c.reason, messages.c.submitted_at)
            .where(messages.c.tenant_id == self.tenant_id, messages.c.campaign_id == campaign_id,
                   messages.c.request_id.in_(list(request_ids)))
            .order_by(messages.c.profile_id, messages.c.channel)
        )).all()
        return [NewMessage(*r) for r in rows]
