"""`fairway token` signs with the running platform's secret, found from the repository or FAIRWAY_RUN_DIR, and
refuses (creating nothing) when there is none: a token signed with a secret of its own would be refused by every
service."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from fairway_cli import config

FAIRWAY = str(Path(sys.executable).parent / "fairway")
SECRET = "stonehaven-platform-secret-0123456789abcdef0123456789"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FAIRWAY_JWT_SECRET", "FAIRWAY_RUN_DIR", "FAIRWAY_HOME")}
    return {**env, **extra}


def _token(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FAIRWAY, "token", "--tenant", "stonehaven", "--role", "marketer"], cwd=cwd,
                          env=_env(**env), capture_output=True, text=True, timeout=60)


def _fake_repo(root: Path) -> Path:
    for d in ("services", "libs"):
        (root / d).mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "fairway"\n')
    return root


def test_token_uses_the_secret_in_the_run_dir_it_is_given(tmp_path: Path) -> None:
    run = tmp_path / "platform-run"
    run.mkdir()
    (run / "jwt_secret").write_text(SECRET + "\n")
    out = _token(tmp_path, FAIRWAY_RUN_DIR=str(run))
    assert out.returncode == 0, out.stderr
    claims = jwt.decode(out.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["tenant"] == "stonehaven" and claims["roles"] == ["marketer"]


def test_token_finds_the_run_dir_by_walking_up_to_the_repository(tmp_path: Path) -> None:
    repo = _fake_repo(tmp_path / "fairway")
    (repo / ".run").mkdir()
    (repo / ".run" / "jwt_secret").write_text(SECRET)
    deep = repo / "services" / "identity"
    deep.mkdir()
    out = _token(deep)
    assert out.returncode == 0, out.stderr
    assert jwt.decode(out.stdout.strip(), SECRET, algorithms=["HS256"])["sub"] == "dev-user"


@pytest.mark.parametrize("where", ["run_dir", "repo"])
def test_token_refuses_without_a_platform_and_creates_nothing(tmp_path: Path, where: str) -> None:
    if where == "run_dir":
        run = tmp_path / "not-started"
        out = _token(tmp_path, FAIRWAY_RUN_DIR=str(run))
        assert not run.exists()
        missing = run / "jwt_secret"
    else:
        repo = _fake_repo(tmp_path / "fairway")
        out = _token(repo)
        assert not (repo / ".run").exists()
        missing = repo / ".run" / "jwt_secret"
    assert out.returncode == 1
    assert out.stdout == ""
    assert str(missing) in out.stderr and "make up" in out.stderr


def test_only_platform_up_creates_the_secret_and_keeps_it_private(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAIRWAY_JWT_SECRET", raising=False)
    monkeypatch.setenv("FAIRWAY_RUN_DIR", str(tmp_path / "run"))
    with pytest.raises(config.NoPlatform):
        config.jwt_secret()
    made = config.create_jwt_secret()
    assert len(made) >= 48
    assert config.create_jwt_secret() == made == config.jwt_secret()  # made once, then read
    assert stat.S_IMODE((tmp_path / "run" / "jwt_secret").stat().st_mode) == 0o600
