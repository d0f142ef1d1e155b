"""The customers API: list with filters and cursors, resolve, read, staff edits; every error names its field;
tenant B never sees tenant A."""

from __future__ import annotations

from fairway_identity.app import create_app
from fairway_identity.settings import Settings
from fairway_testkit import auth_headers, run_service

A = auth_headers("club-a", ["staff"])
B = auth_headers("club-b", ["admin"])


async def seed(upstream, db, svc) -> dict[str, str]:
    people = [
        (
            "scl.member.created",
            "club-a",
            {"sclMemberId": 1, "email": "ann@x.com", "phoneNumber": "082 123 4567"},
            {"firstName": "Ann", "lastName": "Lee", "membershipTier": "Gold"},
        ),
        (
            "scl.member.created",
            "club-a",
            {"sclMemberId": 2, "email": "bob@x.com"},
            {"firstName": "Bob", "lastName": "Stone", "membershipTier": "silver"},
        ),
        (
            "teetime.player.created",
            "club-a",
            {"teetimePlayerId": "tp3", "email": "cat@y.com"},
            {"firstName": "Cat", "handicap": 4.5},
        ),
        (
            "scl.member.created",
            "club-b",
            {"sclMemberId": 1, "email": "ann@x.com"},
            {"firstName": "Other Ann"},
        ),
    ]
    for p in people:  # one by one, so creation order is known
        await db.applied(svc, await upstream.send(*p))
    rows = await db.rows(svc, "SELECT id::text AS id, attributes->>'firstName' AS name FROM profile")
    return {r["name"]: r["id"] for r in rows}


async def test_customers_api(settings_for, upstream, db) -> None:
    async with run_service(create_app(settings_for(Settings))) as svc:
        http = svc.http
        ids = await seed(upstream, db, svc)
        ann, bob, cat = ids["Ann"], ids["Bob"], ids["Cat"]

        async def names(query: str, headers=A) -> list[str]:  # noqa: ANN001
            r = await http.get(f"/api/v1/customers{query}", headers=headers)
            assert r.status_code == 200, r.text
            return [c["attributes"]["firstName"] for c in r.json()["items"]]

        assert await names("") == ["Cat", "Bob", "Ann"]  # newest first
        assert await names("?email=%20ANN@X.com") == ["Ann"]
        assert await names("?phoneNumber=%2B27821234567") == ["Ann"]
        assert await names("?phoneNumber=0821234567&email=bob@x.com") == []
        assert await names("?membershipTier=SILVER") == ["Bob"]
        assert await names("?q=sto") == ["Bob"]
        assert await names("?q=y.com") == ["Cat"]
        assert await names("?status=MERGED") == []
        assert await names("", B) == ["Other Ann"]
        page1 = (await http.get("/api/v1/customers?limit=2", headers=A)).json()
        page2 = (await http.get(f"/api/v1/customers?limit=2&cursor={page1['nextCursor']}", headers=A)).json()
        assert [c["id"] for c in page1["items"] + page2["items"]] == [cat, bob, ann] and page2[
            "nextCursor"
        ] is None

        for query, field in [
            ("?phoneNumber=12", "phoneNumber"),
            ("?email=nope", "email"),
            ("?cursor=abc", "cursor"),
            ("?limit=0", "query.limit"),
            ("?status=GONE", "query.status"),
        ]:
            r = await http.get(f"/api/v1/customers{query}", headers=A)
            assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, (query, r.text)
        assert (await http.get("/api/v1/customers")).status_code == 401

        # resolve: read-only, in resolution order, with confidence
        r = await http.get("/api/v1/customers/resolve?email=ANN@x.com&teetimePlayerId=tp3", headers=A)
        assert r.status_code == 200
        res = r.json()
        assert (res["profile"]["id"], res["matchedBy"], res["confidence"]) == (ann, ["email"], 95)
        assert res["conflicts"] == [{"keyType": "teetimePlayerId", "value": "tp3", "profileId": cat}]
        r = await http.get("/api/v1/customers/resolve?phoneNumber=27821234567", headers=A)
        assert (r.json()["profile"]["id"], r.json()["confidence"]) == (ann, 85)
        r = await http.get("/api/v1/customers/resolve?sclMemberId=2", headers=A)
        assert (r.json()["profile"]["id"], r.json()["confidence"]) == (bob, 100)
        assert (await http.get("/api/v1/customers/resolve?email=zed@x.com", headers=A)).status_code == 404
        r = await http.get("/api/v1/customers/resolve", headers=A)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query"
        r = await http.get("/api/v1/customers/resolve?email=test@gmail.com", headers=A)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "email"
        r = await http.get("/api/v1/customers/resolve?sclMemberId=2", headers=B)
        assert r.status_code == 404  # club-b has no member 2, and cannot see club-a's
        assert (await http.get("/api/v1/customers/resolve?count=0", headers=A)).status_code == 422
        assert len(await db.rows(svc, "SELECT 1 FROM profile")) == 4  # resolving created nothing

        # read
        r = await http.get(f"/api/v1/customers/{ann}", headers=A)
        c = r.json()
        assert (
            c["identities"]["phoneNumber"] == ["+27821234567"] and c["attributes"]["membershipTier"] == "Gold"
        )
        assert c["attributeSources"]["firstName"]["source"] == "scl" and c["lifecycleStage"] == "CUSTOMER"
        assert (await http.get(f"/api/v1/customers/{ann}", headers=B)).status_code == 404
        r = await http.get("/api/v1/customers/not-a-uuid", headers=A)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "path.profile_id"
        r = await http.get("/api/v1/customers/01a1fd91-0000-7000-8000-000000000000", headers=A)
        assert r.status_code == 404

        # staff edits
        r = await http.patch(
            f"/api/v1/customers/{ann}",
            json={"firstName": "Anne", "tags": ["vip", " vip", "junior"], "lifecycleStage": "ADVOCATE"},
            headers=A,
        )
        assert r.status_code == 200, r.text
        c = r.json()
        assert (
            c["attributes"]["firstName"] == "Anne" and c["attributeSources"]["firstName"]["source"] == "staff"
        )
        assert c["tags"] == ["junior", "vip"] and c["lifecycleStage"] == "ADVOCATE"
        assert await names("?tag=vip") == ["Anne"]
        [updated] = [o for o in await db.outbox(svc, "profile.updated") if o["key"] == ann]
        assert updated["changes"] == {
            "firstName": "Anne",
            "tags": ["junior", "vip"],
            "lifecycleStage": "ADVOCATE",
        }
        r = await http.patch(f"/api/v1/customers/{ann}", json={"firstName": None}, headers=A)
        assert r.json()["attributes"]["firstName"] == "Ann"  # the staff value withdrawn
        for body, field in [
            ({"membershipTier": "Platinum"}, "body.membershipTier"),
            ({"emailOptIn": True}, "body.emailOptIn"),
            ({"dateOfBirth": "2999-01-01"}, "body.dateOfBirth"),
            ({"tags": [""]}, "body.tags"),
            ({}, "body"),
            ({"status": "MERGED"}, "body.status"),
        ]:
            r = await http.patch(f"/api/v1/customers/{ann}", json=body, headers=A)
            assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, (body, r.text)
        r = await http.patch(
            f"/api/v1/customers/{ann}", json={"firstName": "X"}, headers=auth_headers("club-a", ["analyst"])
        )
        assert r.status_code == 403
        r = await http.patch(f"/api/v1/customers/{ann}", json={"firstName": "X"}, headers=B)
        assert r.status_code == 404
        assert (await http.get(f"/api/v1/customers/{ann}", headers=A)).json()["attributes"][
            "firstName"
        ] == "Ann"
