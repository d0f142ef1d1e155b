"""`fairway reannounce`: every owning service republishes its current snapshots on its compacted state topic.

Tansu neither compacts nor keeps anything across a restart, and a new reader may need every snapshot: each owner
raises the flag of each of the tenant's rows (`POST /api/v1/admin/state/reannounce`) and its state publisher
announces them from its own database; the rows still flagged (`GET /api/v1/admin/state`) are the progress.
Idempotent for readers: a snapshot replaces the one before it.
"""
from __future__ import annotations

import time

import httpx

# The services whose state others mirror, and the state topic each owns.
OWNERS = ("identity", "timeline", "segmentation", "ml-scoring")


def reannounce(tenant: str, urls: dict[str, str], token: str, *, timeout: float = 600, progress: bool = True) -> int:
    """Reannounce every snapshot of `tenant` on the owners in `urls` (service -> base URL); the rows announced."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30, headers=headers) as http:
        flagged = 0
        for url in urls.values():
            r = http.post(f"{url}/api/v1/admin/state/reannounce")
            r.raise_for_status()
            flagged += sum(r.json()["topics"].values())
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=flagged, unit="snapshot", desc=f"reannouncing {tenant}")
        deadline = time.monotonic() + timeout
        try:
            while True:
                pending = sum(sum(http.get(f"{url}/api/v1/admin/state").json()["topics"].values())
                              for url in urls.values())
                if bar is not None:
                    bar.n = flagged - min(pending, flagged)
                    bar.refresh()
                if pending == 0:
                    return flagged
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{pending} snapshots of {tenant} still unannounced after {timeout:g} s")
                time.sleep(0.5)
        finally:
            if bar is not None:
                bar.close()
