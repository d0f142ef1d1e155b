"""All SQL of the fan-out: the audience snapshot and the recipients of a batch."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, String, and_, case, func, literal, null, select, update
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.campaigns.models import recipients


@dataclass(frozen=True)
class Recipient:
    position: int
    profile_id: str
    variant: str | None


class RecipientRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def snapshot(self, campaign_id: str, audience: Select, variants: Sequence[str], test_size: int) -> int:
        """Copy `audience` (one column of profile ids) into the campaign's recipients, in one statement: a stable
        order hashed by campaign and profile (so the A/B test wave is a random sample), variants dealt round-robin
        over the first `test_size` positions. Returns the audience size."""
        src = audience.subquery()
        pid = src.c[0]
        ordered = select(
            pid.label("profile_id"),
            (func.row_number().over(order_by=(func.md5(literal(campaign_id) + pid), pid)) - 1).label("position"),
        ).subquery()
        variant = (
            case((ordered.c.position < test_size,
                  pg_array([literal(v, String) for v in variants])[(ordered.c.position % len(variants)) + 1]),
                 else_=None)
            if variants else null()
        )
        stmt = recipients.insert().from_select(
            ["tenant_id", "campaign_id", "position", "profile_id", "variant"],
            select(literal(self.tenant_id), literal(campaign_id), ordered.c.position, ordered.c.profile_id, variant),
        )
        result = await self.session.execute(stmt)
        return result.rowcount or 0

    async def batch(self, campaign_id: str, start: int, end: int, limit: int) -> list[Recipient]:
        rows = (await self.session.execute(
            select(recipients.c.position, recipients.c.profile_id, recipients.c.variant)
            .where(recipients.c.tenant_id == self.tenant_id, recipients.c.campaign_id == campaign_id,
                   recipients.c.position >= start, recipients.c.position < end)
            .order_by(recipients.c.position).limit(limit)
        )).all()
        return [Recipient(*r) for r in rows]

    async def assign_rest(self, campaign_id: str, start: int, variant: str) -> None:
        await self.session.execute(
            update(recipients)
            .where(and_(recipients.c.tenant_id == self.tenant_id, recipients.c.campaign_id == campaign_id,
                        recipients.c.position >= start))
            .values(variant=variant)
        )

    async def sample(self, audience: Select, limit: int) -> list[str]:
        src = audience.subquery()
        return list((await self.session.execute(select(src.c[0]).order_by(src.c[0]).limit(limit))).scalars())

    async def count(self, audience: Select) -> int:
        src = audience.subquery()
        return int((await self.session.execute(select(func.count()).select_from(src))).scalar_one())
