"""The campaign API: CRUD, validation naming the field, the state machine's 409s, pagination, roles, tenants."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from camp_helpers import OTHER, TENANT, Api, campaign_body

from fairway_testkit import RunningService, auth_headers


async def test_create_read_edit_delete(svc: RunningService) -> None:
    api = Api(svc)
    c = await api.create()
    assert c["state"] == "DRAFT" and c["timeZone"] == "Africa/Johannesburg" and c["createdBy"] == "tester"
    assert (await api.get(f"/{c['id']}"))["name"] == "December newsletter"
    r = await svc.http.patch(f"/api/v1/campaigns/{c['id']}", json={"name": "January newsletter",
                                                                    "timeZone": "Europe/London"}, headers=api.headers)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "January newsletter" and r.json()["timeZone"] == "Europe/London"
    r = await svc.http.delete(f"/api/v1/campaigns/{c['id']}", headers=api.headers)
    assert r.status_code == 204
    await api.get(f"/{c['id']}", expect=404)


async def test_bad_input_names_the_field(svc: RunningService) -> None:
    api = Api(svc)
    cases = [
        (campaign_body(timeZone="Mars/Olympus"), "body.timeZone"),
        (campaign_body(channels=["EMAIL", "SMS"]), "body"),  # no SMS content
        (campaign_body(channels=["FAX"]), "body.channels.0"),
        (campaign_body(schedule={"kind": "AT"}), "body.schedule"),
        (campaign_body(abTest={"variants": [{"name": "A", "subject": "Only one"}]}), "body.abTest.variants"),
    ]
    for body, field in cases:
        r = await svc.http.post("/api/v1/campaigns", json=body, headers=api.headers)
        assert r.status_code == 422, r.text
        fields = [d["field"] for d in r.json()["detail"]]
        assert any(f.startswith(field) for f in fields), (field, r.json())
    # a patch that breaks the whole names it too, and changes nothing
    c = await api.create()
    r = await svc.http.patch(f"/api/v1/campaigns/{c['id']}", json={"channels": ["EMAIL", "SMS"]}, headers=api.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body"
    assert (await api.get(f"/{c['id']}"))["channels"] == ["EMAIL"]
    # a time in the past is refused when scheduling
    past = await api.create(schedule={"kind": "AT", "at": (datetime.now(UTC) - timedelta(hours=2)).isoformat()})
    r = await svc.http.post(f"/api/v1/campaigns/{past['id']}/schedule", headers=api.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "schedule.at"


async def test_state_machine_and_conflicts(svc: RunningService) -> None:
    api = Api(svc)
    c = await api.create()
    cid = c["id"]
    for action in ("pause", "resume"):
        r = await api.action(cid, action, expect=409)
        assert r["error"] == "InvalidTransition" and "DRAFT" in r["detail"]
    assert (await api.action(cid, "schedule"))["state"] == "SCHEDULED"
    assert (await api.action(cid, "schedule", expect=409))["detail"].endswith("SCHEDULED")
    r = await svc.http.patch(f"/api/v1/campaigns/{cid}", json={"name": "too late"}, headers=api.headers)
    assert r.status_code == 409 and "SCHEDULED" in r.json()["detail"]
    assert (await api.action(cid, "pause"))["state"] == "PAUSED"
    assert (await api.action(cid, "pause", expect=409))["detail"].endswith("PAUSED")
    assert (await api.action(cid, "resume"))["state"] == "SCHEDULED"
    assert (await api.action(cid, "cancel"))["state"] == "CANCELLED"
    for action in ("schedule", "pause", "resume", "cancel"):
        assert "CANCELLED" in (await api.action(cid, action, expect=409))["detail"]
    r = await svc.http.delete(f"/api/v1/campaigns/{cid}", headers=api.headers)
    assert r.status_code == 204


async def test_cursor_pagination_and_state_filter(svc: RunningService) -> None:
    api = Api(svc)
    ids = [(await api.create(name=f"Campaign {i}"))["id"] for i in range(5)]
    await api.action(ids[0], "cancel")
    seen: list[str] = []
    cursor = None
    while True:
        page = await api.get("", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [c["id"] for c in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    assert [c["id"] for c in (await api.get("", state="CANCELLED"))["items"]] == [ids[0]]
    assert (await api.get("", expect=422, cursor="not-a-cursor"))["detail"][0]["field"] == "cursor"


async def test_roles(svc: RunningService) -> None:
    analyst = Api(svc, roles=("analyst",))
    c = await Api(svc).create()
    assert (await analyst.get(f"/{c['id']}"))["id"] == c["id"]
    r = await svc.http.post("/api/v1/campaigns", json=campaign_body(), headers=analyst.headers)
    assert r.status_code == 403
    assert (await analyst.action(c["id"], "schedule", expect=403))["error"] == "Forbidden"
    r = await svc.http.get("/api/v1/campaigns")
    assert r.status_code == 401


async def test_tenant_isolation_on_every_endpoint(svc: RunningService) -> None:
    mine = await Api(svc, TENANT).create()
    other = Api(svc, OTHER)
    cid = mine["id"]
    assert (await other.get(""))["items"] == []
    for path in (f"/{cid}", f"/{cid}/stats", f"/{cid}/audience"):
        await other.get(path, expect=404)
    for action in ("schedule", "pause", "resume", "cancel"):
        await other.action(cid, action, expect=404)
    r = await svc.http.patch(f"/api/v1/campaigns/{cid}", json={"name": "x"}, headers=other.headers)
    assert r.status_code == 404
    r = await svc.http.post(f"/api/v1/campaigns/{cid}/test-send", json={"profileIds": ["p1"]},
                            headers=other.headers)
    assert r.status_code == 404
    r = await svc.http.post(f"/api/v1/campaigns/{cid}/content/generate", json={"channel": "EMAIL"},
                            headers=other.headers)
    assert r.status_code == 404
    r = await svc.http.delete(f"/api/v1/campaigns/{cid}", headers=other.headers)
    assert r.status_code == 404
    assert (await Api(svc, TENANT).get(f"/{cid}"))["state"] == "DRAFT"
    assert auth_headers(TENANT) != other.headers
