"""`fairway`: the command line of the platform (tokens, topics, publishing, dead letters, the local platform)."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from fairway_cli import config

app = typer.Typer(help="Fairway platform CLI.", no_args_is_help=True, add_completion=False)
topics_app = typer.Typer(help="Kafka topics of the catalogue.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead-letter topics: list and replay poison events.", no_args_is_help=True)
schemas_app = typer.Typer(help="Committed JSON Schemas of event versions.", no_args_is_help=True)
platform_app = typer.Typer(help="The local platform: `make up` / `make down`.", no_args_is_help=True)
replay_app = typer.Typer(help="Replay historic data as upstream events.", no_args_is_help=True)
k8s_app = typer.Typer(help="Kubernetes resources generated from the catalogue.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
app.add_typer(schemas_app, name="schemas")
app.add_typer(platform_app, name="platform")
app.add_typer(replay_app, name="replay")
app.add_typer(k8s_app, name="k8s")

Bootstrap = Annotated[str, typer.Option(help="Kafka bootstrap servers", envvar="FAIRWAY_KAFKA_BOOTSTRAP")]
Prefix = Annotated[str, typer.Option(help="Topic name prefix", envvar="FAIRWAY_TOPIC_PREFIX")]


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="Tenant the token is for (the only one it can touch)")],
    role: Annotated[list[str], typer.Option(help="Role(s): admin, marketer, staff, analyst, service")] = ["admin"],  # noqa: B006
    subject: Annotated[str, typer.Option(help="User id (sub)")] = "dev-user",
    ttl_hours: Annotated[int, typer.Option(help="Hours until the token expires")] = 12,
) -> None:
    """Print a JWT for the local platform (HS256 with the platform's secret)."""
    import re

    from fairway_chassis.auth import ROLES, issue_token
    from fairway_schemas.common import TENANT_ID_PATTERN

    if not re.fullmatch(TENANT_ID_PATTERN, tenant):
        raise typer.BadParameter("lower-case letters, digits, '-' and '_' only", param_hint="--tenant")
    unknown = [r for r in role if r not in ROLES]
    if unknown:
        raise typer.BadParameter(f"unknown role(s) {unknown}; known: {', '.join(ROLES)}", param_hint="--role")
    try:
        secret = config.jwt_secret()
    except config.NoPlatform as e:
        typer.echo(f"fairway token: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(issue_token(secret, tenant=tenant, roles=role, subject=subject,
                           ttl_seconds=ttl_hours * 3600))


@topics_app.command("create")
def topics_create(bootstrap: Bootstrap = config.bootstrap(), prefix: Prefix = "") -> None:
    """Create every topic of the catalogue (and its DLQ) that does not exist yet."""
    from fairway_events.catalogue import TopicNames
    from fairway_events.kafka import create_topics

    created = asyncio.run(create_topics(bootstrap, TopicNames(prefix)))
    typer.echo(f"created {len(created)} topic(s)" + (": " + ", ".join(created) if created else ""))


@topics_app.command("list")
def topics_list() -> None:
    """Print the topic catalogue."""
    from fairway_events.catalogue import TOPICS

    for t in TOPICS:
        typer.echo(f"{t.name:32} partitions={t.partitions:<2} key={t.key:15} retention={t.retention_days}d "
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
def publish(
    topic: Annotated[str, typer.Argument(help="Catalogue topic, e.g. teetime.events")],
    file: Annotated[str, typer.Argument(help="JSON object, JSON array, or JSON lines; '-' for stdin")],
    key: Annotated[str | None, typer.Option(help="Message key (default: none)")] = None,
    bootstrap: Bootstrap = config.bootstrap(),
    prefix: Prefix = "",
) -> None:
    """Publish messages to a topic exactly as they are in FILE (use it to play SCL, TeeTime or Messaging)."""
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

    asyncio.run(go())
    typer.echo(f"published {len(messages)} message(s) to {physical}")


def _dlq_topics(prefix: str, topic: str | None) -> list[str]:
    from fairway_events.catalogue import TOPICS, TopicNames

    names = TopicNames(prefix)
    if topic:
        return [topic if topic.endswith(".dlq") else names.dlq(topic)]
    return [names.dlq(t.name) for t in TOPICS]


@dlq_app.command("list")
def dlq_list(
    topic: Annotated[str | None, typer.Option(help="Only this topic's DLQ")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines output")] = False,
    bootstrap: Bootstrap = config.bootstrap(),
    prefix: Prefix = "",
) -> None:
    """List dead letters: where they came from, who rejected them and why."""
    from fairway_events.dlq import read_dead_letters

    letters = asyncio.run(read_dead_letters(bootstrap, _dlq_topics(prefix, topic)))
    for d in letters:
        row = {"dlq": d.dlq_topic, "offset": d.offset, "consumer": d.consumer, "kind": d.kind, "reason": d.reason,
               "original": f"{d.original_topic}@{d.original_offset}", "failed_at": d.failed_at,
               "value": d.value.decode(errors="replace")[:300], "original_size": d.original_size}
        kept = f" (first {len(d.value)} of {d.original_size} bytes kept)" if d.truncated else ""
        typer.echo(json.dumps(row) if as_json else
                   f"{d.dlq_topic}@{d.offset}  [{d.kind}] {d.consumer}: {d.reason}{kept}\n    {row['value'][:160]}")
    if not as_json:
        typer.echo(f"{len(letters)} dead letter(s)")


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[str, typer.Option(help="The topic whose DLQ to replay, e.g. teetime.events")],
    offset: Annotated[list[int], typer.Option(help="Replay only these DLQ offsets (repeatable)")] = [],  # noqa: B006
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead letter of the topic")] = False,
    bootstrap: Bootstrap = config.bootstrap(),
    prefix: Prefix = "",
) -> None:
    """Republish dead letters to the topic they came from (consumers' inboxes still de-duplicate)."""
    from fairway_events.dlq import read_dead_letters, replay
    from fairway_events.kafka import make_producer

    if not offset and not all_:
        raise typer.BadParameter("give --offset N (repeatable) or --all", param_hint="--offset")

    async def go() -> int:
        letters = await read_dead_letters(bootstrap, _dlq_topics(prefix, topic))
        chosen = letters if all_ else [d for d in letters if d.offset in set(offset)]
        p = make_producer(bootstrap)
        await p.start()
        try:
            return await replay(p, chosen)
        finally:
            await p.stop()

    typer.echo(f"replayed {asyncio.run(go())} dead letter(s)")


@schemas_app.command("write")
def schemas_write() -> None:
    """Write the JSON Schema of every new event version (refuses to change a published one)."""
    from fairway_events.schema_files import write_schemas

    written = write_schemas()
    typer.echo("\n".join(written) or "no new event versions")


@schemas_app.command("check")
def schemas_check() -> None:
    """Fail if a registered version has no committed schema or its schema changed."""
    from fairway_events.schema_files import diff

    missing, changed = diff()
    if missing or changed:
        typer.echo(f"missing: {missing}\nchanged: {changed}", err=True)
        raise typer.Exit(1)
    typer.echo("all event schemas match")


@platform_app.command("up")
def platform_up(
    members: Annotated[int, typer.Option(help="Members of the demo club")] = 300,
    demo: Annotated[bool, typer.Option(help="Start the SCL/TeeTime/Messaging simulators with the demo club")] = True,
) -> None:
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
def simulate(
    tenant: Annotated[str, typer.Option(help="Tenant of the demo club")] = "demo",
    members: Annotated[int, typer.Option(help="Members of the club")] = 300,
    live: Annotated[bool, typer.Option(help="Keep producing live activity after the history")] = True,
    bootstrap: Bootstrap = config.bootstrap(),
    prefix: Prefix = "",
) -> None:
    """Run the SCL, TeeTime and Messaging simulators for a demo club (foreground)."""
    from fairway_cli.simulators import run_simulators

    asyncio.run(run_simulators(bootstrap=bootstrap, prefix=prefix, tenant=tenant, members=members, live=live,
                               state_dir=config.run_dir() / "sim"))


@replay_app.command("transactions")
def replay_transactions(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: customer_id,date,quantity,amount")],
    tenant: Annotated[str, typer.Option(help="Tenant the history belongs to")],
    source: Annotated[str, typer.Option(help="Upstream system the purchases come from")] = "teetime",
    wait: Annotated[bool, typer.Option(help="Return only when ml-scoring processed every event")] = False,
    bootstrap: Bootstrap = config.bootstrap(),
    prefix: Prefix = "",
) -> None:
    """Replay a purchase history as upstream purchase events with their historic dates."""
    from dataclasses import asdict

    from fairway_ml_scoring.replay import replay_transactions as run

    result = asyncio.run(run(file, tenant, bootstrap, prefix, source=source, wait=wait))
    typer.echo(json.dumps(asdict(result), default=str, indent=2))


if __name__ == "__main__":
    app()


@app.command()
def migrate(
    service: Annotated[list[str], typer.Option(help="Service(s) to migrate, or 'all'")],
) -> None:
    """Run services' database migrations as their own step (before a rollout; services can then start with
    FAIRWAY_MIGRATE_ON_START=false)."""
    from fairway_cli.deploy import SERVICE_NAMES
    from fairway_cli.deploy import migrate as run_migrations

    names = list(SERVICE_NAMES) if service == ["all"] else service
    unknown = [s for s in names if s not in SERVICE_NAMES]
    if unknown:
        raise typer.BadParameter(f"unknown service(s) {unknown}; known: {', '.join(SERVICE_NAMES)}",
                                 param_hint="--service")
    raise typer.Exit(run_migrations(names))


@k8s_app.command("topics")
def k8s_topics(
    cluster: Annotated[str, typer.Option(help="Strimzi Kafka cluster name")] = "fairway",
    replicas: Annotated[int, typer.Option(min=1, help="Replicas per partition")] = 3,
    prefix: Prefix = "",
) -> None:
    """Print a Strimzi KafkaTopic for every catalogue topic and its dead-letter topic."""
    from fairway_cli.deploy import kafka_topics, render_yaml

    typer.echo(render_yaml(kafka_topics(cluster, replicas, prefix),
                           "Generated by `fairway k8s topics` from the topic catalogue: do not edit."), nl=False)


@k8s_app.command("services")
def k8s_services(
    out: Annotated[Path, typer.Option(help="Folder for one file per service")] = Path("deploy/k8s/base/services"),
) -> None:
    """Write each service's Kubernetes objects (and the KEDA lag-scaling component) from one template."""
    from fairway_cli.deploy import SERVICE_NAMES, lag_scaled_objects, render_yaml, service_objects

    header = "Generated by `fairway k8s services`: edit tools/fairway/src/fairway_cli/deploy.py, then regenerate."
    out.mkdir(parents=True, exist_ok=True)
    for name in SERVICE_NAMES:
        (out / f"{name}.yaml").write_text(render_yaml(service_objects(name), header))
    keda = out.parent.parent / "components" / "keda-lag-scaling"
    keda.mkdir(parents=True, exist_ok=True)
    (keda / "scaledobjects.yaml").write_text(render_yaml(lag_scaled_objects(), header))
    typer.echo(f"wrote {len(SERVICE_NAMES)} service files to {out}")
