"""Types shared by several Fairway services.

Exports are imported on first use (PEP 562): `fairway_schemas.tenant` alone costs no pydantic.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fairway_schemas.common import TENANT_ID_PATTERN, IdentityHints, Money, TenantId

_EXPORTS = {"TENANT_ID_PATTERN": "fairway_schemas.tenant", "IdentityHints": "fairway_schemas.common",
            "Money": "fairway_schemas.common", "TenantId": "fairway_schemas.common"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["TENANT_ID_PATTERN", "IdentityHints", "Money", "TenantId"]
