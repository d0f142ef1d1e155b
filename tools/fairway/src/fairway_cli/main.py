"""`fairway`: the command line of the platform (tokens, topics, publishing, dead letters, the local platform).

Built on click alone, and every command imports what it needs when it runs: `fairway token` reaches its work in
a fraction of a second (typer imported rich or pydantic on every start, the libraries' packages everything).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from fairway_cli import config


@click.group(help="Fairway platform CLI.", no_args_is_help=True, context_settings={"help_option_names": ["--help"]})
def app() -> None:
    pass


@app.group("topics", no_args_is_help=True)
def topics_app() -> None:
    """Kafka topics of the catalogue."""


@app.group("dlq", no_args_is_help=True)
def dlq_app() -> None:
    """Dead-letter topics: list and replay poison events."""


@app.group("schemas", no_args_is_help=True)
def schemas_app() -> None:
    """Committed JSON Schemas of event versions."""


@app.group("platform", no_args_is_help=True)
def platform_app() -> None:
    """The local platform: `make up` / `make down`."""


@app.group("replay", no_args_is_help=True)
def replay_app() -> None:
    """Replay historic data as upstream events."""


@app.group("backfill", no_args_is_help=True)
def backfill_app() -> None:
    """Import a club's legacy CRM export (format: docs/backfill.md) and reconcile it."""


@app.group("k8s", no_args_is_help=True)
def k8s_app() -> None:
    """Kubernetes resources generated from the catalogue."""


def bootstrap_option(f):  # noqa: ANN001, ANN201
    return click.option("--bootstrap", envvar="FAIRWAY_KAFKA_BOOTSTRAP", default=config.bootstrap,
                        show_default="127.0.0.1:9092", help="Kafka bootstrap servers")(f)


def prefix_option(f):  # noqa: ANN001, ANN201
    return click.option("--prefix", envvar="FAIRWAY_TOPIC_PREFIX", default="", help="Topic name prefix")(f)


def _run(coro):  # noqa: ANN001, ANN202
    import asyncio

    return asyncio.run(coro)


@app.command()
@click.option("--tenant", required=True, help="Tenant the token is for (the only one it can touch)")
@click.option("--role", multiple=True, default=["admin"], show_default=True,
              help="Role(s): admin, marketer, staff, analyst, service")
@click.option("--subject", default="dev-user", show_default=True, help="User id (sub)")
@click.option("--ttl-hours", type=int, default=12, show_default=True, help="Hours until the token expires")
def token(tenant: str, role: tuple[str, ...], subject: str, ttl_hours: int) -> None:
    """Print a JWT for the local platform (HS256 with the platform's secret)."""
    import re

    from fairway_chassis.tokens import ROLES, issue_token
    from fairway_schemas.tenant import TENANT_ID_PATTERN

    if not re.fullmatch(TENANT_ID_PATTERN, tenant):
        raise click.BadParameter("lower-case letters, digits, '-' and '_' only", param_hint="--tenant")
    unknown = [r for r in role if r not in ROLES]
    if unknown:
        raise click.BadParameter(f"unknown role(s) {unknown}; known: {', '.join(ROLES)}", param_hint="--role")
    try:
        secret = config.jwt_secret()
    except config.NoPlatform as e:
        click.echo(f"fairway token: {e}", err=True)
        raise SystemExit(1) from None
    click.echo(issue_token(secret, tenant=tenant, roles=list(role), subject=subject, ttl_seconds=ttl_hours * 3600))


@topics_app.command("create")
@bootstrap_option
@prefix_option
def topics_create(bootstrap: str, prefix: str) -> None:
    """Create every topic of the catalogue (and its DLQ) that does not exist yet."""
    from fairway_events.catalogue import TopicNames
    from fairway_events.kafka import create_topics

    created = _run(create_topics(bootstrap, TopicNames(prefix)))
    click.echo(f"created {len(created)} topic(s)" + (": " + ", ".join(created) if created else ""))


@topics_app.command("list")
def topics_list() -> None:
    """Print the topic catalogue."""
    from fairway_events.catalogue import TOPICS

    for t in TOPICS:
        click.echo(f"{t.name:32} partitions={t.partitions:<2} key={t.key:15} retention={t.retention_days}d "
                   f"dlq={t.dlq}  {t.description}")


def _read_messages(file: str) -> list[bytes]:
    text = sys.stdin.read() if file == "-" else Path(file).read_text()
    text = text.strip()
    if not text:
        return []
    try:
        doc = json.loads(text)
        items = doc if isinstance(doc, list) else [doc]
        return [json.dumps(i).encode() for i in items]
    except json.JSONDecodeError:
        return [line.encode() for line in text.splitlines() if line.strip()]  # JSON lines, or raw (even broken) lines


@app.command()
@click.argument("topic")
@click.argument("file")
@click.option("--key", default=None, help="Message key (default: none)")
@bootstrap_option
@prefix_option
def publish(topic: str, file: str, key: str | None, bootstrap: str, prefix: str) -> None:
    """Publish messages to a topic exactly as they are in FILE (use it to play SCL, TeeTime or Messaging).

    TOPIC is a catalogue topic, e.g. teetime.events; FILE is a JSON object, a JSON array or JSON lines ('-' for
    stdin)."""
    from fairway_events.catalogue import TopicNames
    from fairway_events.kafka import make_producer

    physical = TopicNames(prefix)(topic)
    messages = _read_messages(file)

    async def go() -> None:
        p = make_producer(bootstrap)
        await p.start()
        try:
            for m in messages:
                await p.send_and_wait(physical, m, key=key.encode() if key else None)
        finally:
            await p.stop()

    _run(go())
    click.echo(f"published {len(messages)} message(s) to {physical}")


def _dlq_topics(prefix: str, topic: str | None) -> list[str]:
    from fairway_events.catalogue import TOPICS, TopicNames

    names = TopicNames(prefix)
    if topic:
        return [topic if topic.endswith(".dlq") else names.dlq(topic)]
    return [names.dlq(t.name) for t in TOPICS]


@dlq_app.command("list")
@click.option("--topic", default=None, help="Only this topic's DLQ")
@click.option("--json", "as_json", is_flag=True, help="JSON lines output")
@bootstrap_option
@prefix_option
def dlq_list(topic: str | None, as_json: bool, bootstrap: str, prefix: str) -> None:
    """List dead letters: where they came from, who rejected them and why."""
    from fairway_events.dlq import read_dead_letters

    letters = _run(read_dead_letters(bootstrap, _dlq_topics(prefix, topic)))
    for d in letters:
        row = {"dlq": d.dlq_topic, "offset": d.offset, "consumer": d.consumer, "kind": d.kind, "reason": d.reason,
               "original": f"{d.original_topic}@{d.original_offset}", "failed_at": d.failed_at,
               "value": d.value.decode(errors="replace")[:300], "original_size": d.original_size}
        kept = f" (first {len(d.value)} of {d.original_size} bytes kept)" if d.truncated else ""
        click.echo(json.dumps(row) if as_json else
                   f"{d.dlq_topic}@{d.offset}  [{d.kind}] {d.consumer}: {d.reason}{kept}\n    {row['value'][:160]}")
    if not as_json:
        click.echo(f"{len(letters)} dead letter(s)")


@dlq_app.command("replay")
@click.option("--topic", required=True, help="The topic whose DLQ to replay, e.g. teetime.events")
@click.option("--offset", type=int, multiple=True, help="Replay only these DLQ offsets (repeatable)")
@click.option("--all", "all_", is_flag=True, help="Replay every dead letter of the topic")
@bootstrap_option
@prefix_option
def dlq_replay(topic: str, offset: tuple[int, ...], all_: bool, bootstrap: str, prefix: str) -> None:
    """Republish dead letters to the topic they came from (consumers' inboxes still de-duplicate)."""
    from fairway_events.dlq import read_dead_letters, replay
    from fairway_events.kafka import make_producer

    if not offset and not all_:
        raise click.BadParameter("give --offset N (repeatable) or --all", param_hint="--offset")

    async def go() -> int:
        letters = await read_dead_letters(bootstrap, _dlq_topics(prefix, topic))
        chosen = letters if all_ else [d for d in letters if d.offset in set(offset)]
        p = make_producer(bootstrap)
        await p.start()
        try:
            return await replay(p, chosen)
        finally:
            await p.stop()

    click.echo(f"replayed {_run(go())} dead letter(s)")


@schemas_app.command("write")
def schemas_write() -> None:
    """Write the JSON Schema of every new event version (refuses to change a published one)."""
    from fairway_events.schema_files import write_schemas

    written = write_schemas()
    click.echo("\n".join(written) or "no new event versions")


@schemas_app.command("check")
def schemas_check() -> None:
    """Fail if a registered version has no committed schema or its schema changed."""
    from fairway_events.schema_files import diff

    missing, changed = diff()
    if missing or changed:
        click.echo(f"missing: {missing}\nchanged: {changed}", err=True)
        raise SystemExit(1)
    click.echo("all event schemas match")


@app.command("seed-demo")
@click.option("--tenant", default="demo", show_default=True, help="Tenant of the demo club")
def seed_demo_cmd(tenant: str) -> None:
    """Connect the demo club's fake social accounts and create its journeys (services at FAIRWAY_<SERVICE>_URL)."""
    from fairway_cli.platform import seed_demo

    seed_demo(config.jwt_secret(), tenant)


@app.command("reannounce")
@click.option("--tenant", required=True, help="The tenant whose snapshots to republish")
@click.option("--service", "services", multiple=True,
              help="Only these owners (identity, timeline, segmentation, ml-scoring); default all")
@click.option("--timeout", type=float, default=600, show_default=True, help="Seconds to wait for every snapshot")
def reannounce_cmd(tenant: str, services: tuple[str, ...], timeout: float) -> None:
    """Republish every current snapshot of a tenant on the state topics, from the owners' own databases."""
    from fairway_chassis.tokens import issue_token
    from fairway_cli.platform import service_url
    from fairway_cli.reannounce import OWNERS, reannounce

    unknown = [s for s in services if s not in OWNERS]
    if unknown:
        raise click.BadParameter(f"{unknown} own no state topic; owners: {', '.join(OWNERS)}", param_hint="--service")
    urls = {s: service_url(s) for s in (services or OWNERS)}
    token = issue_token(config.jwt_secret(), tenant=tenant, roles=["admin"], subject="fairway-reannounce")
    done = reannounce(tenant, urls, token, timeout=timeout)
    click.echo(f"reannounced {done} snapshot(s) of {tenant}")


@platform_app.command("up")
@click.option("--members", type=int, default=300, show_default=True, help="Members of the demo club")
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Start the SCL/TeeTime/Messaging simulators with the demo club")
def platform_up(members: int, demo: bool) -> None:
    """Start PostgreSQL, the broker, MLflow, the eight services and the simulators; print the URLs."""
    from fairway_cli.platform import up

    up(members=members, demo=demo)


@platform_app.command("down")
def platform_down() -> None:
    """Stop every process `platform up` started."""
    from fairway_cli.platform import down

    down()


@platform_app.command("status")
def platform_status() -> None:
    """Show which processes run and whether each service is ready."""
    from fairway_cli.platform import status

    status()


@app.command()
@click.option("--tenant", default="demo", show_default=True, help="Tenant of the demo club")
@click.option("--members", type=int, default=300, show_default=True, help="Members of the club")
@click.option("--live/--no-live", default=True, show_default=True,
              help="Keep producing live activity after the history")
@bootstrap_option
@prefix_option
def simulate(tenant: str, members: int, live: bool, bootstrap: str, prefix: str) -> None:
    """Run the SCL, TeeTime and Messaging simulators for a demo club (foreground)."""
    from fairway_cli.simulators import run_simulators

    _run(run_simulators(bootstrap=bootstrap, prefix=prefix, tenant=tenant, members=members, live=live,
                        state_dir=config.run_dir() / "sim"))


@replay_app.command("transactions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", required=True, help="Tenant the history belongs to")
@click.option("--source", default="teetime", show_default=True, help="Upstream system the purchases come from")
@click.option("--wait/--no-wait", default=False, show_default=True,
              help="Return only when every service reading these events (and what they cause) has committed "
                   "to the end")
@click.option("--skip-bad", is_flag=True, default=False, help="Skip and count bad rows instead of refusing the file")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds --wait waits at most")
@bootstrap_option
@prefix_option
def replay_transactions(file: Path, tenant: str, source: str, wait: bool, skip_bad: bool, timeout: float,
                        bootstrap: str, prefix: str) -> None:
    """Replay a purchase history (CSV: customer_id,date,quantity,amount) as upstream purchase events with their
    historic dates. Safe to re-run: the same rows are the same events."""
    import time
    from dataclasses import asdict

    from fairway_events.history import ReplayError
    from fairway_events.history import replay_transactions as run

    started = time.monotonic()
    try:
        result = _run(run(file, tenant, bootstrap, prefix, source=source, wait=wait, skip_bad=skip_bad,
                          wait_timeout=timeout))
    except ReplayError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except TimeoutError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(3) from None
    out = asdict(result) | {"skipped": result.skipped[:20], "skippedCount": len(result.skipped),
                            "seconds": round(time.monotonic() - started, 1)}
    click.echo(json.dumps(out, default=str, indent=2))


@backfill_app.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--tenant", required=True, help="Tenant the club's data belongs to")
@click.option("--region", required=True, type=click.Choice(["ZA", "GB"]),
              help="Where the export comes from: phones are read there, times without a zone are its local time")
@click.option("--dry-run", is_flag=True, help="Validate and count; publish nothing")
@click.option("--encoding", default=None, help="Read the files in this encoding (default: UTF-8 only)")
@click.option("--shared-threshold", type=click.IntRange(min=2), default=3, show_default=True,
              help="An email or phone on this many people or more identifies none of them")
@click.option("--wait/--no-wait", default=False, show_default=True,
              help="Return only when every consumer has processed the import")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds each wait may take")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the import's summary (JSON) here")
@bootstrap_option
@prefix_option
def backfill_import(folder: Path, tenant: str, region: str, dry_run: bool, encoding: str | None,
                    shared_threshold: int, wait: bool, timeout: float, out: Path | None, bootstrap: str,
                    prefix: str) -> None:
    """Validate a legacy export folder, then publish it as SCL/TeeTime/Messaging events with their historic times.

    Nothing is published if a file cannot be read as a whole (unknown column, not UTF-8): exit code 2. Rows with
    problems are rejected and named with their line; re-running the same export has no second effect."""
    import re

    from tqdm import tqdm

    from fairway_cli.backfill.importer import Target, run_import
    from fairway_cli.backfill.report import render
    from fairway_schemas.tenant import TENANT_ID_PATTERN

    if not re.fullmatch(TENANT_ID_PATTERN, tenant):
        raise click.BadParameter("lower-case letters, digits, '-' and '_' only", param_hint="--tenant")
    bar = tqdm(unit="event", disable=dry_run or None, file=sys.stderr)

    def total(n: int) -> None:
        bar.total = n
        bar.refresh()

    try:
        doc = _run(run_import(folder, tenant, region, None if dry_run else Target(bootstrap, prefix),
                              config.run_dir(), encoding=encoding, shared_threshold=shared_threshold, wait=wait,
                              timeout=timeout, progress=bar.update, on_total=total))
    except (LookupError, TimeoutError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(3) from None
    finally:
        bar.close()
    if out:
        out.write_text(json.dumps({k: v for k, v in doc.items() if k != "people"}, indent=1, default=str))
    click.echo(render({"tenant": tenant, "imports": [doc]}))
    if doc["fileErrors"]:
        raise SystemExit(2)


@backfill_app.command("report")
@click.option("--tenant", required=True, help="The tenant whose imports to reconcile")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the JSON report (default .run/backfill/<tenant>/report.json)")
@click.option("--wait", default=60.0, show_default=True,
              help="Seconds to wait for identity to apply every imported person")
def backfill_report(tenant: str, out: Path | None, wait: float) -> None:
    """Reconcile the tenant's imports: per entity in = out + rejected, and from identity's API the profiles
    created, people who joined an existing profile and merge candidates raised."""
    import httpx

    from fairway_chassis.tokens import issue_token
    from fairway_cli.backfill.importer import state_dir
    from fairway_cli.backfill.report import build_report, render
    from fairway_cli.platform import service_url

    token = issue_token(config.jwt_secret(), tenant=tenant, roles=["analyst"], subject="fairway-backfill")

    async def go() -> dict:
        async with httpx.AsyncClient(base_url=service_url("identity"), timeout=30,
                                     headers={"Authorization": f"Bearer {token}"}) as http:
            return await build_report(tenant, config.run_dir(), http, wait=wait)

    try:
        report = _run(go())
    except httpx.HTTPError as exc:
        click.echo(f"error: identity did not answer ({exc}); is the platform up?", err=True)
        raise SystemExit(3) from None
    path = out or state_dir(config.run_dir(), tenant) / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str))
    click.echo(render(report) + f"\n\nJSON report: {path}")


@app.command()
@click.option("--service", multiple=True, required=True, help="Service(s) to migrate, or 'all'")
def migrate(service: tuple[str, ...]) -> None:
    """Run services' database migrations as their own step (before a rollout; services can then start with
    FAIRWAY_MIGRATE_ON_START=false)."""
    from fairway_cli.deploy import SERVICE_NAMES
    from fairway_cli.deploy import migrate as run_migrations

    names = list(SERVICE_NAMES) if list(service) == ["all"] else list(service)
    unknown = [s for s in names if s not in SERVICE_NAMES]
    if unknown:
        raise click.BadParameter(f"unknown service(s) {unknown}; known: {', '.join(SERVICE_NAMES)}",
                                 param_hint="--service")
    raise SystemExit(run_migrations(names))


@k8s_app.command("topics")
@click.option("--cluster", default="fairway", show_default=True, help="Strimzi Kafka cluster name")
@click.option("--replicas", type=click.IntRange(min=1), default=3, show_default=True,
              help="Replicas per partition")
@prefix_option
def k8s_topics(cluster: str, replicas: int, prefix: str) -> None:
    """Print a Strimzi KafkaTopic for every catalogue topic and its dead-letter topic."""
    from fairway_cli.deploy import kafka_topics, render_yaml

    click.echo(render_yaml(kafka_topics(cluster, replicas, prefix),
                           "Generated by `fairway k8s topics` from the topic catalogue: do not edit."), nl=False)


@k8s_app.command("services")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("deploy/k8s/base/services"),
              show_default=True, help="Folder for one file per service")
def k8s_services(out: Path) -> None:
    """Write each service's Kubernetes objects (and the KEDA lag-scaling component) from one template."""
    from fairway_cli.deploy import SERVICE_NAMES, lag_scaled_objects, render_yaml, service_objects

    header = "Generated by `fairway k8s services`: edit tools/fairway/src/fairway_cli/deploy.py, then regenerate."
    out.mkdir(parents=True, exist_ok=True)
    for name in SERVICE_NAMES:
        (out / f"{name}.yaml").write_text(render_yaml(service_objects(name), header))
    keda = out.parent.parent / "components" / "keda-lag-scaling"
    keda.mkdir(parents=True, exist_ok=True)
    (keda / "scaledobjects.yaml").write_text(render_yaml(lag_scaled_objects(), header))
    click.echo(f"wrote {len(SERVICE_NAMES)} service files to {out}")


if __name__ == "__main__":
    app()
