"""The committed JSON Schema of every registered event version, under libs/events/schemas/.

A published version never changes: `write_schemas` adds files for new versions and refuses to rewrite an
existing one; the test suite fails when a registered model no longer matches its committed schema.
"""
from __future__ import annotations

import json
from pathlib import Path

from fairway_events.registry import EventRegistry, registry

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def schema_path(event_type: str, version: int, root: Path = SCHEMA_DIR) -> Path:
    return root / event_type / f"v{version}.json"


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def diff(reg: EventRegistry = registry, root: Path = SCHEMA_DIR) -> tuple[list[str], list[str]]:
    """(missing files, changed files) for the registry against the committed schemas."""
    missing, changed = [], []
    for (event_type, version), schema in reg.json_schemas().items():
        path = schema_path(event_type, version, root)
        if not path.exists():
            missing.append(f"{event_type} v{version}")
        elif path.read_text() != render(schema):
            changed.append(f"{event_type} v{version}")
    return missing, changed


def write_schemas(reg: EventRegistry = registry, root: Path = SCHEMA_DIR) -> list[str]:
    missing, changed = diff(reg, root)
    if changed:
        raise RuntimeError(
            f"published event versions changed: {', '.join(changed)}. Add a new version with an upcaster instead."
        )
    written = []
    for (event_type, version), schema in reg.json_schemas().items():
        if f"{event_type} v{version}" in missing:
            path = schema_path(event_type, version, root)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(schema))
            written.append(str(path))
    return written
