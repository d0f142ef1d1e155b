"""Types shared by several Fairway services."""
from fairway_schemas.common import TENANT_ID_PATTERN, IdentityHints, Money, TenantId

__all__ = ["TENANT_ID_PATTERN", "IdentityHints", "Money", "TenantId"]
