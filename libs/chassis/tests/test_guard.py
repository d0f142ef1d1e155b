"""Hostile input stops at the door as a 4xx naming the part at fault; an unexpected failure is one log line, a 500
and `Connection: close`. The endpoints below write what they get to PostgreSQL, so anything the guard let
through that PostgreSQL refuses would show up as a 500."""
import json
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from fairway_chassis import CurrentPrincipal, ServiceDefinition, ServiceSettings, SessionDep, create_service
from fairway_chassis.guard import Refused, check_json_body
from fairway_testkit import auth_headers, run_service

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "campaigns" / "migrations"
H = auth_headers("fairwaygolf", ["staff"])


class GuardSettings(ServiceSettings):
    service_name: ClassVar[str] = "guarddemo"
    default_port: ClassVar[int] = 8998


class Note(BaseModel):
    title: str
    tags: list[str] = []
    extra: dict = {}


router = APIRouter(prefix="/api/v1/notes")


@router.post("")
async def add(note: Note, session: SessionDep, principal: CurrentPrincipal) -> dict:
    texts = [note.title, *note.tags, json.dumps(note.extra)]
    echoed = [(await session.execute(text("SELECT CAST(:t AS text)"), {"t": t})).scalar() for t in texts]
    return {"stored": len(echoed)}


@router.get("/{name}")
async def find(name: str, session: SessionDep, principal: CurrentPrincipal, q: str = "") -> dict:
    row = (await session.execute(text("SELECT CAST(:n AS text) || CAST(:q AS text)"), {"n": name, "q": q})).scalar()
    return {"found": row}


@router.get("/boom/now")
async def boom(principal: CurrentPrincipal) -> dict:
    raise RuntimeError("an endpoint bug")


def make_app(settings_for):  # noqa: ANN001, ANN201
    settings = settings_for(GuardSettings, max_body_bytes=64 * 1024)
    return create_service(ServiceDefinition(name="guarddemo", settings=settings, migrations_dir=MIGRATIONS,
                                            routers=[router]))


def nested(depth: int) -> str:
    return '{"title": "x", "extra": {"a": ' + "[" * depth + "]" * depth + "}}"


@pytest.mark.parametrize(("body", "field"), [
    ('{"title": "Tee\\u0000 time"}', "body.title"),
    ('{"title": "ok", "tags": ["a", "b\\ud800"]}', "body.tags.1"),
    ('{"title": "ok", "extra": {"k\\u0000": 1}}', "body.extra.'k\\x00'"),
    ('{"title": "ok", "extra": {"deep": [[{"x": "\\uDFFF"}]]}}', "body.extra.deep.0.0.x"),
    (nested(3000), "body.extra.a" + ".0" * 30),
])
def test_check_json_body_names_the_path(body: str, field: str) -> None:
    with pytest.raises(Refused) as err:
        check_json_body(body.encode())
    assert err.value.status == 422 and err.value.detail[0]["field"] == field


def test_check_json_body_lets_ordinary_and_tricky_but_valid_bodies_through() -> None:
    check_json_body(b'{"title": "Stonehaven \\ud83c\\udfcc", "tags": ["\\\\u0000 is text here"]}')
    check_json_body(nested(20).encode())
    check_json_body(b"{broken")  # malformed JSON is FastAPI's to report, at its position


async def test_hostile_input_is_a_4xx_naming_the_field(settings_for) -> None:  # noqa: ANN001
    async with run_service(make_app(settings_for)) as svc:
        http = svc.http

        async def post(content: bytes, **headers: str):  # noqa: ANN202
            return await http.post("/api/v1/notes", content=content,
                                   headers={**H, "content-type": "application/json", **headers})

        ok = await post(b'{"title": "Stonehaven \\ud83c\\udfcc", "tags": ["vip"]}')
        assert ok.status_code == 200 and ok.json() == {"stored": 3}

        for body, field in [('{"title": "a\\u0000b"}', "body.title"), ('{"title": "\\udc80"}', "body.title"),
                            (nested(3000), "body.extra.a" + ".0" * 30), (nested(490), "body.extra.a" + ".0" * 30)]:
            r = await post(body.encode())
            assert r.status_code == 422, r.text
            assert r.json() == {"error": "ValidationError", "detail": [
                {"field": field, "message": r.json()["detail"][0]["message"]}]}
        r = await post(b'{"title": "caf\xe9"}')  # Latin-1, not UTF-8
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body"
        r = await post(b"{broken")
        assert r.status_code == 422 and r.json()["detail"][0]["field"].startswith("body")

        big = json.dumps({"title": "x" * (70 * 1024)}).encode()
        r = await post(big)
        assert r.status_code == 413 and r.json()["error"] == "PayloadTooLarge"

        async def chunks():  # noqa: ANN202  # no Content-Length: the guard counts as it reads
            for _ in range(70):
                yield b" " * 1024

        r = await http.post("/api/v1/notes", content=chunks(), headers={**H, "content-type": "application/json"})
        assert r.status_code == 413

        r = await http.get("/api/v1/notes/ann", params={"q": "a\x00"}, headers=H)
        assert r.status_code == 422 and r.json()["detail"] == [
            {"field": "query.q", "message": "must not contain NUL characters"}]
        r = await http.get("/api/v1/notes/an%00n", headers=H)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "path.name"
        r = await http.get("/api/v1/notes/ann", params={"q": "é"}, headers=H)
        assert r.status_code == 200 and r.json() == {"found": "anné"}

        spec = (await http.get("/openapi.json")).json()
        post_responses = spec["paths"]["/api/v1/notes"]["post"]["responses"]
        assert {"401", "413", "422"} <= set(post_responses) and "403" not in post_responses
        assert "413" not in spec["paths"]["/api/v1/notes/{name}"]["get"]["responses"]


async def test_a_500_is_logged_once_and_closes_the_connection(settings_for, capfd) -> None:  # noqa: ANN001
    async with run_service(make_app(settings_for)) as svc:
        capfd.readouterr()
        r = await svc.http.get("/api/v1/notes/boom/now", headers=H)
        assert r.status_code == 500 and r.json() == {"error": "InternalError", "detail": "internal error"}
        assert r.headers["connection"] == "close"
        err = capfd.readouterr().err
        assert err.count("an endpoint bug") >= 1 and err.count("Traceback") == 1, err
        assert (await svc.http.get("/api/v1/notes/ann", headers=H)).status_code == 200  # the app carries on
