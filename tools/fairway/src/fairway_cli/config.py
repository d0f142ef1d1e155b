"""Where the local platform keeps its state, and the settings every CLI command shares.

The platform's run folder holds its secret: `fairway platform up` creates it there once, and every other command
only reads it, so a token printed by `fairway token` is one the running services accept. A command that cannot
find the folder refuses with a message saying where it looked, instead of inventing a secret of its own.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


class NoPlatform(Exception):
    """The platform's run folder (or its secret) is not where a command looked."""


def _looks_like_repo(p: Path) -> bool:
    return (p / "services").is_dir() and (p / "libs").is_dir() and (p / "pyproject.toml").is_file()


def find_repo_root() -> Path | None:
    """FAIRWAY_HOME, else the repository around the current directory, else the one this CLI is installed from."""
    env = os.environ.get("FAIRWAY_HOME")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd().resolve(), Path(__file__).resolve().parent):
        for p in (start, *start.parents):
            if _looks_like_repo(p):
                return p
    return None


def repo_root() -> Path:
    root = find_repo_root()
    if root is None:
        raise NoPlatform(f"no Fairway repository around {Path.cwd()} (set FAIRWAY_HOME to the repository)")
    return root


def find_run_dir() -> Path:
    """FAIRWAY_RUN_DIR, else `.run/` in the repository. Only looks: creates nothing."""
    if os.environ.get("FAIRWAY_RUN_DIR"):
        return Path(os.environ["FAIRWAY_RUN_DIR"]).resolve()
    return repo_root() / ".run"


def run_dir() -> Path:
    """The run folder, created if missing: for commands that keep state there (`platform up`, `simulate`)."""
    d = find_run_dir()
    d.mkdir(parents=True, exist_ok=True)
    return d


def bootstrap() -> str:
    return os.environ.get("FAIRWAY_KAFKA_BOOTSTRAP", f"127.0.0.1:{os.environ.get('FAIRWAY_KAFKA_PORT', '9092')}")


def topic_prefix() -> str:
    return os.environ.get("FAIRWAY_TOPIC_PREFIX", "")


def jwt_secret() -> str:
    """FAIRWAY_JWT_SECRET, else the running platform's secret from its run folder; never makes one."""
    env = os.environ.get("FAIRWAY_JWT_SECRET")
    if env:
        return env
    path = find_run_dir() / "jwt_secret"
    if not path.is_file():
        raise NoPlatform(
            f"no platform secret at {path}: start the platform first (`make up`), or point FAIRWAY_RUN_DIR at the "
            "run folder of a running platform (or set FAIRWAY_JWT_SECRET)"
        )
    return path.read_text().strip()


def create_jwt_secret() -> str:
    """The platform's secret, made once by `fairway platform up` and kept in its run folder (mode 0600)."""
    if os.environ.get("FAIRWAY_JWT_SECRET"):
        return os.environ["FAIRWAY_JWT_SECRET"]
    path = run_dir() / "jwt_secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
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
