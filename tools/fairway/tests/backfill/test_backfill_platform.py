"""The ZA and GB samples imported through the real broker into real identity and timeline services (in-process,
each with its own database), reconciled through identity's HTTP API: activities on the timeline at their historic
times, one profile for the person in both exports, phones read in
their source's region, consent mirrored with its historic times, a merge candidate against live data, and an
interrupted import re-run reporting exactly what an uninterrupted one reports, with no second effect."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from fairway_cli.backfill.importer import Target, run_import
from fairway_cli.backfill.report import build_report
from fairway_events import TopicNames
from fairway_identity.app import create_app as identity_app
from fairway_identity.settings import Settings as IdentitySettings
from fairway_testkit import RunningService, auth_headers, run_service, send_upstream, wait_for
from fairway_timeline.app import create_app as timeline_app
from fairway_timeline.settings import Settings as TimelineSettings

SAMPLES = Path(__file__).parents[4] / "docs" / "backfill-samples"
CLUBS = ("stonehaven", "northfield")


class Interrupted(Exception):
    pass


def _stop(_: int) -> None:
    raise Interrupted  # the process dies after its first acknowledged batch: the people, not the rest


async def _sync_log(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = (await http.get("/api/v1/sync-log", params={"limit": 500} | ({"cursor": cursor} if cursor else {})
                               )).json()
        items += page["items"]
        if not (cursor := page["nextCursor"]):
            return items


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in report.items() if k != "tenant"}
    for i in out["imports"]:
        i["platform"] = {k: v for k, v in i["platform"].items() if k != "mergeCandidates"} | {
            "candidateKeys": [c["conflictKeys"] for c in i["platform"]["mergeCandidates"]]}
    return out


async def test_za_and_gb_exports_reconcile_through_identity(
        settings_for: Callable[..., Any], created_topics: TopicNames, kafka_bootstrap: str,
        producer: AIOKafkaProducer, tmp_path: Path, database_name: str, pg_server_url: str) -> None:
    za, gb, root = tmp_path / "za", tmp_path / "gb", tmp_path / "run"
    shutil.copytree(SAMPLES / "za", za)
    shutil.copytree(SAMPLES / "gb", gb)
    target = Target(kafka_bootstrap, created_topics.prefix)
    timeline_db = f"{database_name}_tl"  # each service owns its database
    try:
        async with (run_service(identity_app(settings_for(IdentitySettings))) as idn,
                    run_service(timeline_app(settings_for(TimelineSettings, database_name=timeline_db))) as tl):
            clients = {c: httpx.AsyncClient(transport=httpx.ASGITransport(app=idn.app), base_url="http://identity",
                                            headers=auth_headers(c, ["analyst"])) for c in CLUBS}
            try:
                reports = await _import_both_clubs(idn, clients, producer, created_topics, target, za, gb, root)
                await _thabos_timeline(clients["stonehaven"], tl)
            finally:
                for c in clients.values():
                    await c.aclose()
    finally:
        conn = await asyncpg.connect(pg_server_url.replace("+asyncpg", ""))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{timeline_db}" WITH (FORCE)')
        finally:
            await conn.close()
    stonehaven = reports["stonehaven"]
    za_r, gb_r = stonehaven["imports"][1], stonehaven["imports"][0]  # manifests sort GB-gb before ZA-za
    assert (za_r["region"], gb_r["region"]) == ("ZA", "GB")
    # Megan's email already belongs to a live member with another SCL number: a new profile and a candidate.
    assert {k: za_r["platform"][k] for k in ("profilesCreated", "joinedExistingProfile", "mergeCandidatesRaised",
                                             "notYetApplied")} == {
        "profilesCreated": 8, "joinedExistingProfile": 0, "mergeCandidatesRaised": 1, "notYetApplied": 0}
    # Graham is in both exports (his email written differently): the GB record joins his ZA profile.
    assert {k: gb_r["platform"][k] for k in ("profilesCreated", "joinedExistingProfile", "mergeCandidatesRaised")
            } == {"profilesCreated": 4, "joinedExistingProfile": 1, "mergeCandidatesRaised": 0}
    assert gb_r["platform"]["joined"] == ["UK-5503"]
    totals = stonehaven["totals"]
    assert (totals["profilesCreated"], totals["joinedExistingProfile"], totals["mergeCandidatesRaised"]) == (12, 1, 1)
    assert all(e["balanced"] for e in totals["entities"].values())
    assert totals["entities"]["people"] == {"read": 13, "accepted": 13, "rejected": 0, "published": 13,
                                            "balanced": True}
    assert "contactPreference.updated" in za_r["consent"]
    # The interrupted-then-rerun club reports exactly what the uninterrupted one does.
    assert _comparable(reports["stonehaven"]) == _comparable(reports["northfield"])


async def _import_both_clubs(idn: RunningService, clients: dict[str, httpx.AsyncClient], producer: AIOKafkaProducer,
                             topics: TopicNames, target: Target, za: Path, gb: Path, root: Path
                             ) -> dict[str, dict[str, Any]]:
    for club in CLUBS:  # live traffic before the migration
        await send_upstream(producer, topics, "scl.member.created", club,
                            {"email": "megan.pillay@icloud.com", "sclMemberId": "SCL-77001"}, {"firstName": "Megan"})
    for club, http in clients.items():
        await wait_for(lambda http=http: _sync_log(http), timeout=120, what=f"{club}'s live member applied")

    with pytest.raises(Interrupted):
        await run_import(za, "stonehaven", "ZA", target, root, progress=_stop)
    await run_import(za, "stonehaven", "ZA", target, root)  # the re-run finishes it
    await run_import(za, "northfield", "ZA", target, root)
    for club in CLUBS:
        await run_import(gb, club, "GB", target, root, wait=True)
    reports = {c: await build_report(c, root, clients[c], wait=120) for c in CLUBS}

    http = clients["stonehaven"]
    applied = len(await _sync_log(http))
    await run_import(za, "stonehaven", "ZA", target, root, wait=True)  # once more: no second effect anywhere
    await run_import(gb, "stonehaven", "GB", target, root, wait=True)
    assert len(await _sync_log(http)) == applied
    assert await build_report("stonehaven", root, http) == reports["stonehaven"]

    # Phones were read in the region of their source: a ZA mobile and a UK mobile, each found in E.164.
    thabo = (await http.get("/api/v1/customers/resolve", params={"phoneNumber": "+27824613378"})).json()
    assert thabo["profile"]["attributes"]["firstName"] == "Thabo"
    oliver = (await http.get("/api/v1/customers/resolve", params={"phoneNumber": "+447723418552"})).json()
    assert oliver["profile"]["attributes"]["lastName"] == "Hughes"
    graham = (await http.get("/api/v1/customers/resolve", params={"email": "graham.whitfield@btinternet.com"})).json()
    assert graham["profile"]["identities"]["phoneNumber"] == ["+27827751093", "+447824551902"]
    assert graham["profile"]["identities"]["sclMemberId"] == ["SCL-40023"]
    # Consent as Messaging's mirror has it: each flag with the time the legacy system recorded (SAST = UTC+2).
    customer = (await idn.http.get(f"/api/v1/customers/{thabo['profile']['id']}",
                                   headers=auth_headers("stonehaven", ["staff"]))).json()
    assert customer["consent"]["emailOptIn"] is True and customer["consent"]["smsOptIn"] is False
    assert customer["consentChangedAt"]["smsOptIn"].startswith("2019-08-14T14:40")
    return reports


async def _thabos_timeline(http: httpx.AsyncClient, tl: RunningService) -> None:
    """Timeline took the records in like live traffic: each activity once, at the legacy system's time."""
    thabo = (await http.get("/api/v1/customers/resolve", params={"sclMemberId": "SCL-40017"})).json()["profile"]

    async def items() -> list[dict[str, Any]]:
        r = await tl.http.get(f"/api/v1/customers/{thabo['id']}/timeline", params={"limit": 100},
                              headers=auth_headers("stonehaven", ["staff"]))
        got = r.json().get("items", []) if r.status_code == 200 else []
        return got if len(got) >= 6 else []

    got = [(a["sourceEventId"], a["type"], a["occurredAt"][:16])
           for a in await wait_for(items, timeout=120, what="Thabo's timeline")]
    rounds = [g for g in got if g[1] == "ROUND_PLAYED"]
    assert [r[2] for r in rounds] == ["2024-03-09T05:10"]  # 07:10 in Johannesburg
    assert len(got) == len({g[0] for g in got})  # no event twice, after three runs of the same export
