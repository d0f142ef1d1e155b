"""Upstream events become activities on the profile identity resolved them to, through the real broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fairway_events import new_event_id
from fairway_testkit import auth_headers, run_service, wait_for
from fairway_timeline.app import create_app
from fairway_timeline.db import activities
from fairway_timeline.settings import Settings


async def test_late_identity_events_attach_pending_activities(settings_for, club) -> None:
    booked_at = datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    async with run_service(create_app(settings_for(Settings, sweep_interval_seconds=0.2))) as svc:
        # The booking arrives before identity has announced anyone with that email: it waits.
        await club.upstream(
            "teetime.booking.created",
            "club-a",
            {"email": " Ann@Club.COM "},
            {
                "bookingId": "b1",
                "courseName": "Old Course",
                "players": 3,
                "teeTime": "2025-03-08T07:30:00+00:00",
            },
            at=booked_at,
        )
        await wait_for(lambda: _eq(club.pending(svc, "club-a"), 1), what="pending booking")
        r = await svc.http.get("/api/v1/customers/p-ann/timeline", headers=auth_headers("club-a", ["staff"]))
        assert r.status_code == 404  # identity has not announced p-ann yet

        await club.created("club-a", "p-ann", email=["ann@club.com"])
        page = await wait_for(lambda: _total(club, svc, "club-a", "p-ann", 1), what="booking attached")
        [item] = page["items"]
        assert item["type"] == "BOOKING_CREATED" and item["category"] == "BOOKING"
        assert item["title"] == "Tee time booked at Old Course for 2025-03-08 07:30 (3 players)"
        assert item["sourceService"] == "teetime" and item["occurredAt"] == "2025-03-01T07:30:00Z"
        assert item["payload"]["bookingId"] == "b1"
        assert await club.pending(svc, "club-a") == 0

        # A phone in a national format waits until identity links its E.164 form to the profile.
        await club.upstream(
            "teetime.round.played",
            "club-a",
            {"phoneNumber": "082 123 4567"},
            {"roundId": "r1", "holes": 9, "score": 41},
        )
        await wait_for(lambda: _eq(club.pending(svc, "club-a"), 1), what="pending round")
        await club.linked("club-a", "p-ann", "phoneNumber", "+27 82 123 4567")
        page = await wait_for(lambda: _total(club, svc, "club-a", "p-ann", 2), what="round attached")
        assert page["items"][0]["title"] == "Played 9 holes (score 41)"

        # Identity prefers email over teetimePlayerId. While only the player id is known, the event hangs on
        # Bob; once identity announces the email's owner, it moves to her, as identity resolved it.
        await club.created("club-a", "p-bob", teetimePlayerId=["tt-9"])
        await club.upstream(
            "messaging.email.opened",
            "club-a",
            {"email": "carol@club.com", "teetimePlayerId": "tt-9"},
            {"messageId": "m1", "subject": "Spring fourball"},
        )
        await wait_for(lambda: _total(club, svc, "club-a", "p-bob", 1), what="provisionally on bob")
        await club.created("club-a", "p-carol", email=["carol@club.com"])
        page = await wait_for(lambda: _total(club, svc, "club-a", "p-carol", 1), what="moved to carol")
        assert page["items"][0]["title"] == "Email opened “Spring fourball”"
        assert (await club.timeline(svc, "club-a", "p-bob"))["total"] == 0


async def test_idempotent_and_tenant_isolated(settings_for, club) -> None:
    async with run_service(create_app(settings_for(Settings, sweep_interval_seconds=0.2))) as svc:
        await club.created("club-a", "p-1", email=["sam@club.com"], sclMemberId=["1001"])
        await club.created("club-b", "p-9", email=["other@club.com"])
        event_id = new_event_id()
        for _ in range(2):  # the same upstream event delivered twice
            await club.upstream(
                "scl.payment.received",
                "club-a",
                {"sclMemberId": 1001},
                {"paymentId": "pay-1", "amount": "1200.50", "description": "Annual sub"},
                event_id=event_id,
            )
        # club-b sends an event with club-a's key: club-b has no such person, so it must not reach p-1.
        await club.upstream(
            "teetime.booking.created", "club-b", {"email": "sam@club.com"}, {"bookingId": "x"}
        )
        # Not about a person, and an event without a usable key: neither becomes an activity.
        await club.upstream(
            "teetime.competition.published",
            "club-a",
            {},
            {"competitionId": "c1", "name": "Club champs", "startsAt": "2025-05-01T08:00:00Z"},
        )
        await club.upstream("messaging.sms.sent", "club-a", {"phoneNumber": "000"}, {"messageId": "s1"})
        # Same key as the payment, so the same partition: processed after both copies of it.
        marker = new_event_id()
        await club.upstream(
            "scl.membership.renewed",
            "club-a",
            {"sclMemberId": "1001", "email": "SAM@club.com"},
            {"membershipExpiry": "2026-03-31", "membershipTier": "Gold"},
            event_id=marker,
        )

        page = await wait_for(lambda: _total(club, svc, "club-a", "p-1", 2), what="payment and renewal")
        assert {i["title"] for i in page["items"]} == {
            "Payment received: ZAR 1,200.50 (Annual sub)",
            "Membership renewed until 2026-03-31 (Gold)",
        }
        expected = {
            ("club-a", "p-1", "PAYMENT_RECEIVED"),
            ("club-a", "p-1", "MEMBERSHIP_RENEWED"),
            ("club-b", None, "BOOKING_CREATED"),
        }

        async def stored():  # noqa: ANN202
            rows = await club.rows(
                svc, select(activities.c.tenant_id, activities.c.profile_id, activities.c.type)
            )
            return len(rows) == 3 and {tuple(r) for r in rows} == expected

        await wait_for(stored, what="one activity per source event")

        # Tenant B sees none of tenant A: not the profile, not its timeline, not its notes.
        for path in ("timeline", "notes", "counters"):
            r = await svc.http.get(f"/api/v1/customers/p-1/{path}", headers=auth_headers("club-b", ["admin"]))
            assert r.status_code == 404, path
        assert (await club.timeline(svc, "club-b", "p-9"))["total"] == 0


async def test_upstream_time_not_arrival_time_orders_the_timeline(settings_for, club) -> None:
    now = datetime.now(UTC)
    async with run_service(create_app(settings_for(Settings, sweep_interval_seconds=0.2))) as svc:
        await club.created("club-a", "p-1", authUserId=["u-1"])
        # Sent newest first: the timeline still orders by when things happened.
        for days, kind in (
            (1, "messaging.push.opened"),
            (5, "messaging.push.sent"),
            (3, "messaging.email.clicked"),
        ):
            await club.upstream(
                kind,
                "club-a",
                {"authUserId": "u-1"},
                {"messageId": f"m{days}", "url": "https://x"},
                at=now - timedelta(days=days),
            )
        page = await wait_for(lambda: _total(club, svc, "club-a", "p-1", 3), what="three activities")
        assert [i["type"] for i in page["items"]] == ["PUSH_OPENED", "EMAIL_CLICKED", "PUSH_SENT"]


async def _eq(value_coro, expected):  # noqa: ANN001, ANN202
    return (await value_coro) == expected


async def _total(club, svc, tenant, profile_id, expected):  # noqa: ANN001, ANN202
    r = await svc.http.get(
        f"/api/v1/customers/{profile_id}/timeline", headers=auth_headers(tenant, ["staff"])
    )
    if r.status_code != 200:
        return None
    page = r.json()
    return page if page["total"] == expected else None
