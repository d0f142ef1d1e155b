"""The key map bootstraps from crm.identity.state alone (timeline.state): activities resolve to the profiles of
the snapshots, a merged snapshot moves the loser's history to the winner, and an erasure tombstone deletes the
person's activities and keys."""

from __future__ import annotations

from sqlalchemy import func, select

from fairway_testkit import auth_headers, run_service, wait_for
from fairway_timeline.app import create_app
from fairway_timeline.db import activities, profile_keys
from fairway_timeline.settings import Settings


async def test_snapshots_alone_make_the_key_map(settings_for, club) -> None:
    async with run_service(create_app(settings_for(Settings, sweep_interval_seconds=0.2))) as svc:
        staff = auth_headers("club-a", ["staff"], "pro-shop")

        async def total(profile_id: str) -> tuple[str, int] | None:
            r = await svc.http.get(f"/api/v1/customers/{profile_id}/timeline", headers=staff)
            return (r.json()["profileId"], r.json()["total"]) if r.status_code == 200 else None

        await club.state("club-a", "p-a", email=["ann@club.com"])
        await club.state("club-a", "p-b", email=["bea@club.com"], phoneNumber=["+27821110000"])
        await club.state("club-a", "p-c", email=["cat@club.com"])
        await club.upstream("teetime.booking.created", "club-a", {"email": "ann@club.com"}, {"bookingId": "a1"})
        await club.upstream("teetime.round.played", "club-a", {"phoneNumber": "0821110000"}, {"roundId": "r1"})
        await club.upstream("teetime.booking.created", "club-a", {"email": "cat@club.com"}, {"bookingId": "c1"})
        await wait_for(lambda: _is(total("p-a"), ("p-a", 1)), what="ann's booking")
        await wait_for(lambda: _is(total("p-b"), ("p-b", 1)), what="bea's round, by her phone")
        await wait_for(lambda: _is(total("p-c"), ("p-c", 1)), what="cat's booking")

        await club.state("club-a", "p-c", merged_into="p-a")
        await wait_for(lambda: _is(total("p-c"), ("p-a", 2)), what="cat merged into ann")

        await club.state_erased("club-a", "p-b")
        await wait_for(lambda: _is(total("p-b"), None), what="bea erased")
        for table, column in ((activities, activities.c.origin_profile_id), (profile_keys, profile_keys.c.profile_id)):
            [(n,)] = await club.rows(svc, select(func.count()).select_from(table).where(column == "p-b"))
            assert n == 0, table.name
        assert await total("p-a") == ("p-a", 2)


async def _is(value, expected) -> bool:  # noqa: ANN001
    return await value == expected
