"""`fairway backfill import`: validate a whole export, then publish it, people first.

Identity must have applied the people before their other records go out: a booking on teetime.events could
otherwise reach identity before the person's own event on scl.events and create the profile itself, and the
report would count the person as joining it. So the import publishes the people, waits until identity's group
has committed to the end of the upstream topics, then publishes the rest (with --wait, until every consumer
has). The manifest (what was read, rejected, and each person's event id) is written before anything is
published and is the same on every run of the same export, so an interrupted run re-run reports the same.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairway_cli.backfill.events import HELD_BACK, Message, people_messages, record_messages
from fairway_cli.backfill.records import ENTITIES, Export, read_export

CONSENT_NOTICE = ("consent: Fairway does not own consent. The export's consent changes are published as Messaging's "
                  "contactPreference.updated events, with their historic times, and identity mirrors them exactly "
                  "as it mirrors Messaging: newest change per flag wins. Messaging must hold the same flags, or its "
                  "next change will differ.")
UPSTREAM = ["scl.events", "teetime.events", "messaging.events"]


@dataclass(frozen=True)
class Target:
    bootstrap: str
    prefix: str


def summary(export: Export, tenant: str) -> dict[str, Any]:
    """What the export holds, per entity: read = accepted + rejected. Deterministic for the same files."""
    accepted, rejected = export.accepted(), export.rejected()
    entities = {}
    for e in (x.name for x in ENTITIES):
        if e not in export.files:
            continue
        row: dict[str, Any] = {"file": export.files[e], "read": export.read[e], "accepted": accepted[e],
                               "rejected": rejected[e]}
        row["balanced"] = row["read"] == row["accepted"] + row["rejected"]
        row["published"] = 0 if e in HELD_BACK else accepted[e]
        if e in HELD_BACK:
            row["heldBack"] = HELD_BACK[e]
        entities[e] = row
    return {"tenant": tenant, "region": export.region, "folder": str(export.folder.resolve()),
            "entities": entities, "fileErrors": [p.as_dict() for p in export.file_errors],
            "rejects": [p.as_dict() for p in export.rejects], "warnings": [p.as_dict() for p in export.warnings],
            "sharedValues": [{"keyType": s.key_type, "value": s.value, "people": len(s.lines), "lines": s.lines}
                             for s in export.shared],
            "consent": CONSENT_NOTICE if "consent" in export.files else None}


def state_dir(root: Path, tenant: str) -> Path:
    return root / "backfill" / tenant


def manifest_path(root: Path, tenant: str, export: Export) -> Path:
    return state_dir(root, tenant) / f"{export.region}-{export.folder.resolve().name}.json"


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=str))
    os.replace(tmp, path)  # a run killed while writing leaves the previous manifest whole


async def run_import(folder: Path, tenant: str, region: str, target: Target | None, root: Path, *,
                     encoding: str | None = None, shared_threshold: int = 3, wait: bool = False,
                     timeout: float = 600.0, progress: Callable[[int], None] | None = None,
                     on_total: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Validate, then (unless `target` is None: a dry run) publish. Returns the import's summary."""
    export = read_export(folder, region, encoding=encoding, shared_threshold=shared_threshold)
    doc = summary(export, tenant)
    if export.file_errors:
        doc["status"] = "refused: nothing was published"
        return doc
    people, rest = people_messages(export, tenant), record_messages(export, tenant)
    doc["events"] = len(people) + len(rest)
    if target is None:
        doc["status"] = "dry run: nothing was published"
        return doc
    doc["people"] = {m.legacy_id: m.event_id for m in people}
    doc["fingerprint"] = hashlib.sha256("".join(sorted(doc["people"].values())).encode()).hexdigest()[:16]
    path = manifest_path(root, tenant, export)
    _write(path, doc | {"status": "publishing"})
    if on_total:
        on_total(doc["events"])
    await publish(target, tenant, people, rest, wait=wait, timeout=timeout, progress=progress)
    doc["status"] = "published"
    _write(path, doc)
    return doc


async def publish(target: Target, tenant: str, people: list[Message], rest: list[Message], *, wait: bool,
                  timeout: float, progress: Callable[[int], None] | None = None) -> None:
    from fairway_events.catalogue import TopicNames
    from fairway_events.history import Outgoing, send_all, wait_until_consumed
    from fairway_events.kafka import make_producer

    names = TopicNames(target.prefix)

    def outgoing(messages: list[Message]) -> list[Outgoing]:
        return [Outgoing(names(m.topic), m.key, m.value, tenant, m.event_type) for m in messages]

    producer = make_producer(target.bootstrap, client_id="fairway-backfill")
    await producer.start()
    try:
        await send_all(producer, outgoing(people), progress)
    finally:
        await producer.stop()
    # Identity only: the other services may take their time; a group that is not running is not waited for.
    await wait_until_consumed(target.bootstrap, names, UPSTREAM, timeout=timeout, groups={"identity.resolution"})
    producer = make_producer(target.bootstrap, client_id="fairway-backfill")
    await producer.start()
    try:
        await send_all(producer, outgoing(rest), progress)
    finally:
        await producer.stop()
    if wait:
        await wait_until_consumed(target.bootstrap, names, UPSTREAM, timeout=timeout)
