"""`make up` / `make down`: the whole platform as local processes on embedded defaults.

State lives under `.run/`: PostgreSQL data (kept between runs, so `make up` twice reuses the data), logs, pid files,
the JWT secret and MLflow's store. Tansu runs in memory: topics and offsets start afresh after `make down`; the
services' outboxes and inboxes in PostgreSQL are the durable record.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fairway_cli import config
from fairway_localinfra import EmbeddedPostgres, port_open, start_tansu, wait_port

_OFFSET = int(os.environ.get("FAIRWAY_PORT_OFFSET", "0"))  # shifts every service port, e.g. for a second platform
SERVICES: dict[str, int] = {
    name: port + _OFFSET for name, port in {
        "identity": 8001, "timeline": 8002, "segmentation": 8003, "campaigns": 8004,
        "journeys": 8005, "social": 8006, "ml-scoring": 8007, "ai-gateway": 8008,
    }.items()
}
MLFLOW_PORT = int(os.environ.get("FAIRWAY_MLFLOW_PORT", "5000"))
PG_PORT = int(os.environ.get("FAIRWAY_PG_PORT", "15432"))  # below the ephemeral port range
# Fake Facebook, Instagram and X (fairway_social.fakes): the social service talks to them as to the real hosts.
SOCIAL_FAKES_PORT = int(os.environ.get("FAIRWAY_SOCIAL_FAKES_PORT", str(8096 + _OFFSET)))


def _pids() -> Path:
    d = config.run_dir() / "pids"
    d.mkdir(exist_ok=True)
    return d


def _logs() -> Path:
    d = config.run_dir() / "logs"
    d.mkdir(exist_ok=True)
    return d


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _running(name: str) -> int | None:
    f = _pids() / f"{name}.pid"
    if f.exists():
        pid = int(f.read_text())
        if _alive(pid):
            return pid
        f.unlink()
    return None


def _spawn(name: str, argv: list[str], env: dict[str, str]) -> int:
    pid = _running(name)
    if pid:
        return pid
    log = (_logs() / f"{name}.log").open("ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                            cwd=config.repo_root())
    (_pids() / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def _database_url() -> str:
    url = os.environ.get("FAIRWAY_DATABASE_URL")
    if url:
        return url
    pg = EmbeddedPostgres(config.run_dir() / "pg", PG_PORT)
    pg.start()
    (config.run_dir() / "pg.json").write_text(json.dumps({"port": PG_PORT}))
    return pg.url


_FRESH_BROKER: list[bool] = []


def service_url(name: str) -> str:
    """Where a service answers: FAIRWAY_<SERVICE>_URL (docker compose, Kubernetes), else the local platform's port."""
    return os.environ.get(f"FAIRWAY_{name.replace('-', '_').upper()}_URL") or f"http://127.0.0.1:{SERVICES[name]}"


def seed_demo(secret: str, tenant: str = "demo", env: dict[str, str] | None = None) -> None:
    """The demo club's social accounts and journeys (campaigns come with the simulators): what `make up` and the
    compose demo both do, through the services' own APIs."""
    seeded = subprocess.run([sys.executable, "-m", "fairway_social.demo", "--url", service_url("social"),
                             "--tenant", tenant], env=env, capture_output=True, text=True, timeout=300)
    print(seeded.stdout.strip() or f"social demo not seeded: {seeded.stderr.strip()[-500:]}")
    from fairway_cli.demo_journeys import seed

    try:  # before the simulators, so the club's new members enter the welcome series
        asyncio.run(seed(secret, tenant, service_url("segmentation"), service_url("journeys")))
    except (httpx.HTTPError, KeyError, ValueError) as exc:  # the platform still comes up without them
        print(f"demo journeys not created: {exc!r}")


def _reannounce_after_fresh_broker(state: dict[str, str]) -> None:
    """A new Tansu holds no state topics: every owner republishes its snapshots, so read models stay complete."""
    from fairway_chassis.tokens import issue_token
    from fairway_cli.reannounce import OWNERS, reannounce

    urls = {s: service_url(s) for s in OWNERS if state.get(s) == "ready"}
    tenants = json.loads(os.environ["FAIRWAY_TENANTS"]) if os.environ.get("FAIRWAY_TENANTS") else ["demo"]
    for tenant in tenants:
        token = issue_token(config.jwt_secret(), tenant=tenant, roles=["admin"], subject="fairway-platform")
        try:
            n = reannounce(tenant, urls, token, timeout=300, progress=False)
            print(f"state topics: {n} snapshot(s) of {tenant} announced on the new broker")
        except (httpx.HTTPError, TimeoutError) as exc:
            print(f"state topics: reannouncing {tenant} failed ({exc}); run `fairway reannounce --tenant {tenant}`")


def _broker() -> str:
    bootstrap = os.environ.get("FAIRWAY_KAFKA_BOOTSTRAP")
    if bootstrap:
        return bootstrap
    port = int(os.environ.get("FAIRWAY_KAFKA_PORT", "9092"))
    if not _running("tansu"):
        _FRESH_BROKER.append(True)  # Tansu starts empty: the state topics must be announced again
        if port_open("127.0.0.1", port):
            raise SystemExit(f"port {port} is taken by another process; set FAIRWAY_KAFKA_PORT")
        proc = start_tansu(port, _logs() / "tansu.log")
        (_pids() / "tansu.pid").write_text(str(proc.pid))
    return f"127.0.0.1:{port}"


def _social_env(env: dict[str, str]) -> dict[str, str]:
    """Start the fake social platforms (state kept under .run/, so the demo's connections stay valid) and point
    the social service at them; real hosts are the same settings with real URLs and app credentials."""
    fakes = f"http://127.0.0.1:{SOCIAL_FAKES_PORT}"
    _spawn("social-fakes", [sys.executable, "-m", "fairway_social.fakes", "--port", str(SOCIAL_FAKES_PORT),
                            "--state-file", str(config.run_dir() / "social_fakes.json")], env)
    social_port = SERVICES["social"]
    return {**config.social_secrets(), "FAIRWAY_SOCIAL_FACEBOOK_AUTH_URL": fakes,
            "FAIRWAY_SOCIAL_FACEBOOK_GRAPH_URL": fakes, "FAIRWAY_SOCIAL_X_AUTH_URL": fakes,
            "FAIRWAY_SOCIAL_X_API_URL": fakes, "FAIRWAY_SOCIAL_PUBLIC_URL": f"http://127.0.0.1:{social_port}",
            "FAIRWAY_SOCIAL_REDIRECT_URI":
                f"http://127.0.0.1:{social_port}/api/v1/social/connections/oauth/return"}


def _wait_ready(timeout: float | None = None) -> dict[str, str]:
    # A loaded machine starts eight services slowly (ml-scoring's imports alone take a minute on 2 busy cores).
    timeout = timeout or float(os.environ.get("FAIRWAY_READY_TIMEOUT", "300"))
    deadline = time.monotonic() + timeout
    state = {name: "starting" for name in SERVICES}
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline and any(v != "ready" for v in state.values()):
            for name, port in SERVICES.items():
                if state[name] == "ready":
                    continue
                if not _running(name):
                    state[name] = f"exited (see {_logs() / name}.log)"
                    continue
                try:
                    if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        state[name] = "ready"
                except httpx.HTTPError:
                    pass
            if all(v == "ready" or v.startswith("exited") for v in state.values()):
                break
            time.sleep(1)
    return state


def up(*, members: int = 300, demo: bool = True) -> None:
    os.chdir(config.repo_root())
    print("Fairway: starting the platform (state under .run/)")
    db = _database_url()
    bootstrap = _broker()
    secret = config.create_jwt_secret()  # the only place a secret is made
    prefix = config.topic_prefix()
    from fairway_events.catalogue import TopicNames
    from fairway_events.kafka import create_topics, wait_for_broker

    asyncio.run(wait_for_broker(bootstrap))
    asyncio.run(create_topics(bootstrap, TopicNames(prefix)))
    env = {**os.environ, "FAIRWAY_DATABASE_URL": db, "FAIRWAY_KAFKA_BOOTSTRAP": bootstrap, "FAIRWAY_JWT_SECRET": secret,
           "FAIRWAY_TOPIC_PREFIX": prefix, "PYTHONUNBUFFERED": "1"}

    mlflow_dir = config.run_dir() / "mlflow"
    mlflow_dir.mkdir(exist_ok=True)
    mlflow_url = f"http://127.0.0.1:{MLFLOW_PORT}"
    _spawn("mlflow", [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(MLFLOW_PORT),
                      "--backend-store-uri", f"sqlite:///{mlflow_dir / 'mlflow.db'}",
                      "--artifacts-destination", str(mlflow_dir / "artifacts"), "--workers", "1"], env)
    env["FAIRWAY_ML_SCORING_MLFLOW_TRACKING_URI"] = mlflow_url
    env.update(_social_env(env))

    for name, port in SERVICES.items():
        pkg = "fairway_" + name.replace("-", "_")
        _spawn(name, [sys.executable, "-m", pkg], {**env, f"FAIRWAY_{name.replace('-', '_').upper()}_PORT": str(port)})
    state = _wait_ready()
    if _FRESH_BROKER:
        _reannounce_after_fresh_broker(state)
    if demo and all(state.get(s) == "ready" for s in ("social", "journeys", "segmentation")):
        seed_demo(secret, env=env)
    if demo:
        _spawn("simulators", [sys.executable, "-m", "fairway_cli.main", "simulate", "--tenant", "demo",
                              "--members", str(members)], env)
    try:
        wait_port("127.0.0.1", MLFLOW_PORT, 60)
        mlflow_state = "ready"
    except TimeoutError:
        mlflow_state = "not answering (see .run/logs/mlflow.log)"

    print("\nServices:")
    for name, port in SERVICES.items():
        print(f"  {name:13} http://127.0.0.1:{port}   docs: http://127.0.0.1:{port}/docs   [{state[name]}]")
    print(f"\n  broker        {bootstrap} (Tansu, in memory)")
    print(f"  postgresql    {db.replace('+asyncpg', '')}")
    print(f"  mlflow        {mlflow_url}   [{mlflow_state}]")
    if demo:
        print(f"\nDemo club: tenant 'demo', {members} members; SCL, TeeTime and Messaging simulators are feeding it.")
    print("\nA token:   .venv/bin/fairway token --tenant demo --role admin")
    print('Try:       curl -H "Authorization: Bearer $(.venv/bin/fairway token --tenant demo)" '
          "http://127.0.0.1:8001/api/v1/customers")
    print("Logs:      .run/logs/   Stop: make down")
    bad = [n for n, s in state.items() if s != "ready"]
    if bad:
        raise SystemExit(f"\nnot ready: {', '.join(bad)}")


def down() -> None:
    os.chdir(config.repo_root())
    order = ["simulators", *SERVICES, "social-fakes", "mlflow", "tansu"]
    names = order + [p.stem for p in _pids().glob("*.pid") if p.stem not in order]
    for name in names:
        pid = _running(name)
        if not pid:
            continue
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        for _ in range(100):
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            os.killpg(pid, signal.SIGKILL)
        (_pids() / f"{name}.pid").unlink(missing_ok=True)
        print(f"stopped {name}")
    if (config.run_dir() / "pg.json").exists():
        port = json.loads((config.run_dir() / "pg.json").read_text())["port"]
        EmbeddedPostgres(config.run_dir() / "pg", port).stop()
        print("stopped postgresql (data kept in .run/pg)")


def status() -> None:
    os.chdir(config.repo_root())
    with httpx.Client(timeout=2) as client:
        for name in ["tansu", "mlflow", "social-fakes", *SERVICES, "simulators"]:
            pid = _running(name)
            line = f"{name:13} {'running pid ' + str(pid) if pid else 'stopped'}"
            if pid and name in SERVICES:
                try:
                    r = client.get(f"http://127.0.0.1:{SERVICES[name]}/readyz")
                    line += f"  readyz={r.json().get('status')}"
                except httpx.HTTPError as exc:
                    line += f"  readyz=unreachable ({type(exc).__name__})"
            print(line)
