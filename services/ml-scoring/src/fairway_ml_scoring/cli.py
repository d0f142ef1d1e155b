"""`fairway-ml`: what a data scientist runs against a club's history, with the service's own settings
(FAIRWAY_ML_SCORING_* / FAIRWAY_* environment).

  fairway-ml train churn|clv --tenant T --as-of DATE --horizon-days N
  fairway-ml evaluate churn|clv --tenant T --as-of DATE --horizon-days N
  fairway-ml score-all --tenant T
  fairway-ml replay-transactions FILE --tenant T [--source teetime] [--wait]

Events (training completed, model deployed, score updates) go to the service's outbox; the running service
publishes them.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

T = TypeVar("T")
MODELS = click.Choice(["churn", "clv"])
LABELS = click.Choice(["inactivity", "membership_cancelled", "either"])


# click alone, and each command imports what it needs when it runs, so every command starts in a fraction of a
# second (typer imported rich or pydantic on every start).
@click.group(help="Fairway ML: train, evaluate and score models on a club's history.", no_args_is_help=True)
def app() -> None:
    pass


def _as_of(value: str) -> datetime:
    from fairway_events.history import parse_date

    try:
        d = parse_date(value) if len(value) <= 10 else datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from exc
    if isinstance(d, datetime):
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    assert isinstance(d, date)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


async def _with_context(fn: Callable[[Any, Any], Awaitable[T]]) -> T:
    from fairway_chassis.db import ensure_database, make_engine, make_sessionmaker, migrate
    from fairway_ml_scoring.app import MIGRATIONS
    from fairway_ml_scoring.context import MlContext
    from fairway_ml_scoring.settings import Settings

    settings = Settings()
    from fairway_chassis.logging import configure_logging

    configure_logging(
        "ml-scoring-cli", settings.log_level, settings.log_json
    )  # logs to stderr, results to stdout
    import structlog

    # The process's original stderr, and no logger caching: a caller that swaps sys.stderr (a test runner)
    # must not leave loggers bound to a stream it later closes.
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.__stderr__), cache_logger_on_first_use=False
    )
    url = settings.service_database_url
    await ensure_database(url)
    await migrate(MIGRATIONS, url)
    engine = make_engine(url, 4)
    ctx = MlContext(settings=settings)
    from fairway_ml_scoring.clv.model import load_clv_model

    await asyncio.to_thread(ctx.start, load_clv_model)
    try:
        return await fn(make_sessionmaker(engine), ctx)
    finally:
        await ctx.drain()
        ctx.stop()
        await engine.dispose()


def _run(coro_fn: Callable[[Any, Any], Awaitable[Any]]) -> Any:
    from fairway_ml_scoring.churn.training import TrainingError

    try:
        return asyncio.run(_with_context(coro_fn))
    except TrainingError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc


def _print(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@app.command()
@click.argument("model", type=MODELS)
@click.option("--tenant", required=True, help="the club")
@click.option("--as-of", "as_of", required=True, help="train with data up to this date")
@click.option("--horizon-days", type=click.IntRange(7, 1095), default=None)
@click.option("--label", type=LABELS, default=None, help="churn label (default from settings)")
def train(model: str, tenant: str, as_of: str, horizon_days: int | None, label: str | None) -> None:
    """Train as of a date, log to MLflow, register as challenger (churn) and promote if it passes the gate."""
    from fairway_ml_scoring.lifecycle import service

    when = _as_of(as_of)
    _print(
        _run(
            lambda sessions, ctx: service.train(
                sessions, ctx, tenant, model, when, horizon_days, label
            )
        )
    )


@app.command()
@click.argument("model", type=MODELS)
@click.option("--tenant", required=True, help="the club")
@click.option("--as-of", "as_of", required=True, help="train with data up to this date")
@click.option("--horizon-days", type=click.IntRange(7, 1095), default=None)
@click.option("--label", type=LABELS, default=None)
def evaluate(model: str, tenant: str, as_of: str, horizon_days: int | None, label: str | None) -> None:
    """Train as of a date and report on what really happened after it (nothing is registered).

    churn: AUC, precision and recall at the decision threshold (and the rule-based fallback's AUC);
    clv: predicted vs actual total, and mean absolute error of spend and purchases per customer.
    """
    from fairway_ml_scoring.lifecycle import service

    when = _as_of(as_of)
    _print(
        _run(
            lambda sessions, ctx: service.evaluate(
                sessions, ctx, tenant, model, when, horizon_days, label
            )
        )
    )


@app.command("score-all")
@click.option("--tenant", required=True, help="the club")
def score_all_cmd(tenant: str) -> None:
    """Rescore every member (engagement, churn risk, CLV); announces changed scores."""
    from tqdm import tqdm

    from fairway_ml_scoring.features.repository import FeatureLogRepository
    from fairway_ml_scoring.scoring.batch import score_all

    async def go(sessions: Any, ctx: Any) -> Any:
        async with sessions() as session:
            total = len(await FeatureLogRepository.for_tenant(session, tenant).subjects())
        with tqdm(total=total, unit="member", desc=f"score {tenant}", file=sys.stderr) as bar:
            result = await score_all(sessions, ctx, tenant, export=True, progress=bar.update)
        await asyncio.get_running_loop().run_in_executor(ctx.online_writer, ctx.fs.materialize, ctx.now())
        return result

    result = _run(go)
    _print(
        {
            "tenant": result.tenant_id,
            "members": result.members,
            "announced": result.announced,
            "offlineRows": result.snapshot_rows,
        }
    )


@app.command("replay-transactions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--tenant", required=True, help="the club")
@click.option("--source", default="teetime", show_default=True, help="teetime or scl")
@click.option("--wait/--no-wait", default=False, help="return once every service took in every event")
@click.option("--skip-bad", is_flag=True, default=False, help="skip and count bad rows instead of refusing the file")
@click.option("--bootstrap", envvar="FAIRWAY_KAFKA_BOOTSTRAP", default=None)
@click.option("--topic-prefix", envvar="FAIRWAY_TOPIC_PREFIX", default="")
def replay_cmd(file: Path, tenant: str, source: str, wait: bool, skip_bad: bool, bootstrap: str | None,
               topic_prefix: str) -> None:
    """Publish a purchase history (customer_id, date, quantity, amount) as upstream purchase events."""
    from fairway_events.history import ReplayError, replay_transactions

    try:
        result = asyncio.run(
            replay_transactions(file, tenant, bootstrap or "127.0.0.1:9092", topic_prefix, source, wait,
                                skip_bad=skip_bad)
        )
    except ReplayError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    _print(result.__dict__ | {"skipped": result.skipped[:20], "skippedCount": len(result.skipped)})


if __name__ == "__main__":
    app()
