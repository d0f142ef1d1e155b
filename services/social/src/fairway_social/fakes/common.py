"""What the Graph API and X API fakes share: reading a request's parameters and token, and stalling."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request


async def params(request: Request) -> dict[str, Any]:
    """Query, form (urlencoded or multipart, files as bytes) and JSON body, merged: the real APIs take all three."""
    out: dict[str, Any] = dict(request.query_params)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        raw = await request.body()
        if raw:
            body = json.loads(raw)
            if isinstance(body, dict):
                out.update(body)
    elif ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                out[key] = {"filename": value.filename, "content_type": value.content_type,
                            "size": len(await value.read())}
            else:
                out[key] = value
    return out


def bearer(request: Request, p: dict[str, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    for scheme in ("Bearer ", "OAuth "):
        if header.startswith(scheme):
            return header[len(scheme):].strip()
    value = p.get("access_token")
    return str(value) if value else None


async def stall(seconds: float) -> None:
    """A slow answer: the caller's timeout fires first (the work, if any, is already done)."""
    await asyncio.sleep(seconds)
