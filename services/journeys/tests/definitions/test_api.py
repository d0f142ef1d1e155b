"""The journeys API: drafts, validation errors, versions on activation, lifecycle and tenant isolation."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from samples import welcome
from sqlalchemy import text

from fairway_journeys.app import create_app
from fairway_testkit.helpers import auth_headers, run_service

STONEHAVEN = auth_headers("stonehaven", roles=("marketer",))
FAIRWAY = auth_headers("fairwaygolf", roles=("marketer",))


async def test_lifecycle_versions_and_events(journeys_settings: Callable[..., Any]) -> None:
    async with run_service(create_app(journeys_settings())) as svc:
        r = await svc.http.post("/api/v1/journeys", headers=STONEHAVEN,
                                json={"name": "Welcome series", "definition": welcome()})
        assert r.status_code == 201, r.text
        j = r.json()
        assert (j["status"], j["activeVersion"], j["latestVersion"]) == ("DRAFT", None, 0)

        r = await svc.http.post(f"/api/v1/journeys/{j['id']}/activate", headers=STONEHAVEN)
        assert (r.json()["status"], r.json()["activeVersion"]) == ("ACTIVE", 1)
        assert r.json()["hasUnpublishedChanges"] is False

        edited = welcome()
        edited["steps"][1]["duration"] = "3 days"
        r = await svc.http.patch(f"/api/v1/journeys/{j['id']}", headers=STONEHAVEN, json={"definition": edited})
        assert (r.json()["activeVersion"], r.json()["hasUnpublishedChanges"]) == (1, True)

        r = await svc.http.post(f"/api/v1/journeys/{j['id']}/activate", headers=STONEHAVEN)
        assert (r.json()["activeVersion"], r.json()["latestVersion"]) == (2, 2)
        r = await svc.http.post(f"/api/v1/journeys/{j['id']}/activate", headers=STONEHAVEN)
        assert r.json()["activeVersion"] == 2  # unchanged definition: no third version

        versions = (await svc.http.get(f"/api/v1/journeys/{j['id']}/versions", headers=STONEHAVEN)).json()
        assert [v["definition"]["steps"][1]["duration"] for v in versions] == ["2 days", "3 days"]

        assert (await svc.http.post(f"/api/v1/journeys/{j['id']}/pause", headers=STONEHAVEN)).json()["status"] == "PAUSED"
        r = await svc.http.delete(f"/api/v1/journeys/{j['id']}", headers=STONEHAVEN)
        assert r.status_code == 409 and r.json()["error"] == "Conflict"
        assert (await svc.http.post(f"/api/v1/journeys/{j['id']}/archive", headers=STONEHAVEN)).json()["status"] == \
            "ARCHIVED"
        r = await svc.http.patch(f"/api/v1/journeys/{j['id']}", headers=STONEHAVEN, json={"name": "Again"})
        assert r.status_code == 409

        async with svc.runtime.sessionmaker() as s:
            types = (await s.execute(text(
                "SELECT event_type FROM event_outbox WHERE key = :k ORDER BY id"), {"k": j["id"]})).scalars().all()
        assert types == ["journey.version_created", "journey.activated", "journey.version_created",
                         "journey.activated", "journey.paused"]


async def test_an_invalid_definition_is_a_422_naming_the_step(journeys_settings: Callable[..., Any]) -> None:
    d = welcome()
    d["steps"][3]["next"] = "booked"
    d["steps"][2]["criteria"]["rules"][0]["field"] = "roundsThisYear"
    async with run_service(create_app(journeys_settings())) as svc:
        r = await svc.http.post("/api/v1/journeys", headers=STONEHAVEN, json={"name": "Broken", "definition": d})
        assert r.status_code == 422
        body = r.json()
        assert body["error"] == "InvalidJourney"
        assert {"step": "booked", "field": "steps[2].criteria.rules[0].field",
                "message": "unknown field 'roundsThisYear'"} in body["detail"]
        assert any(p["step"] == "booked" and "cycle without a WAIT" in p["message"] for p in body["detail"])
        r = await svc.http.post("/api/v1/journeys", headers=STONEHAVEN, json={"name": "Nothing", "definition": {}})
        assert r.status_code == 422
        assert {p["field"] for p in r.json()["detail"]} == {"trigger", "steps"}


async def test_tenants_never_see_each_other(journeys_settings: Callable[..., Any]) -> None:
    async with run_service(create_app(journeys_settings())) as svc:
        r = await svc.http.post("/api/v1/journeys", headers=STONEHAVEN, json={"name": "Welcome", "definition": welcome()})
        jid = r.json()["id"]
        assert (await svc.http.get(f"/api/v1/journeys/{jid}", headers=FAIRWAY)).status_code == 404
        assert (await svc.http.post(f"/api/v1/journeys/{jid}/activate", headers=FAIRWAY)).status_code == 404
        assert (await svc.http.get("/api/v1/journeys", headers=FAIRWAY)).json()["items"] == []
        assert [i["id"] for i in (await svc.http.get("/api/v1/journeys", headers=STONEHAVEN)).json()["items"]] == [jid]
        r = await svc.http.get("/api/v1/journeys", headers=auth_headers("stonehaven", roles=("analyst",)))
        assert r.status_code == 200
        r = await svc.http.post("/api/v1/journeys", headers=auth_headers("stonehaven", roles=("analyst",)),
                                json={"name": "Welcome", "definition": welcome()})
        assert r.status_code == 403
