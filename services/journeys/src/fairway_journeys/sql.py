"""One SQL helper the repositories share: membership in a list as `= ANY(array)`, so a statement compiles once and
is cached whatever the list's length (an expanding IN renders one parameter per element, every time)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def among(column: Any, values: Iterable[str]) -> Any:
    return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
