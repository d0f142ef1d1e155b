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
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

app = typer.Typer(
    help="Fairway ML: train, evaluate and score models on a club's history.", no_args_is_help=True
)
T = TypeVar("T")


class ModelKind(StrEnum):
    churn = "churn"
    clv = "clv"


class Label(StrEnum):
    inactivity = "inactivity"
    membership_cancelled = "membership_cancelled"
    either = "either"


def _as_of(value: str) -> datetime:
    from fairway_ml_scoring.replay import parse_date

    try:
        d = parse_date(value) if len(value) <= 10 else datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from exc
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
    await asyncio.to_thread(ctx.start)
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
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@app.command()
def train(
    model: ModelKind,
    tenant: Annotated[str, typer.Option(help="the club")],
    as_of: Annotated[str, typer.Option("--as-of", help="train with data up to this date")],
    horizon_days: Annotated[int | None, typer.Option("--horizon-days", min=7, max=1095)] = None,
    label: Annotated[Label | None, typer.Option(help="churn label (default from settings)")] = None,
) -> None:
    """Train as of a date, log to MLflow, register as challenger (churn) and promote if it passes the gate."""
    from fairway_ml_scoring.models import service

    when = _as_of(as_of)
    _print(
        _run(
            lambda sessions, ctx: service.train(
                sessions, ctx, tenant, model.value, when, horizon_days, label.value if label else None
            )
        )
    )


@app.command()
def evaluate(
    model: ModelKind,
    tenant: Annotated[str, typer.Option(help="the club")],
    as_of: Annotated[str, typer.Option("--as-of", help="train with data up to this date")],
    horizon_days: Annotated[int | None, typer.Option("--horizon-days", min=7, max=1095)] = None,
    label: Annotated[Label | None, typer.Option()] = None,
) -> None:
    """Train as of a date and report on what really happened after it (nothing is registered).

    churn: AUC, precision and recall at the decision threshold (and the rule-based fallback's AUC);
    clv: predicted vs actual total, and mean absolute error of spend and purchases per customer.
    """
    from fairway_ml_scoring.models import service

    when = _as_of(as_of)
    _print(
        _run(
            lambda sessions, ctx: service.evaluate(
                sessions, ctx, tenant, model.value, when, horizon_days, label.value if label else None
            )
        )
    )


@app.command("score-all")
def score_all_cmd(tenant: Annotated[str, typer.Option(help="the club")]) -> None:
    """Rescore every member (engagement, churn risk, CLV); announces changed scores."""
    from tqdm import tqdm

    from fairway_ml_scoring.features.repository import FeatureLogRepository
    from fairway_ml_scoring.scoring.batch import score_all

    async def go(sessions: Any, ctx: Any) -> Any:
        async with sessions() as session:
            total = len(await FeatureLogRepository(session).subjects(tenant))
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
def replay_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    tenant: Annotated[str, typer.Option(help="the club")],
    source: Annotated[str, typer.Option(help="teetime or scl")] = "teetime",
    wait: Annotated[bool, typer.Option(help="return once ml-scoring processed every event")] = False,
    bootstrap: Annotated[str | None, typer.Option(envvar="FAIRWAY_KAFKA_BOOTSTRAP")] = None,
    topic_prefix: Annotated[str, typer.Option(envvar="FAIRWAY_TOPIC_PREFIX")] = "",
) -> None:
    """Publish a purchase history (customer_id, date, quantity, amount) as upstream purchase events."""
    from fairway_ml_scoring.replay import ReplayError, replay_transactions

    try:
        result = asyncio.run(
            replay_transactions(file, tenant, bootstrap or "127.0.0.1:9092", topic_prefix, source, wait)
        )
    except ReplayError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    _print(result.__dict__ | {"skipped": result.skipped[:20], "skippedCount": len(result.skipped)})


if __name__ == "__main__":
    app()
