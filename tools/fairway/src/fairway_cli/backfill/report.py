"""`fairway backfill report`: the reconciliation of a tenant's imports.

What was read, accepted and rejected comes from each import's manifest (the files themselves). What the
platform made of the people comes from the platform, through identity's HTTP API, never its database: the sync
log says, for each person's event, which profile it was applied to and by which keys (none: the event created
the profile; some: it joined a profile that existed, from live traffic, another export or a duplicate in this
one), and the merge candidates name the event that raised them. A person's later records carry the same keys as
the person, so the candidates that matter are raised by the people's own events.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from fairway_cli.backfill.importer import state_dir

PERSON_TYPES = ("scl.member.created", "teetime.player.created")
CANDIDATE_STATUSES = ("OPEN", "ACCEPTED", "DISMISSED", "SUPERSEDED")


def manifests(root: Path, tenant: str) -> list[dict[str, Any]]:
    folder = state_dir(root, tenant)
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json")) if p.name != "report.json"]


async def _pages(http: httpx.AsyncClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = await http.get(path, params=params | ({"cursor": cursor} if cursor else {}))
        r.raise_for_status()
        page = r.json()
        items += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


async def platform_view(http: httpx.AsyncClient) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Identity's sync log of people's events by event id, and every merge candidate."""
    log: dict[str, dict[str, Any]] = {}
    for t in PERSON_TYPES:
        for e in await _pages(http, "/api/v1/sync-log", {"type": t, "limit": 500}):
            log[e["eventId"]] = e
    candidates = []
    for status in CANDIDATE_STATUSES:
        candidates += await _pages(http, "/api/v1/customers/merge-candidates", {"status": status, "limit": 200})
    return log, candidates


def reconcile(doc: dict[str, Any], log: dict[str, dict[str, Any]], candidates: list[dict[str, Any]]) -> dict[str, Any]:
    people: dict[str, str] = doc.get("people", {})
    ours = set(people.values())
    created, joined, skipped, pending = [], [], [], []
    for legacy_id, event_id in people.items():
        entry = log.get(event_id)
        if entry is None:
            pending.append(legacy_id)
        elif entry["status"] != "APPLIED":
            skipped.append(legacy_id)
        elif entry.get("matchedBy"):
            joined.append(legacy_id)
        else:
            created.append(legacy_id)
    raised = [c for c in candidates if c.get("sourceEventId") in ours]
    return {
        "profilesCreated": len(created),
        "joinedExistingProfile": len(joined),
        "skippedByIdentity": len(skipped),
        "notYetApplied": len(pending),
        "profiles": len({log[people[x]]["profileId"] for x in created + joined}),
        "mergeCandidatesRaised": len(raised),
        "mergeCandidates": [{"id": c["id"], "status": c["status"], "conflictKeys": c["conflictKeys"]}
                            for c in sorted(raised, key=lambda c: c["id"])],
        "joined": sorted(joined)[:100],
    }


async def build_report(tenant: str, root: Path, http: httpx.AsyncClient | None, *, wait: float = 0.0
                       ) -> dict[str, Any]:
    """The report of every import of the tenant; with `wait`, polls identity up to that many seconds until every
    person's event is applied."""
    docs = manifests(root, tenant)
    imports = []
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        log, candidates = await platform_view(http) if http is not None else ({}, [])
        imports = [_entry(d, log, candidates, http is not None) for d in docs]
        waiting = any(i.get("platform", {}).get("notYetApplied") for i in imports)
        if not waiting or asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(2)
    entities: dict[str, dict[str, int]] = {}
    for i in imports:
        for e, row in i["entities"].items():
            t = entities.setdefault(e, {"read": 0, "accepted": 0, "rejected": 0, "published": 0})
            for k in t:
                t[k] += row[k]
    totals: dict[str, Any] = {"entities": {e: t | {"balanced": t["read"] == t["accepted"] + t["rejected"]}
                                           for e, t in entities.items()}}
    if http is not None:
        for k in ("profilesCreated", "joinedExistingProfile", "mergeCandidatesRaised", "notYetApplied"):
            totals[k] = sum(i["platform"][k] for i in imports if "platform" in i)
    return {"tenant": tenant, "imports": imports, "totals": totals}


def _entry(doc: dict[str, Any], log: dict[str, dict[str, Any]], candidates: list[dict[str, Any]],
           asked: bool) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in ("people", "fingerprint", "tenant")}
    if asked and doc.get("people"):
        out["platform"] = reconcile(doc, log, candidates)
    return out


def render(report: dict[str, Any]) -> str:
    lines = [f"backfill report of {report['tenant']}"]
    for i in report["imports"]:
        lines.append(f"\n{i['region']} export {i['folder']}: {i['status']}")
        verb = "published" if i["status"] == "published" else "to publish"
        for e, row in i["entities"].items():
            check = "ok" if row["balanced"] else "MISMATCH"
            held = f" (held back: {row['heldBack']})" if row.get("heldBack") else ""
            lines.append(f"  {e:12} in {row['read']:>8} = out {row['accepted']:>8} + rejected {row['rejected']:>6}"
                         f"  [{check}]  {verb} {row['published']}{held}")
        if p := i.get("platform"):
            lines.append(f"  identity: {p['profilesCreated']} profiles created, {p['joinedExistingProfile']} people "
                         f"joined an existing profile, {p['mergeCandidatesRaised']} merge candidate(s) raised"
                         + (f", {p['notYetApplied']} not applied yet" if p["notYetApplied"] else "")
                         + (f", {p['skippedByIdentity']} skipped" if p["skippedByIdentity"] else ""))
        for f in i["fileErrors"]:
            lines.append(f"  FILE {f['file']} line {f['line']}: {f['reason']}")
        for s in i["sharedValues"]:
            lines.append(f"  shared {s['keyType']} {s['value']} on {s['people']} people (lines "
                         f"{', '.join(map(str, s['lines'][:10]))}{' ...' if s['people'] > 10 else ''}): not used")
        for r in i["rejects"][:50]:
            lines.append(f"  rejected {r['file']} line {r['line']}: {r['reason']}")
        if len(i["rejects"]) > 50:
            lines.append(f"  ... {len(i['rejects']) - 50} more rejects in the JSON report")
        for w in i["warnings"][:20]:
            lines.append(f"  warning {w['file']} line {w['line']}: {w['reason']}")
        if i.get("consent"):
            lines.append(f"  {i['consent']}")
    return "\n".join(lines)
