"""Keyset pagination: one opaque cursor codec and one way to cut a page, for every list endpoint.

A cursor is base64url (unpadded) of the JSON of the last item's sort key. Clients treat it as opaque; the server
checks it with the key's pydantic type, so anything it did not issue (not base64, not JSON, a key of the wrong
shape, JSON nested thousands deep) is a 422 naming the cursor, never a 500.

    PROFILES = CursorCodec(uuid.UUID)                      # once per list, next to the endpoint's schemas
    after = PROFILES.decode(cursor)                        # None for the first page; 422 if not ours
    rows = await repo.list(after=after, limit=limit + 1)   # one row more than the page, to know if there is more
    page = paginate(rows, limit, PROFILES, key=lambda r: r.id)
    return ProfilePage(items=[...page.items], nextCursor=page.next_cursor)
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from fairway_chassis.errors import Unprocessable

K = TypeVar("K")
T = TypeVar("T")

# Longer than any cursor this API issues (a timestamp and a UUID take ~90 characters); refused before decoding.
MAX_CURSOR_LENGTH = 512


class CursorCodec(Generic[K]):
    """Encodes and checks the cursors of one list, whose sort key has the pydantic type `key_type`
    (`uuid.UUID`, `int`, `tuple[AwareDatetime, uuid.UUID]`, ...)."""

    def __init__(self, key_type: Any, *, field: str = "cursor") -> None:
        self._adapter: TypeAdapter[K] = TypeAdapter(key_type)
        self.field = field

    def encode(self, key: K) -> str:
        return base64.urlsafe_b64encode(self._adapter.dump_json(key)).decode().rstrip("=")

    def decode(self, cursor: str | None) -> K | None:
        if not cursor:
            return None
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise self._refuse()
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            if b"\\u0000" in raw or b"\x00" in raw:  # no key of ours holds a NUL, and PostgreSQL refuses one
                raise ValueError("NUL in cursor")
            # pydantic's JSON parser limits nesting itself, so a deep document fails here as a ValidationError.
            return self._adapter.validate_json(raw, strict=False)
        except (ValueError, binascii.Error, ValidationError):  # UnicodeError is a ValueError
            raise self._refuse() from None

    def _refuse(self) -> Unprocessable:
        return Unprocessable("not a cursor this API returned", field=self.field)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def paginate(rows: Sequence[T], limit: int, codec: CursorCodec[K], key: Callable[[T], K]) -> Page[T]:
    """Cut `rows` (fetched with `limit + 1`) to one page; the cursor points after its last item if more follow."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return Page(items=items, next_cursor=codec.encode(key(items[-1])) if more else None)
