"""Merge and unmerge through the API, with events before and after the merge: after the unmerge both
profiles equal those of a tenant where the merge never happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fairway_identity.app import create_app
from fairway_identity.settings import Settings
from fairway_testkit import auth_headers, run_service

T0 = datetime(2025, 5, 1, 8, tzinfo=UTC)
BEFORE = [
    (
        "scl.member.created",
        {"sclMemberId": 1, "email": "ann@x.com"},
        {"firstName": "Ann", "membershipTier": "Gold"},
    ),
    (
        "teetime.player.created",
        {"teetimePlayerId": "t1", "phoneNumber": "0821234567"},
        {"firstName": "Annie", "handicap": 10},
    ),
    (
        "contactPreference.updated",
        {"messagingContactId": "m2", "phoneNumber": "0821234567"},
        {"emailOptIn": True, "smsOptIn": False},
    ),
    ("scl.payment.received", {"sclMemberId": 1}, {"paymentId": "p1", "amount": "100.00"}),
]
AFTER = [
    ("teetime.handicap.updated", {"teetimePlayerId": "t1"}, {"handicap": 8.2}),
    ("teetime.booking.created", {"teetimePlayerId": "t1", "email": "annie@y.com"}, {"bookingId": "b1"}),
    ("contactPreference.updated", {"email": "ann@x.com"}, {"smsOptIn": True}),
    ("teetime.purchase.completed", {"phoneNumber": "+27821234567"}, {"purchaseId": "q1", "amount": "20"}),
]


def comparable(c: dict[str, Any]) -> dict[str, Any]:
    c = {k: v for k, v in c.items() if k not in ("id", "createdAt", "updatedAt", "revision", "requestedId")}
    c["attributeSources"] = {k: {**v, "eventId": None} for k, v in c["attributeSources"].items()}
    return c


async def test_merge_then_unmerge_equals_never_merged(settings_for, upstream, db) -> None:
    async with run_service(create_app(settings_for(Settings))) as svc:
        http = svc.http

        async def play(tenant: str, events: list, offset: int) -> list[str]:
            ids = []
            for i, (t, ident, payload) in enumerate(events):
                ids.append(
                    await upstream.send(t, tenant, ident, payload, at=T0 + timedelta(minutes=offset + i))
                )
                await db.applied(svc, ids[-1])
            return ids

        async def person(tenant: str, **hint: str) -> dict[str, Any]:
            q = "&".join(f"{k}={v}" for k, v in hint.items())
            r = await http.get(f"/api/v1/customers/resolve?{q}", headers=auth_headers(tenant, ["staff"]))
            assert r.status_code == 200, r.text
            return r.json()["profile"]

        A, C = auth_headers("club-a", ["staff"]), auth_headers("club-c", ["staff"])
        for tenant in ("club-a", "club-c"):
            await play(tenant, BEFORE, 0)
        ann, player = (
            (await person("club-a", sclMemberId="1"))["id"],
            (await person("club-a", teetimePlayerId="t1"))["id"],
        )
        assert ann != player

        # errors first: each names its field or says why
        r = await http.post(f"/api/v1/customers/{ann}/merge", json={"loserId": ann}, headers=A)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "loserId"
        other = (await person("club-c", sclMemberId="1"))["id"]
        r = await http.post(f"/api/v1/customers/{ann}/merge", json={"loserId": other}, headers=A)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "loserId"  # not in this tenant
        r = await http.post(f"/api/v1/customers/{ann}/merge", json={"loserId": player}, headers=C)
        assert r.status_code == 404
        r = await http.post(
            f"/api/v1/customers/{ann}/merge",
            json={"loserId": player},
            headers=auth_headers("club-a", ["analyst"]),
        )
        assert r.status_code == 403
        r = await http.post(f"/api/v1/customers/{ann}/merge", json={"looser": player}, headers=A)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.loserId"
        assert (await http.post(f"/api/v1/customers/{ann}/unmerge", headers=A)).status_code == 409

        r = await http.post(
            f"/api/v1/customers/{ann}/merge", json={"loserId": player, "reason": "same person"}, headers=A
        )
        assert r.status_code == 200, r.text
        merged = r.json()
        assert merged["identities"]["teetimePlayerId"] == ["t1"] and merged["identities"]["sclMemberId"] == [
            "1"
        ]
        assert (
            merged["attributes"]["handicap"] == 10 and merged["attributes"]["firstName"] == "Ann"
        )  # SCL's name
        assert (
            merged["consent"]["emailOptIn"] is None and merged["consent"]["smsOptIn"] is False
        )  # restrictive
        r = await http.get(f"/api/v1/customers/{player}", headers=A)
        assert (
            r.json()["id"] == ann and r.json()["requestedId"] == player
        )  # a merged id answers with the winner
        r = await http.post(f"/api/v1/customers/{ann}/merge", json={"loserId": player}, headers=A)
        assert r.status_code == 409
        [m] = await db.outbox(svc, "profile.merged")
        assert (m["winnerId"], m["loserId"], m["key"]) == (ann, player, ann)

        after = {}
        for tenant in ("club-a", "club-c"):
            after[tenant] = await play(tenant, AFTER, 10)
        for tenant, headers in (("club-a", A), ("club-c", C)):
            pid = (await person(tenant, sclMemberId="1"))["id"]
            r = await http.patch(f"/api/v1/customers/{pid}", json={"tags": ["vip"]}, headers=headers)
            assert r.status_code == 200
        mid = await person("club-a", sclMemberId="1")
        assert (
            mid["identities"]["email"] == ["ann@x.com", "annie@y.com"]
            and mid["attributes"]["handicap"] == 8.2
        )

        r = await http.post(f"/api/v1/customers/{player}/unmerge", headers=A)
        assert r.status_code == 200, r.text
        assert (r.json()["profile"]["id"], r.json()["restored"]["id"]) == (ann, player)
        for hint in ({"sclMemberId": "1"}, {"teetimePlayerId": "t1"}):
            assert comparable(await person("club-a", **hint)) == comparable(await person("club-c", **hint)), (
                hint
            )
        restored = await person("club-a", teetimePlayerId="t1")
        assert restored["id"] == player and restored["status"] == "ACTIVE"
        assert (
            restored["identities"]["email"] == ["annie@y.com"] and restored["attributes"]["handicap"] == 8.2
        )
        assert restored["attributes"]["lifetimeValue"] == 2000
        [u] = await db.outbox(svc, "profile.unmerged")
        assert (u["profileId"], u["restoredId"]) == (ann, player)
        assert u["restored"]["identities"]["teetimePlayerId"] == ["t1"]
        # The player's post-merge events are the player's again, in the sync log too.
        r = await http.get(f"/api/v1/sync-log?eventId={after['club-a'][0]}", headers=A)
        assert r.json()["items"][0]["profileId"] == player

        # Staff said they are two people: the same evidence does not merge them again.
        again = await upstream.send(
            "scl.member.updated", "club-a", {"sclMemberId": 1, "teetimePlayerId": "t1"}
        )
        await db.applied(svc, again)
        assert (await person("club-a", teetimePlayerId="t1"))["id"] == player
        assert (await http.get("/api/v1/customers/merge-candidates", headers=A)).json()["items"] == []


async def test_an_automatic_merge_can_be_undone(settings_for, upstream, db) -> None:
    async with run_service(create_app(settings_for(Settings))) as svc:
        A = auth_headers("club-a", ["staff"])
        first = await upstream.send(
            "scl.member.created",
            "club-a",
            {"sclMemberId": 5, "email": "kim@x.com"},
            {"firstName": "Kim", "membershipTier": "Gold"},
            at=T0,
        )
        await db.applied(svc, first)
        second = await upstream.send(
            "teetime.player.created",
            "club-a",
            {"teetimePlayerId": "t5"},
            {"firstName": "Kimberly", "handicap": 12},
            at=T0 + timedelta(minutes=1),
        )
        await db.applied(svc, second)
        # SCL says member 5 is TeeTime player t5: two system ids, so the default policy merges them.
        link = await upstream.send(
            "scl.member.updated",
            "club-a",
            {"sclMemberId": 5, "teetimePlayerId": "t5"},
            {"homeClub": "Royal"},
            at=T0 + timedelta(minutes=2),
        )
        await db.applied(svc, link)
        r = await svc.http.get("/api/v1/customers/resolve?teetimePlayerId=t5", headers=A)
        kim = r.json()["profile"]
        assert kim["identities"]["sclMemberId"] == ["5"] and kim["attributes"]["handicap"] == 12
        [m] = await db.outbox(svc, "profile.merged")
        assert m["reason"].startswith("auto-merge")
        merges = await db.rows(svc, "SELECT seq, reason FROM merge")
        assert merges[0]["reason"] == "auto-merge"

        assert (
            await svc.http.post(
                f"/api/v1/customers/{m['loserId']}/unmerge", headers=auth_headers("club-b", ["staff"])
            )
        ).status_code == 404
        r = await svc.http.post(f"/api/v1/customers/{m['loserId']}/unmerge", headers=A)
        assert r.status_code == 200, r.text
        member, player = r.json()["profile"], r.json()["restored"]
        assert member["identities"]["sclMemberId"] == ["5"] and member["identities"]["teetimePlayerId"] == []
        assert (
            member["attributes"]["homeClub"] == "Royal"
        )  # the linking event resolves by member number first
        assert (
            player["identities"]["teetimePlayerId"] == ["t5"]
            and player["attributes"]["firstName"] == "Kimberly"
        )
        assert player["status"] == "ACTIVE" and player["attributes"]["handicap"] == 12


async def test_unmerging_a_loser_below_the_top_of_a_merge_tree(settings_for, upstream, db) -> None:
    """B merged into A, then A into C; unmerging B leaves C+A exactly as if only A had been merged into C."""
    people = [
        (
            "scl.member.created",
            {"sclMemberId": 7, "email": "a@x.com"},
            {"firstName": "Ann", "membershipTier": "Gold"},
        ),
        ("teetime.player.created", {"teetimePlayerId": "t7", "phoneNumber": "0827654321"}, {"handicap": 14}),
        ("contactPreference.updated", {"messagingContactId": "m7", "email": "c@z.com"}, {"emailOptIn": True}),
    ]
    later = [
        ("teetime.handicap.updated", {"teetimePlayerId": "t7"}, {"handicap": 12.5}),
        ("scl.payment.received", {"sclMemberId": 7}, {"paymentId": "p7", "amount": "50.00"}),
    ]
    async with run_service(create_app(settings_for(Settings))) as svc:
        http = svc.http

        async def play(tenant: str, events: list, offset: int) -> None:
            for i, (t, ident, payload) in enumerate(events):
                await db.applied(
                    svc, await upstream.send(t, tenant, ident, payload, at=T0 + timedelta(minutes=offset + i))
                )

        async def person(tenant: str, **hint: str) -> dict[str, Any]:
            q = "&".join(f"{k}={v}" for k, v in hint.items())
            r = await http.get(f"/api/v1/customers/resolve?{q}", headers=auth_headers(tenant, ["staff"]))
            assert r.status_code == 200, r.text
            return r.json()["profile"]

        async def merge(tenant: str, winner: str, loser: str) -> None:
            r = await http.post(
                f"/api/v1/customers/{winner}/merge",
                json={"loserId": loser},
                headers=auth_headers(tenant, ["staff"]),
            )
            assert r.status_code == 200, r.text

        ids: dict[str, dict[str, str]] = {}
        for tenant in ("club-a", "club-c"):
            await play(tenant, people, 0)
            ids[tenant] = {
                "a": (await person(tenant, sclMemberId="7"))["id"],
                "b": (await person(tenant, teetimePlayerId="t7"))["id"],
                "c": (await person(tenant, messagingContactId="m7"))["id"],
            }
        a, b, c = ids["club-a"]["a"], ids["club-a"]["b"], ids["club-a"]["c"]
        await merge("club-a", a, b)  # B into A
        await merge("club-a", c, a)  # then A (holding B) into C
        await merge("club-c", ids["club-c"]["c"], ids["club-c"]["a"])  # the world where B was never merged
        for tenant in ("club-a", "club-c"):
            await play(tenant, later, 10)
        top = await person("club-a", teetimePlayerId="t7")
        assert top["id"] == c and top["identities"]["sclMemberId"] == ["7"]

        r = await http.post(f"/api/v1/customers/{b}/unmerge", headers=auth_headers("club-a", ["staff"]))
        assert r.status_code == 200, r.text
        for hint in ({"sclMemberId": "7"}, {"messagingContactId": "m7"}, {"teetimePlayerId": "t7"}):
            assert comparable(await person("club-a", **hint)) == comparable(await person("club-c", **hint)), (
                hint
            )
        restored = await person("club-a", teetimePlayerId="t7")
        assert restored["id"] == b and restored["attributes"]["handicap"] == 12.5
        assert (await person("club-a", sclMemberId="7"))["id"] == c
