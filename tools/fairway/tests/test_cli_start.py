"""Every `fairway` and `fairway-ml` command reaches its own work quickly: starting the command line imports click and
the standard library only, and each command imports what it needs when it runs. Asserted on the modules a new
process imports (`python -X importtime`), not on a timing (the benchmark `fairway_bench.cli` prints those)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$")
STARTUP = {"click", "fairway_cli", "fairway_ml_scoring", "_distutils_hack", "sitecustomize"}

# One interpreter renders the help of every command of both command lines: the imports a command pays before its
# own code runs. It prints how many commands it rendered.
EVERY_HELP = """
import click
from fairway_cli.main import app as fairway
from fairway_ml_scoring.cli import app as fairway_ml

def commands(group, path=()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))

n = 0
for cli in (fairway, fairway_ml):
    for path in commands(cli):
        try:
            cli.main([*path, "--help"], prog_name="x", standalone_mode=False)
        except SystemExit:
            pass
        n += 1
print("rendered", n)
"""


def imported(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """Top-level packages a new interpreter imported (beyond the standard library) while running `code`."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    names = {m.group(1).split(".")[0] for m in map(IMPORT_LINE.match, out.stderr.splitlines()) if m}
    return out.stdout, {n for n in names if n not in sys.stdlib_module_names}


def test_every_command_starts_on_click_and_the_standard_library() -> None:
    out, modules = imported(EVERY_HELP)
    assert int(out.split()[-1]) > 25  # fairway's commands and groups, and fairway-ml's
    assert modules <= STARTUP


def test_fairway_token_signs_with_the_standard_library(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_text("stonehaven-platform-secret-0123456789abcdef0123456789")
    env = {"FAIRWAY_RUN_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    code = "import sys; from fairway_cli.main import app; app(sys.argv[1:])"
    out, modules = imported(code, "token", "--tenant", "demo", env=env)
    assert out.count(".") == 2  # a JWT (test_token.py decodes them with PyJWT, as the services do)
    # HMAC signing is the standard library's: neither PyJWT nor cryptography, nor anything of the services.
    assert modules <= STARTUP | {"fairway_chassis", "fairway_schemas"}
