"""One cursor codec for every list: round trips, and anything the API did not issue is a 422 naming the cursor."""
import base64
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import AwareDatetime

from fairway_chassis import CursorCodec, Unprocessable, paginate


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_round_trips_each_key_shape() -> None:
    pid = uuid.uuid4()
    assert CursorCodec(uuid.UUID).decode(CursorCodec(uuid.UUID).encode(pid)) == pid
    assert CursorCodec(int).decode(CursorCodec(int).encode(41)) == 41
    timeline = CursorCodec(tuple[AwareDatetime, uuid.UUID])
    key = (datetime(2025, 6, 1, 10, 30, tzinfo=UTC), pid)
    assert timeline.decode(timeline.encode(key)) == key
    assert CursorCodec(uuid.UUID).decode(None) is None and CursorCodec(uuid.UUID).decode("") is None


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",  # not base64
        "abc",  # base64 of bytes that are not JSON
        b64(b"{broken"),
        "Inp6eiI",  # base64 of the JSON string "zzz": JSON, but not a UUID
        b64(b"[" * 3000 + b"]" * 3000),  # nested far too deep (was a RecursionError)
        b64(b'"\\u0000"'),
        b64(b'"\\ud800"'),  # a lone surrogate
        b64(b"\xff\xfe"),
        "é" * 10,  # not ASCII
        "A" * 5000,  # longer than any cursor we issue
    ],
)
def test_refuses_what_it_did_not_issue(cursor: str) -> None:
    with pytest.raises(Unprocessable) as err:
        CursorCodec(uuid.UUID).decode(cursor)
    assert err.value.detail == [{"field": "cursor", "message": "not a cursor this API returned"}]


def test_the_field_named_is_the_callers() -> None:
    with pytest.raises(Unprocessable) as err:
        CursorCodec(int, field="query.cursor").decode("Inp6eiI")
    assert err.value.detail[0]["field"] == "query.cursor"


def test_paginate_cuts_one_page_and_points_after_its_last_item() -> None:
    codec = CursorCodec(int)
    page = paginate([1, 2, 3], 2, codec, key=lambda r: r * 10)
    assert page.items == [1, 2] and codec.decode(page.next_cursor) == 20
    last = paginate([1, 2], 2, codec, key=lambda r: r)
    assert last.items == [1, 2] and last.next_cursor is None
    assert paginate([], 5, codec, key=lambda r: r).next_cursor is None
