"""profile.merged moves a loser's history to the winner, profile.unmerged moves it back, profile.erased
deletes it, all from crm.identity events alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from fairway_events.contracts.identity import ProfileUpdated
from fairway_testkit import auth_headers, run_service, wait_for
from fairway_timeline.app import create_app
from fairway_timeline.db import (
    activities,
    activity_key_waits,
    activity_totals,
    notes,
    profile_counters,
    profile_keys,
)
from fairway_timeline.settings import Settings

A_KEYS = {"email": ["ann@club.com"]}
B_KEYS = {"email": ["bea@club.com"], "phoneNumber": ["+27821110000"]}


async def _types(club, svc, profile_id: str) -> dict[str, list[str]]:  # noqa: ANN001
    page = await club.timeline(svc, "club-a", profile_id, limit=100)
    return {"profileId": page["profileId"], "types": sorted(i["type"] for i in page["items"])}


async def test_merge_unmerge_erase(settings_for, club) -> None:
    async with run_service(create_app(settings_for(Settings, sweep_interval_seconds=0.2))) as svc:
        staff = auth_headers("club-a", ["staff"], "pro-shop")
        await club.created("club-a", "p-a", **A_KEYS)
        await club.created("club-a", "p-b", **B_KEYS)
        for i in range(2):
            await club.upstream(
                "teetime.booking.created", "club-a", {"email": "ann@club.com"}, {"bookingId": f"a{i}"}
            )
        await club.upstream(
            "teetime.round.played", "club-a", {"phoneNumber": "0821110000"}, {"roundId": "r1"}
        )

        async def b_has(n: int):  # noqa: ANN202
            r = await svc.http.get("/api/v1/customers/p-b/timeline", headers=staff)
            return r.status_code == 200 and r.json()["total"] == n

        await wait_for(lambda: b_has(1), what="bea's round")
        r = await svc.http.post(
            "/api/v1/customers/p-b/notes", json={"content": "Wants a lesson", "type": "CALL"}, headers=staff
        )
        assert r.status_code == 201
        before_merge = {"p-a": await _types(club, svc, "p-a"), "p-b": await _types(club, svc, "p-b")}
        assert before_merge["p-b"]["types"] == ["NOTE_ADDED", "ROUND_PLAYED"]

        # Merge: bea (loser) into ann (winner). Bea's id now answers with ann's timeline and notes.
        await club.merged(
            "club-a", "p-a", "p-b", email=["ann@club.com", "bea@club.com"], phoneNumber=["+27821110000"]
        )
        await wait_for(lambda: _total_is(club, svc, "p-a", 4), what="merged timeline")
        merged_b = await club.timeline(svc, "club-a", "p-b")
        assert merged_b["profileId"] == "p-a" and merged_b["total"] == 4
        r = await svc.http.get("/api/v1/customers/p-b/notes", headers=staff)
        assert r.json()["profileId"] == "p-a" and [n["content"] for n in r.json()["items"]] == [
            "Wants a lesson"
        ]
        # After the merge, bea's email resolves to the winner.
        await club.upstream(
            "messaging.email.opened", "club-a", {"email": "bea@club.com"}, {"messageId": "m1"}
        )
        await wait_for(lambda: _total_is(club, svc, "p-a", 5), what="post-merge event on winner")
        counters = await club.rows(svc, select(profile_counters.c.profile_id))
        assert [c.profile_id for c in counters] == ["p-a"]  # the loser's counters are gone
        last = (await club.published_counters(svc, "club-a", "p-a"))[-1]
        assert last["bookingCount30d"] == 2 and last["roundsPlayed30d"] == 1 and last["emailOpens30d"] == 1

        # Unmerge: everything goes back where identity now says it belongs, including the post-merge open.
        await club.unmerged("club-a", "p-a", "p-b", A_KEYS, B_KEYS)
        await wait_for(lambda: _total_is(club, svc, "p-a", 2), what="unmerged winner")
        assert await _types(club, svc, "p-a") == before_merge["p-a"]
        after = await _types(club, svc, "p-b")
        assert after == {"profileId": "p-b", "types": ["EMAIL_OPENED", "NOTE_ADDED", "ROUND_PLAYED"]}
        r = await svc.http.get("/api/v1/customers/p-b/notes", headers=staff)
        assert [n["content"] for n in r.json()["items"]] == ["Wants a lesson"]
        b_counters = await wait_for(lambda: _last_counters(club, svc, "p-b"), what="bea's counters")
        assert b_counters["roundsPlayed30d"] == 1 and b_counters["emailOpens30d"] == 1
        a_counters = (await club.published_counters(svc, "club-a", "p-a"))[-1]
        assert a_counters["roundsPlayed30d"] == 0 and a_counters["emailOpens30d"] == 0

        # Erasure: bea's activities, notes and keys go; ann is untouched.
        erased_at = datetime.now(UTC)
        await club.erased("club-a", "p-b", at=erased_at)

        async def b_gone():  # noqa: ANN202
            r = await svc.http.get("/api/v1/customers/p-b/timeline", headers=staff)
            return r.status_code == 404

        await wait_for(b_gone, what="bea erased")
        assert (await svc.http.get("/api/v1/customers/p-b/notes", headers=staff)).status_code == 404
        for table, column in (
            (activities, activities.c.origin_profile_id),
            (notes, notes.c.origin_profile_id),
            (profile_keys, profile_keys.c.profile_id),
            (profile_counters, profile_counters.c.profile_id),
            (activity_totals, activity_totals.c.profile_id),
        ):
            [(n,)] = await club.rows(svc, select(func.count()).select_from(table).where(column == "p-b"))
            assert n == 0, table.name
        assert (await _types(club, svc, "p-a")) == before_merge["p-a"]

        # A late event from before the erasure is the erased person's history: it is not stored again.
        # An event after it is a new person's: it waits for identity like any unknown key.
        await club.upstream(
            "teetime.round.played",
            "club-a",
            {"email": "bea@club.com"},
            {"roundId": "late"},
            at=erased_at - timedelta(minutes=5),
        )
        await club.upstream(
            "teetime.round.played",
            "club-a",
            {"email": "bea@club.com"},
            {"roundId": "new"},
            at=erased_at + timedelta(minutes=5),
        )
        await wait_for(lambda: _pending_is(club, svc, 1), what="only the post-erasure event waits")
        rows = await club.rows(svc, select(activities.c.payload).where(activities.c.profile_id.is_(None)))
        assert [r.payload["roundId"] for r in rows] == ["new"]
        # Identity announcing the erased id again (a redelivery) does not bring it back.
        await club.created("club-a", "p-b", **B_KEYS)
        await club.created("club-a", "p-c", email=["bea@club.com"])
        await wait_for(lambda: _total_is(club, svc, "p-c", 1), what="new person gets the new round")
        r = await svc.http.get("/api/v1/customers/p-b/timeline", headers=staff)
        assert r.status_code == 404
        [(waits,)] = await club.rows(svc, select(func.count()).select_from(activity_key_waits))
        assert waits == 0


async def _total_is(club, svc, profile_id, n):  # noqa: ANN001, ANN202
    r = await svc.http.get(
        f"/api/v1/customers/{profile_id}/timeline", headers=auth_headers("club-a", ["staff"])
    )
    return r.status_code == 200 and r.json()["total"] == n


async def _pending_is(club, svc, n):  # noqa: ANN001, ANN202
    return await club.pending(svc, "club-a") == n


async def _last_counters(club, svc, profile_id):  # noqa: ANN001, ANN202
    published = await club.published_counters(svc, "club-a", profile_id)
    return published[-1] if published else None


async def test_a_key_identity_unlinks_no_longer_resolves(settings_for, club) -> None:
    """Identity blocks a value shared by too many people (a family email) and sends the profile's remaining
    identities in profile.updated; from then on, events carrying it resolve through their other keys."""
    async with run_service(create_app(settings_for(Settings, sweep_interval_seconds=0.2))) as svc:
        await club.created("club-a", "p-mum", email=["family@club.com"], phoneNumber=["+27821234567"])
        await club.created("club-a", "p-son", phoneNumber=["+27829999999"])
        son = {"email": "family@club.com", "phoneNumber": "082 999 9999"}
        await club.upstream("teetime.booking.created", "club-a", son, {"bookingId": "before"})
        await wait_for(lambda: _total_is(club, svc, "p-mum", 1), what="resolved by email, as identity did")

        await club.identity(
            "club-a",
            ProfileUpdated(
                profileId="p-mum", changes={"identities": {"phoneNumber": ["+27821234567"], "email": []}}
            ),
            "p-mum",
        )
        # Topics are not ordered against each other: an event that overtakes the unlink would still resolve
        # through the old key (see the README). Here identity's event is applied first, as it happened first.
        await wait_for(lambda: _keys_of(club, svc, "p-mum", 1), what="email unlinked")
        await club.upstream("teetime.booking.created", "club-a", son, {"bookingId": "after"})
        page = await wait_for(lambda: _page_if(club, svc, "p-son", 1), what="resolved by phone now")
        assert page["items"][0]["payload"]["bookingId"] == "after"
        mum = await club.timeline(svc, "club-a", "p-mum")
        assert [i["payload"]["bookingId"] for i in mum["items"]] == ["before"]
        keys = await club.rows(
            svc,
            select(profile_keys.c.key_type, profile_keys.c.profile_id).where(
                profile_keys.c.profile_id == "p-mum"
            ),
        )
        assert [tuple(k) for k in keys] == [("phoneNumber", "p-mum")]


async def _page_if(club, svc, profile_id, n):  # noqa: ANN001, ANN202
    r = await svc.http.get(
        f"/api/v1/customers/{profile_id}/timeline", headers=auth_headers("club-a", ["staff"])
    )
    return r.json() if r.status_code == 200 and r.json()["total"] == n else None


async def _keys_of(club, svc, profile_id, n):  # noqa: ANN001, ANN202
    rows = await club.rows(
        svc, select(profile_keys.c.key_value).where(profile_keys.c.profile_id == profile_id)
    )
    return len(rows) == n
