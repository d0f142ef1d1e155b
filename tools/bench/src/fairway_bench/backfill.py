"""Backfill benchmark (`python -m fairway_bench.backfill`): a legacy CRM export through the whole platform.

Writes an export of FAIRWAY_BENCH_BACKFILL_PEOPLE people (default 100,000) with FAIRWAY_BENCH_BACKFILL_ACTIVITIES
activities (default 1,000,000: bookings, rounds, purchases, payments, emails over five years), a membership and
a consent change per person, then runs `fairway backfill import --wait` against identity, timeline, ml-scoring,
segmentation, campaigns and journeys started as processes (as `make up` starts them). Timed from the start of the
import until every consumer group reading the upstream topics (or what they cause) has committed to the end.
Prints the phases (validation, people published and applied by identity, the rest published, every consumer
caught up), the end-to-end time against the target (<= 10 minutes for the default size), the reconciliation
counts from identity's API, and the import's peak memory.
"""
from __future__ import annotations

import asyncio
import os
import random
import resource
import secrets
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from fairway_bench.benchkit import bench_env, report
from fairway_bench.history import Service, caught_up, start_services, stop_services
from fairway_cli.backfill.events import Message, people_messages, record_messages
from fairway_cli.backfill.importer import Target, publish, summary
from fairway_cli.backfill.records import read_export
from fairway_cli.backfill.report import build_report
from fairway_events.catalogue import TopicNames
from fairway_events.kafka import create_topics

TENANT = "royal-jhb"
KINDS = ("booking", "round", "round", "purchase", "payment", "email_opened", "email_sent")
FIRST = ("Thabo", "Annelie", "Sipho", "Megan", "Johan", "Lerato", "Priya", "Graham", "Zanele", "Pieter")
LAST = ("Mokoena", "van der Merwe", "Ndlovu", "Pillay", "Botha", "Khumalo", "Naidoo", "Dlamini", "Smit", "Nel")
DOMAINS = ("gmail.com", "mweb.co.za", "outlook.com", "icloud.com", "telkomsa.net", "webmail.co.za")


def write_export(folder: Path, people: int, activities: int, seed: int = 13) -> None:
    rng = random.Random(seed)
    start = datetime(2019, 1, 1, 6, 0)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "people.csv").open("w") as fh:
        fh.write("legacy_id,first_name,last_name,email,phone,scl_member_id,created_at\n")
        for i in range(people):
            fh.write(f"Z{i:07},{rng.choice(FIRST)},{rng.choice(LAST)},member{i:07}@{rng.choice(DOMAINS)},"
                     f"08{rng.choice('2345')} {i // 10000 % 1000:03} {i % 10000:04},SCL-{i:07},"
                     f"{(start + timedelta(days=rng.randrange(365))).date().isoformat()}\n")
    with (folder / "memberships.csv").open("w") as fh:
        fh.write("legacy_id,tier,started_on,expires_on,amount\n")
        for i in range(people):
            fh.write(f"Z{i:07},{rng.choice(('Full Playing', 'Weekday', 'Senior'))},2024-03-01,2025-02-28,"
                     f"{rng.randrange(8000, 16000)}.00\n")
    with (folder / "consent.csv").open("w") as fh:
        fh.write("legacy_id,channel,opted_in,changed_at\n")
        for i in range(people):
            fh.write(f"Z{i:07},email,{rng.choice(('yes', 'yes', 'no'))},2020-0{rng.randrange(1, 10)}-15 10:00\n")
    with (folder / "activities.csv").open("w") as fh:
        fh.write("legacy_id,activity_id,type,occurred_at,amount,course,holes,score,subject\n")
        for n in range(activities):
            i = min(people - 1, int(rng.paretovariate(1.2)) - 1) if rng.random() < 0.3 else rng.randrange(people)
            kind = rng.choice(KINDS)
            at = (start + timedelta(days=rng.randrange(5 * 365), minutes=rng.randrange(12 * 60))).isoformat(" ")
            amount = f"{rng.randrange(50, 3000)}.00" if kind in ("purchase", "payment", "booking") else ""
            course, holes, score = ("Royal East", "18", str(rng.randrange(68, 110))) if kind == "round" else ("", "", "")
            subject = "Winter league entries are open" if kind.startswith("email") else ""
            fh.write(f"Z{i:07},A{n:08},{kind},{at[:16]},{amount},{course},{holes},{score},{subject}\n")


async def main() -> None:
    people = int(os.environ.get("FAIRWAY_BENCH_BACKFILL_PEOPLE", "100000"))
    activities = int(os.environ.get("FAIRWAY_BENCH_BACKFILL_ACTIVITIES", str(people * 10)))
    async with bench_env() as env:
        prefix = f"bb{secrets.token_hex(3)}."
        names = TopicNames(prefix)
        await create_topics(env.bootstrap, names)
        run_dir = Path(tempfile.mkdtemp(prefix="fairway-bench-backfill-"))
        folder = run_dir / "export"
        write_export(folder, people, activities)
        services = await start_services(env.pg_server_url, env.bootstrap, prefix, run_dir)
        env.created += [s.database for s in services]  # dropped by bench_env
        try:
            t0 = time.monotonic()
            export = read_export(folder, "ZA")
            doc = summary(export, TENANT)
            first, rest = people_messages(export, TENANT), record_messages(export, TENANT)
            validated = time.monotonic() - t0
            print(f"backfill: {people} people, {activities} activities -> {len(first) + len(rest)} events; "
                  f"validated in {validated:.1f}s; rejects {len(doc['rejects'])}")
            await publish(Target(env.bootstrap, prefix), TENANT, first, rest, wait=False, timeout=36000)
            published = time.monotonic() - t0
            done = await caught_up(env.bootstrap, names, t0, timeout=36000)
            elapsed = max(done.values())
            print(f"  published (people applied by identity in between) after {published:.1f}s; every consumer "
                  f"caught up after {elapsed:.1f}s")
            for group, at in sorted(done.items(), key=lambda x: x[1]):
                print(f"    {group:28} caught up at {at:8.1f}s")
            report("backfill: import to every consumer caught up", elapsed, "s",
                   f"<= 600 s for 100,000 people + 1,000,000 activities (this run: {people:,} + {activities:,})")
            report("backfill: events per second end to end", (len(first) + len(rest)) / elapsed, "events/s")
            report("backfill: peak memory of the importing process",
                   resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB")
            await _reconcile(run_dir, doc, first, services)
        finally:
            stop_services(services)


async def _reconcile(run_dir: Path, doc: dict, first: list[Message], services: list[Service]) -> None:
    """The report's platform counts, from identity's API (every person should have made one profile)."""
    import json

    from fairway_chassis.tokens import issue_token

    identity = next(s for s in services if s.name == "identity")
    manifest = run_dir / "state" / "backfill" / TENANT / "ZA-export.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(doc | {"status": "published", "people": {m.legacy_id: m.event_id for m in first}}))
    token = issue_token(identity.secret, tenant=TENANT, roles=["analyst"], subject="bench")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{identity.port}", timeout=60,
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        rep = await build_report(TENANT, run_dir / "state", http, wait=120)
    t = rep["totals"]
    print(f"  reconciliation: {t['profilesCreated']} profiles created, {t['joinedExistingProfile']} joined, "
          f"{t['mergeCandidatesRaised']} merge candidates, {t['notYetApplied']} not applied; balanced: "
          f"{all(e['balanced'] for e in t['entities'].values())}")


if __name__ == "__main__":
    asyncio.run(main())
