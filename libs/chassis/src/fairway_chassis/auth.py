"""Bearer JWT auth: the tenant in the token is the only tenant a request can touch.

HS256 with a shared secret locally; RS256 (or other asymmetric) via a JWKS URL in production.
Claims: `sub`, `tenant`, `roles` (list), `exp`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fairway_chassis.errors import Forbidden, Unauthorized
from fairway_chassis.tokens import ROLES, issue_token
from fairway_schemas.common import TENANT_ID_PATTERN

__all__ = ["ROLES", "CurrentPrincipal", "Principal", "TokenVerifier", "current_principal", "issue_token", "require_roles"]
_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant_id: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return "admin" in self.roles or bool(self.roles.intersection(roles))


class TokenVerifier:
    def __init__(self, *, secret: str | None, algorithm: str, jwks_url: str | None, audience: str | None) -> None:
        self.secret = secret
        self.algorithm = algorithm
        self.audience = audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None

    def verify(self, token: str) -> Principal:
        import re

        try:
            key = self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self.secret
            claims = jwt.decode(
                token, key, algorithms=[self.algorithm], audience=self.audience,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        tenant = claims.get("tenant") or claims.get("tenant_id")
        if not isinstance(tenant, str) or not re.fullmatch(TENANT_ID_PATTERN, tenant):
            raise Unauthorized("token carries no valid tenant")
        roles = claims.get("roles") or []
        if not isinstance(roles, list):
            raise Unauthorized("roles claim must be a list")
        return Principal(subject=str(claims["sub"]), tenant_id=tenant, roles=frozenset(map(str, roles)))


async def current_principal(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token")
    principal = request.app.state.runtime.verifier.verify(creds.credentials)
    request.state.principal = principal
    import structlog

    structlog.contextvars.bind_contextvars(tenant_id=principal.tenant_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str):  # noqa: ANN201
    """Dependency: the caller must hold one of `roles` (admin holds all). Name it once per role set in the
    service's deps.py and use the alias in endpoints:

        Reader = Annotated[Principal, require_roles("staff", "marketer", "analyst")]
        async def get_thing(principal: Reader) -> ThingOut: ...
    """

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has(*roles):
            raise Forbidden(f"requires one of the roles: {', '.join(roles)}")
        return principal

    check.checks_roles = True  # type: ignore[attr-defined]  # openapi.document_errors documents its 403

    return Depends(check)
