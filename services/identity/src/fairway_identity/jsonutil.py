"""JSON for the hot path (orjson: the consumer encodes and decodes several documents per event)."""

from __future__ import annotations

from typing import Any

import orjson

loads = orjson.loads


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()
