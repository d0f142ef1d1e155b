"""Bad input is a 4xx naming the field, never a 500; roles; and no way to inject SQL through field names or
values (they are refused, or travel as bound parameters)."""

import pytest
from seg_helpers import NOW, Events, rule, sql, tenant_id
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from fairway_chassis import ManualClock
from fairway_schemas.criteria import Group
from fairway_schemas.criteria_sql import compile_criteria
from fairway_segmentation.app import create_app
from fairway_segmentation.db import profiles
from fairway_segmentation.readmodel.fields import COLUMNS
from fairway_testkit import auth_headers, run_service, wait_for

INJECTIONS = [
    "x'; DROP TABLE profiles; --",
    "' OR '1'='1",
    'Gold" OR 1=1 --',
    "%' OR tenant_id LIKE '%",
    "$1",
    ":tenant",
    "\\'; SELECT pg_sleep(5); --",
]


def test_compiled_sql_holds_values_only_as_bound_parameters() -> None:
    group = Group.model_validate(
        {
            "combinator": "OR",
            "rules": [
                *[rule("membershipTier", op, v) for v in INJECTIONS for op in ("eq", "contains", "neq")],
                rule("tags", "contains", INJECTIONS[0]),
                rule("homeClub", "in", INJECTIONS),
            ],
        }
    )
    stmt = select(profiles.c.profile_id).where(compile_criteria(group, COLUMNS, now=NOW))
    compiled = stmt.compile(dialect=postgresql.asyncpg.dialect())
    rendered = str(compiled)
    for v in INJECTIONS:
        if "'" in v or '"' in v:  # ("$1" and ":tenant" look like placeholders, which the SQL is full of)
            assert v not in rendered and v.lower() not in rendered
    assert "'" not in rendered  # no string literal at all: every value is a parameter
    assert any(v == INJECTIONS[0].lower() for v in compiled.params.values())  # folded, but bound


def test_unknown_field_is_refused_before_it_could_reach_sql() -> None:
    from fairway_schemas.criteria_eval import InvalidCriteria

    evil = Group.model_validate({"rules": [rule("status = status; DROP TABLE profiles; --", "eq", "x")]})
    with pytest.raises(InvalidCriteria, match="unknown field"):
        compile_criteria(evil, COLUMNS, now=NOW)
    # a field in the catalogue without a column in the caller's table is refused too
    with pytest.raises(InvalidCriteria, match="no column"):
        compile_criteria(Group.model_validate({"rules": [rule("handicap", "eq", 1)]}), {}, now=NOW)


async def test_bad_input_names_the_field_and_injection_finds_nothing(seg_settings, events: Events) -> None:
    club = tenant_id()
    async with run_service(create_app(seg_settings(), clock=ManualClock(NOW))) as svc:
        h = auth_headers(club, ["marketer"])
        await events.send(events.created(club, "ann", membershipTier="Gold", email="ann@x.com"))

        async def known() -> bool:
            r = await svc.http.post("/api/v1/segments/preview", headers=h, json={"criteria": {"rules": []}})
            return r.json()["estimatedSize"] == 1

        await wait_for(known, what="ann")

        async def fields_of(method: str, url: str, body=None, headers=h) -> list[str]:
            r = await svc.http.request(method, url, headers=headers, json=body)
            assert 400 <= r.status_code < 500, (r.status_code, r.text)
            d = r.json()["detail"]
            return [e["field"] for e in d] if isinstance(d, list) else [d]

        ok = {"rules": [rule("membershipTier", "eq", "Gold")]}
        assert await fields_of(
            "POST",
            "/api/v1/segments",
            {
                "name": "x",
                "criteria": {
                    "rules": [
                        rule("handicap", "gte", 18),
                        {"combinator": "OR", "rules": [rule("shoeSize", "eq", 9), rule("tags", "gt", "a")]},
                    ]
                },
            },
        ) == ["criteria.rules[1].rules[0].field", "criteria.rules[1].rules[1].operator"]
        assert await fields_of(
            "POST",
            "/api/v1/segments",
            {"name": "x", "criteria": {"rules": [rule("lastBookingAt", "lt", {"relative": "soon"})]}},
        ) == ["criteria.rules[0].value"]
        assert await fields_of("POST", "/api/v1/segments", {"name": "x"}) == ["criteria"]
        assert await fields_of(
            "POST", "/api/v1/segments", {"name": "x", "type": "STATIC", "criteria": ok}
        ) == ["criteria"]
        assert await fields_of("POST", "/api/v1/segments", {"name": "", "criteria": ok}) == ["body.name"]
        assert await fields_of(
            "POST", "/api/v1/segments", {"name": "x", "type": "SMART", "criteria": ok}
        ) == ["body.type"]
        assert await fields_of("POST", "/api/v1/segments", {"name": "x", "criteria": ok, "colour": 1}) == [
            "body.colour"
        ]
        assert await fields_of("POST", "/api/v1/segments", {"name": "x", "criteria": [1]}) == [
            "body.criteria"
        ]
        assert await fields_of(
            "POST", "/api/v1/segments/preview", {"criteria": {"rules": [rule("handicap", "between", [1])]}}
        ) == ["criteria.rules[0].value"]
        assert await fields_of("POST", "/api/v1/segments/preview", {"criteria": ok, "sampleSize": 1000}) == [
            "body.sampleSize"
        ]
        r = await svc.http.post("/api/v1/segments", headers=h, json={"name": "Gold", "criteria": ok})
        assert r.status_code == 201
        sid = r.json()["id"]
        assert (
            await svc.http.post("/api/v1/segments", headers=h, json={"name": "GOLD ", "criteria": ok})
        ).status_code == 409
        assert await fields_of(
            "PATCH", f"/api/v1/segments/{sid}", {"criteria": {"rules": [rule("status", "eq", "GONE")]}}
        ) == ["criteria.rules[0].value"]
        assert await fields_of("PATCH", f"/api/v1/segments/{sid}", {"criteria": None}) == ["criteria"]
        assert await fields_of("GET", "/api/v1/segments?limit=0") == ["query.limit"]
        assert await fields_of("GET", "/api/v1/segments?cursor=bm9wZQ") == ["cursor"]
        static = (
            await svc.http.post("/api/v1/segments", headers=h, json={"name": "S", "type": "STATIC"})
        ).json()
        assert await fields_of("POST", f"/api/v1/segments/{static['id']}/members", {"profileIds": "ann"}) == [
            "body.profileIds"
        ]
        r = await svc.http.post(
            f"/api/v1/segments/{static['id']}/members",
            headers={**h, "Content-Type": "text/csv"},
            content=b"\xff\xfe\x00",
        )
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body"
        assert await fields_of("POST", "/api/v1/segments/nl", {"query": ""}) == ["body.query"]
        assert (await svc.http.get("/api/v1/segments/nope", headers=h)).status_code == 404
        assert (await svc.http.delete("/api/v1/segments/nope", headers=h)).status_code == 404

        # roles: staff reads, only marketers (and admins) change; no token, no entry
        staff = auth_headers(club, ["staff"])
        assert (await svc.http.get("/api/v1/segments", headers=staff)).status_code == 200
        assert (await svc.http.get("/api/v1/segments/fields", headers=staff)).status_code == 200
        assert (
            await svc.http.post("/api/v1/segments", headers=staff, json={"name": "y", "criteria": ok})
        ).status_code == 403
        assert (await svc.http.delete(f"/api/v1/segments/{sid}", headers=staff)).status_code == 403
        assert (await svc.http.get("/api/v1/segments")).status_code == 401

        # injection through values: every attempt is just a string that matches nobody, the tables are intact
        for v in INJECTIONS:
            for op in ("eq", "contains", "neq"):
                r = await svc.http.post(
                    "/api/v1/segments/preview",
                    headers=h,
                    json={"criteria": {"rules": [rule("membershipTier", op, v)]}},
                )
                assert r.status_code == 200, r.text
                assert r.json()["estimatedSize"] == (1 if op == "neq" else 0)
        for f in ["status; DROP TABLE profiles", "profile_id", "tenant_id", "membership_tier", "1=1"]:
            assert await fields_of(
                "POST", "/api/v1/segments/preview", {"criteria": {"rules": [rule(f, "eq", "x")]}}
            ) == ["criteria.rules[0].field"]
        assert (await sql(svc, "SELECT count(*) FROM profiles"))[0][0] == 1
        assert (await svc.http.get(f"/api/v1/segments/{sid}", headers=h)).json()["memberCount"] == 1

        fields = (await svc.http.get("/api/v1/segments/fields", headers=h)).json()
        by_name = {f["name"]: f for f in fields}
        assert {
            "status",
            "lifecycleStage",
            "membershipTier",
            "membershipStatus",
            "engagementScore",
            "churnRiskScore",
            "bookingCount30d",
            "bookingCount90d",
            "activityCount30d",
            "lastActivityAt",
            "lastBookingAt",
            "lastEmailOpenAt",
            "lastEmailClickAt",
            "emailOptIn",
            "smsOptIn",
            "handicap",
            "lifetimeValue",
            "tags",
            "memberSince",
            "membershipExpiry",
            "riskLevel",
            "valueSegment",
        } <= set(by_name)
        assert (
            by_name["membershipExpiry"]["granularity"] == "day" and by_name["handicap"]["granularity"] is None
        )
        assert by_name["riskLevel"]["values"] == ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
        assert "between" in by_name["handicap"]["operators"] and "contains" in by_name["tags"]["operators"]
