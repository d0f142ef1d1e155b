"""What a tenant id looks like, as a plain pattern (no pydantic), for code that only checks one (the CLI)."""

TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
