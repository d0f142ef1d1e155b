"""`fairway-ml` as a data scientist runs it: evaluate and train on a club's own history, score everyone."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from fairway_chassis.db import ensure_database, make_engine, make_sessionmaker, migrate
from fairway_ml_scoring.app import MIGRATIONS
from fairway_ml_scoring.cli import app
from fairway_ml_scoring.synthetic import club_history

from .conftest import insert_events


def env_of(settings) -> dict[str, str]:
    return {
        "FAIRWAY_ML_SCORING_DATABASE_URL": settings.database_url,
        "FAIRWAY_ML_SCORING_DATABASE_NAME": settings.db_name,
        "FAIRWAY_ML_SCORING_JWT_SECRET": settings.jwt_secret,
        "FAIRWAY_ML_SCORING_RUN_DIR": str(settings.run_dir),
        "FAIRWAY_ML_SCORING_MLFLOW_TRACKING_URI": settings.tracking_uri,
        "FAIRWAY_ML_SCORING_MLFLOW_ARTIFACT_ROOT": settings.artifact_root,
        "FAIRWAY_ML_SCORING_FEAST_PG_SSLMODE": "disable",
        "FAIRWAY_ML_SCORING_CHURN_TRAINING_SNAPSHOTS": "3",
        "FAIRWAY_ML_SCORING_MIN_TRAINING_ROWS": "30",
    }


def test_evaluate_train_and_score_from_the_command_line(ml_settings) -> None:
    settings = ml_settings()
    now = datetime.now(UTC)
    events, _ = club_history("club-a", members=120, start=now - timedelta(days=560), end=now, seed=11)

    async def seed() -> None:
        url = settings.service_database_url
        await ensure_database(url)
        await migrate(MIGRATIONS, url)
        engine = make_engine(url, 2)
        async with make_sessionmaker(engine)() as s, s.begin():
            await insert_events(s, events)
        await engine.dispose()

    asyncio.run(seed())
    runner = CliRunner()
    env = env_of(settings)
    as_of = (now - timedelta(days=90)).date().isoformat()
    r = runner.invoke(
        app, ["evaluate", "churn", "--tenant", "club-a", "--as-of", as_of, "--horizon-days", "60"], env=env
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["customers"] > 50 and 0.5 < report["auc"] <= 1 and 0 <= report["precision"] <= 1
    assert (
        report["recall"] is not None and report["training"]["version"] is None
    )  # evaluation registers nothing

    r = runner.invoke(
        app,
        [
            "train",
            "churn",
            "--tenant",
            "club-a",
            "--as-of",
            now.date().isoformat(),
            "--horizon-days",
            "60",
            "--label",
            "either",
        ],
        env=env,
    )
    assert r.exit_code == 0, r.output
    trained = json.loads(r.stdout)
    assert trained["version"] == "1" and trained["label"] == "either" and trained["horizonDays"] == 60

    r = runner.invoke(app, ["score-all", "--tenant", "club-a"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["members"] == 120

    r = runner.invoke(app, ["train", "churn", "--tenant", "club-a", "--as-of", "1999-01-01"], env=env)
    assert r.exit_code == 2 and "training rows" in r.stderr
    r = runner.invoke(app, ["train", "churn", "--tenant", "club-a", "--as-of", "yesterday"], env=env)
    assert r.exit_code == 2 and "--as-of" in r.output
