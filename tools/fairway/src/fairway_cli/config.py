"""Where the local platform keeps its state, and the settings every CLI command shares."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def repo_root() -> Path:
    env = os.environ.get("FAIRWAY_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for p in (here, *here.parents):
        if (p / "services").is_dir() and (p / "libs").is_dir():
            return p
    return here


def run_dir() -> Path:
    """The local platform's state: FAIRWAY_RUN_DIR, else `.run/` in the repository."""
    d = Path(os.environ["FAIRWAY_RUN_DIR"]) if os.environ.get("FAIRWAY_RUN_DIR") else repo_root() / ".run"
    d.mkdir(parents=True, exist_ok=True)
    return d


def bootstrap() -> str:
    return os.environ.get("FAIRWAY_KAFKA_BOOTSTRAP", f"127.0.0.1:{os.environ.get('FAIRWAY_KAFKA_PORT', '9092')}")


def topic_prefix() -> str:
    return os.environ.get("FAIRWAY_TOPIC_PREFIX", "")


def jwt_secret() -> str:
    """FAIRWAY_JWT_SECRET, else the local platform's secret (made once, kept under .run/)."""
    env = os.environ.get("FAIRWAY_JWT_SECRET")
    if env:
        return env
    path = run_dir() / "jwt_secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def social_secrets() -> dict[str, str]:
    """The social service's token key and OAuth state secret for the local platform (made once, kept under .run/),
    unless the environment sets them."""
    import base64

    out: dict[str, str] = {}
    for env, file, make in (
        ("FAIRWAY_SOCIAL_TOKEN_KEYS", "social_token_keys",
         lambda: "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()),
        ("FAIRWAY_SOCIAL_STATE_SECRET", "social_state_secret", lambda: secrets.token_urlsafe(48)),
    ):
        if os.environ.get(env):
            continue
        path = run_dir() / file
        if not path.exists():
            path.write_text(make())
            path.chmod(0o600)
        out[env] = path.read_text().strip()
    return out
