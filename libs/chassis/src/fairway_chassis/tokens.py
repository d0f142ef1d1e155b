"""Signing a token: what `fairway token` and the tests need, without the HTTP side of auth (FastAPI)."""
from __future__ import annotations

import time

import jwt

ROLES = ("admin", "marketer", "staff", "analyst", "service")


def issue_token(secret: str, *, tenant: str, roles: list[str], subject: str = "dev-user",
                ttl_seconds: int = 12 * 3600, algorithm: str = "HS256") -> str:
    now = int(time.time())
    return jwt.encode({"sub": subject, "tenant": tenant, "roles": roles, "iat": now, "exp": now + ttl_seconds},
                      secret, algorithm=algorithm)
