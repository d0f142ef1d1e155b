"""Tokens at rest: AES-256-GCM (authenticated encryption, `cryptography`), under rotating keys.

A ciphertext is `v1.<kid>.<base64(nonce | ciphertext+tag)>`. The additional data binds it to its tenant,
connection and field, so a ciphertext copied onto another row (or into the other token column) does not decrypt.
The first configured key encrypts; every configured key decrypts, so a rotated-out key keeps old rows readable
until they are re-encrypted (`needs_rotation`), which the connection repository does when it next reads one.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1"


class TokenDecryptError(Exception):
    """A stored token cannot be decrypted: unknown key, or tampered with or moved to another row."""


def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class TokenCipher:
    def __init__(self, keys: list[str]) -> None:
        """`keys`: "kid:base64" entries, the current key first."""
        if not keys:
            raise ValueError("at least one key")
        self._keys: dict[str, AESGCM] = {}
        for entry in keys:
            kid, _, material = entry.partition(":")
            self._keys[kid] = AESGCM(_b64d(material))
        self.current = keys[0].partition(":")[0]

    @staticmethod
    def generate_key(kid: str) -> str:
        return f"{kid}:{base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()}"

    @staticmethod
    def context(tenant_id: str, row_id: str, field: str) -> bytes:
        return f"{tenant_id}\x1f{row_id}\x1f{field}".encode()

    def encrypt(self, plaintext: str, context: bytes) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.current].encrypt(nonce, plaintext.encode(), context)
        return f"{PREFIX}.{self.current}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: bytes) -> str:
        try:
            prefix, kid, body = token.split(".", 2)
        except ValueError:
            raise TokenDecryptError("not a Fairway ciphertext") from None
        if prefix != PREFIX or kid not in self._keys:
            raise TokenDecryptError(f"no key {kid!r} configured")
        raw = _b64d(body)
        try:
            return self._keys[kid].decrypt(raw[:12], raw[12:], context).decode()
        except InvalidTag:
            raise TokenDecryptError("ciphertext does not authenticate for this row") from None

    def needs_rotation(self, token: str) -> bool:
        return token.split(".", 2)[1] != self.current if token.count(".") >= 2 else True
