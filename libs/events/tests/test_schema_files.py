from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from fairway_events.registry import EventRegistry
from fairway_events.schema_files import diff, write_schemas


def test_every_registered_version_has_its_committed_schema_unchanged() -> None:
    missing, changed = diff()
    assert not missing, f"schemas not committed (run `fairway schemas write`): {missing}"
    assert not changed, f"published schemas changed (add a new version instead): {changed}"


class V1(BaseModel):
    model_config = ConfigDict(frozen=True)
    a: int


class V1Changed(BaseModel):
    model_config = ConfigDict(frozen=True)
    a: str


def test_a_changed_published_version_is_detected_and_never_rewritten(tmp_path: Path) -> None:
    reg = EventRegistry()
    reg.register("thing.happened", 1, V1, "crm.identity")
    assert write_schemas(reg, tmp_path)
    changed_reg = EventRegistry()
    changed_reg.register("thing.happened", 1, V1Changed, "crm.identity")
    assert diff(changed_reg, tmp_path) == ([], ["thing.happened v1"])
    with pytest.raises(RuntimeError, match="changed"):
        write_schemas(changed_reg, tmp_path)
