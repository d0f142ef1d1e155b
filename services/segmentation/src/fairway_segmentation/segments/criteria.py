"""Segment criteria as the API takes them: parsed against the read model's field catalogue, with the warnings a
preview shows."""

from __future__ import annotations

from typing import Any

from fairway_schemas.criteria import Group, check_criteria
from fairway_segmentation.errors import InvalidCriteria
from fairway_segmentation.readmodel.fields import CATALOGUE


def parse_criteria(raw: Any, prefix: str = "criteria") -> Group:
    group, errors = check_criteria(raw, CATALOGUE)
    if errors or group is None:
        raise InvalidCriteria(errors, prefix)
    return group


def criteria_warnings(group: Group, size: int, empty_fields: list[str]) -> list[str]:
    warnings = []
    if not group.rules:
        warnings.append("These criteria have no rules, so they match every profile.")
    for f in empty_fields:
        warnings.append(
            f"No profile has a value for {f} yet ({CATALOGUE[f].source} fills it), so rules on it "
            "only match through isNull or a negative operator."
        )
    if size == 0:
        warnings.append("No profile matches these criteria right now.")
    return warnings
