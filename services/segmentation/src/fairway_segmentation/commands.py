"""Operator commands, run beside a running service (whose outbox relay publishes what they write):

    python -m fairway_segmentation.commands resync  --tenant club-a [--segment ID]
    python -m fairway_segmentation.commands refresh --tenant club-a [--segment ID]

`resync` sends Messaging the full member list of one segment, or of every segment synced to it; `refresh`
re-evaluates one dynamic segment, or every active one. Settings come from the environment, as the service's do.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_chassis import Clock, SystemClock
from fairway_chassis.db import make_engine, make_sessionmaker
from fairway_segmentation.segments import engine
from fairway_segmentation.segments.engine import SegmentRef
from fairway_segmentation.segments.repository import SegmentRepository
from fairway_segmentation.settings import Settings


async def resync(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    segment_id: str | None = None,
    *,
    clock: Clock = SystemClock(),
) -> dict[str, int]:
    """segment id -> deltas written, for the chosen segment or every segment synced to Messaging."""
    async with sessionmaker() as session:
        rows = [
            r
            for r in await SegmentRepository.for_tenant(session, tenant_id).all()
            if r.sync_to_messaging and (segment_id is None or r.segment_id == segment_id)
        ]
    out: dict[str, int] = {}
    for row in rows:
        async with sessionmaker() as session, session.begin():
            out[row.segment_id] = await engine.full_resync(
                session, tenant_id, SegmentRef.of(row), now=clock.now()
            )
    return out


async def refresh(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    segment_id: str | None = None,
    *,
    clock: Clock = SystemClock(),
) -> dict[str, tuple[int, int, int]]:
    """segment id -> (size, entered, exited), for the chosen segment or every active dynamic one."""
    async with sessionmaker() as session:
        rows = [
            r
            for r in await SegmentRepository.for_tenant(session, tenant_id).all(dynamic_active_only=True)
            if segment_id is None or r.segment_id == segment_id
        ]
    out: dict[str, tuple[int, int, int]] = {}
    for row in rows:
        async with sessionmaker() as session, session.begin():
            diff = await engine.refresh(session, tenant_id, row.segment_id, now=clock.now(), reason="manual")
        if diff is not None:
            out[row.segment_id] = (diff.size, diff.entered, diff.exited)
    return out


async def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fairway_segmentation.commands")
    parser.add_argument("command", choices=["resync", "refresh"])
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--segment", default=None, help="one segment id (default: all that apply)")
    args = parser.parse_args(argv)
    settings = Settings()
    eng = make_engine(settings.service_database_url, 2)
    try:
        sm = make_sessionmaker(eng)
        if args.command == "resync":
            for sid, n in (await resync(sm, args.tenant, args.segment)).items():
                print(f"{sid}: {n} sync deltas written")
        else:
            for sid, (size, entered, exited) in (await refresh(sm, args.tenant, args.segment)).items():
                print(f"{sid}: {size} members (+{entered} -{exited})")
    finally:
        await eng.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(_main()))
