"""The approval gate: the tenant's rules and the gateway's flag hold a campaign in PENDING_APPROVAL until reviewers
approve (as written or edited); a rejection or an expiry sends it back to DRAFT; approved texts auto-approve."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from camp_helpers import TENANT, Api

from fairway_campaigns.approvals import service as approvals
from fairway_testkit import RunningService, auth_headers, wait_for

ADMIN = auth_headers(TENANT, ("admin",), subject="owner@stonehavengolf.co.uk")


async def _settings(svc: RunningService, **values: Any) -> None:
    r = await svc.http.put("/api/v1/approvals/settings", json=values, headers=ADMIN)
    assert r.status_code == 200, r.text


async def _pending(svc: RunningService, campaign_id: str) -> list[dict[str, Any]]:
    r = await svc.http.get("/api/v1/approvals", headers=ADMIN)
    assert r.status_code == 200, r.text
    return [a for a in r.json()["items"] if a["campaignId"] == campaign_id]


async def _state(api: Api, campaign_id: str, state: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        c = await api.get(f"/{campaign_id}")
        return c if c["state"] == state else None

    return await wait_for(check, timeout=30, what=f"campaign {state}")


async def test_reject_then_edit_and_approve(svc: RunningService) -> None:
    api = Api(svc)
    await _settings(svc, requirements={"EMAIL_SUBJECT": "ALL", "EMAIL_BODY": "NONE"})
    c = await api.create()
    assert (await api.action(c["id"], "schedule"))["state"] == "PENDING_APPROVAL"
    [req] = await _pending(svc, c["id"])
    assert req["contentType"] == "EMAIL_SUBJECT" and req["text"] == "Winter golf at Stonehaven"
    # marketers cannot review
    r = await svc.http.post(f"/api/v1/approvals/{req['id']}/approve", headers=api.headers)
    assert r.status_code == 403
    r = await svc.http.post(f"/api/v1/approvals/{req['id']}/reject", json={"feedback": "Say midweek"},
                            headers=ADMIN)
    assert r.status_code == 200 and r.json()["status"] == "REJECTED" and r.json()["feedback"] == "Say midweek"
    await _state(api, c["id"], "DRAFT")
    r = await svc.http.post(f"/api/v1/approvals/{req['id']}/approve", headers=ADMIN)
    assert r.status_code == 409  # decided already

    assert (await api.action(c["id"], "schedule"))["state"] == "PENDING_APPROVAL"
    [req] = await _pending(svc, c["id"])
    r = await svc.http.post(f"/api/v1/approvals/{req['id']}/edit", json={"text": "Midweek winter golf"},
                            headers=ADMIN)
    assert r.status_code == 200 and r.json()["edited"] and r.json()["status"] == "APPROVED"
    scheduled = await _state(api, c["id"], "SCHEDULED")
    assert scheduled["content"]["EMAIL"]["subject"] == "Midweek winter golf"


async def test_gateway_flag_is_reviewed_even_when_the_tenant_reviews_nothing(svc: RunningService) -> None:
    api = Api(svc)
    flagged = {"EMAIL": {"subject": "Your handicap, your winter", "body": "Generated copy",
                         "generatedBy": "decision-1", "requiresApproval": True}}
    c = await api.create(content=flagged)
    assert (await api.action(c["id"], "schedule"))["state"] == "PENDING_APPROVAL"
    reasons = {a["field"]: a["reason"] for a in await _pending(svc, c["id"])}
    assert set(reasons) == {"subject", "body"} and all("gateway" in r for r in reasons.values())
    # Until approved, the last gate refuses it too.
    async with svc.runtime.sessionmaker() as s:
        assert await approvals.unapproved_flagged(s, TENANT, ["EMAIL"], flagged, None) == ["EMAIL.subject",
                                                                                            "EMAIL.body"]
    for a in await _pending(svc, c["id"]):
        r = await svc.http.post(f"/api/v1/approvals/{a['id']}/approve", headers=ADMIN)
        assert r.status_code == 200
    await _state(api, c["id"], "SCHEDULED")
    async with svc.runtime.sessionmaker() as s:
        assert await approvals.unapproved_flagged(s, TENANT, ["EMAIL"], flagged, None) == []


async def test_first_use_and_auto_approval_after_n_uses(svc: RunningService) -> None:
    api = Api(svc)
    await _settings(svc, requirements={"EMAIL_SUBJECT": "ALL"}, autoApproveAfter=2)
    for _ in range(2):
        c = await api.create()
        await api.action(c["id"], "schedule")
        [req] = await _pending(svc, c["id"])
        assert (await svc.http.post(f"/api/v1/approvals/{req['id']}/approve", headers=ADMIN)).status_code == 200
        await _state(api, c["id"], "SCHEDULED")
    third = await api.create()
    assert (await api.action(third["id"], "schedule"))["state"] == "SCHEDULED"  # approved twice: automatic
    other = await api.create(content={"EMAIL": {"subject": "Something new", "body": "b"}})
    assert (await api.action(other["id"], "schedule"))["state"] == "PENDING_APPROVAL"
    # FIRST_USE: a text approved once needs no second look
    await _settings(svc, requirements={"EMAIL_SUBJECT": "FIRST_USE"}, autoApproveAfter=50)
    again = await api.create()
    assert (await api.action(again["id"], "schedule"))["state"] == "SCHEDULED"
    fresh = await api.create(content={"EMAIL": {"subject": "Brand new subject", "body": "b"}})
    assert (await api.action(fresh["id"], "schedule"))["state"] == "PENDING_APPROVAL"


async def test_expired_requests_reject_the_campaign(svc: RunningService) -> None:
    api = Api(svc)
    await _settings(svc, requirements={"EMAIL_BODY": "ALL"}, expiryHours=2)
    c = await api.create()
    await api.action(c["id"], "schedule")
    [req] = await _pending(svc, c["id"])
    now = svc.runtime.state.clock.now()
    async with svc.runtime.sessionmaker() as s, s.begin():
        assert await approvals.expire(s, svc.runtime.jobs, now + timedelta(hours=1)) == 0
    async with svc.runtime.sessionmaker() as s, s.begin():
        assert await approvals.expire(s, svc.runtime.jobs, now + timedelta(hours=3)) == 1
    r = await svc.http.get(f"/api/v1/approvals/{req['id']}", headers=ADMIN)
    assert r.json()["status"] == "EXPIRED" and r.json()["reviewer"] == "expiry"
    await _state(api, c["id"], "DRAFT")


async def test_approvals_are_tenant_scoped(svc: RunningService) -> None:
    api = Api(svc)
    await _settings(svc, requirements={"EMAIL_BODY": "ALL"})
    c = await api.create()
    await api.action(c["id"], "schedule")
    [req] = await _pending(svc, c["id"])
    other = auth_headers("fairwaygolf", ("admin",))
    assert (await svc.http.get("/api/v1/approvals", headers=other)).json()["items"] == []
    assert (await svc.http.get(f"/api/v1/approvals/{req['id']}", headers=other)).status_code == 404
    for action, body in (("approve", None), ("edit", {"text": "x"}), ("reject", {"feedback": "x"})):
        r = await svc.http.post(f"/api/v1/approvals/{req['id']}/{action}", json=body, headers=other)
        assert r.status_code == 404, action
    assert (await svc.http.get("/api/v1/approvals/settings", headers=other)).json()["requirements"]["EMAIL_BODY"] \
        == "NONE"
