"""Signing a token: what `fairway token` and the tests need, without the HTTP side of auth (FastAPI).

HMAC-signed JWTs (RFC 7519 with RFC 7515's compact serialisation) are a few standard-library calls; PyJWT would
import `cryptography` for them, half of the command's start. Services verify with PyJWT (auth.py), and the tests
decode what this signs with PyJWT too.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

ROLES = ("admin", "marketer", "staff", "analyst", "service")
_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _json(value: dict[str, object]) -> bytes:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def issue_token(secret: str, *, tenant: str, roles: list[str], subject: str = "dev-user",
                ttl_seconds: int = 12 * 3600, algorithm: str = "HS256") -> str:
    now = int(time.time())
    claims = {"sub": subject, "tenant": tenant, "roles": roles, "iat": now, "exp": now + ttl_seconds}
    if algorithm not in _HMAC:  # asymmetric keys: PyJWT and cryptography
        import jwt

        return jwt.encode(claims, secret, algorithm=algorithm)
    signing_input = _json({"alg": algorithm, "typ": "JWT"}) + b"." + _json(claims)
    signature = hmac.new(secret.encode(), signing_input, _HMAC[algorithm]).digest()
    return (signing_input + b"." + _b64(signature)).decode()
