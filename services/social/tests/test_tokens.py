"""Tokens: encrypted at rest under rotating keys, refreshed under a row lock, and a revoked one holds its posts
(with the reason) until the account is reconnected; a transient error never disconnects."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from social_testing import TENANT, connect, connected, headers, statuses, wait_post
from sqlalchemy import text

from fairway_social.app import create_app
from fairway_social.connections.service import access_token
from fairway_social.crypto import TokenCipher, TokenDecryptError
from fairway_social.fakes.server import FakePlatformsServer
from fairway_social.settings import Settings
from fairway_testkit.helpers import RunningService, run_service

POSTS = "/api/v1/social/posts"


def test_cipher_binds_ciphertexts_to_their_row_and_reads_old_keys() -> None:
    k1, k2 = TokenCipher.generate_key("k1"), TokenCipher.generate_key("k2")
    old = TokenCipher([k1])
    ctx = TokenCipher.context("stonehaven", "c1", "access")
    sealed = old.encrypt("EAAG-page-token", ctx)
    assert "EAAG" not in sealed and sealed.startswith("v1.k1.")
    rotated = TokenCipher([k2, k1])
    assert rotated.decrypt(sealed, ctx) == "EAAG-page-token"
    assert rotated.needs_rotation(sealed) and not rotated.needs_rotation(rotated.encrypt("x", ctx))
    with pytest.raises(TokenDecryptError):  # moved to another row
        rotated.decrypt(sealed, TokenCipher.context("stonehaven", "c2", "access"))
    with pytest.raises(TokenDecryptError):  # moved to the other column
        rotated.decrypt(sealed, TokenCipher.context("stonehaven", "c1", "refresh"))
    with pytest.raises(TokenDecryptError):  # another tenant
        rotated.decrypt(sealed, TokenCipher.context("fairwaygolf", "c1", "access"))
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(TokenDecryptError):
        rotated.decrypt(tampered, ctx)
    with pytest.raises(TokenDecryptError):  # its key was retired
        TokenCipher([k2]).decrypt(sealed, ctx)


async def _stored(svc: RunningService) -> tuple[str, str | None]:
    async with svc.runtime.sessionmaker() as session:  # type: ignore[misc]
        row = (await session.execute(text("SELECT access_token, refresh_token FROM connections"))).one()
    return row[0], row[1]


async def test_key_rotation_reads_old_ciphertexts_and_reencrypts_them_lazily(
        social_settings: Callable[..., Settings], fakes: FakePlatformsServer) -> None:
    k1, k2 = TokenCipher.generate_key("k1"), TokenCipher.generate_key("k2")
    async with run_service(create_app(social_settings(token_keys=[k1]))) as svc:
        cid = (await connected(svc, fakes, "x"))["x"]
        before = await _stored(svc)
    assert before[0].startswith("v1.k1.") and before[1] and before[1].startswith("v1.k1.")
    async with run_service(create_app(social_settings(token_keys=[k2, k1]))) as svc:
        assert (await _stored(svc)) == before  # nothing rewritten until read
        _, token = await access_token(svc.runtime.sessionmaker, svc.runtime.state, TENANT, uuid.UUID(cid))
        assert fakes.state.tokens[token].live(datetime.now(UTC).timestamp())
        after = await _stored(svc)
        assert after[0].startswith("v1.k2.") and after[1] and after[1].startswith("v1.k2.")
    async with run_service(create_app(social_settings(token_keys=[k2]))) as svc:  # k1 retired
        post = (await svc.http.post(POSTS, headers=headers(), json={"connectionIds": [cid], "text": "Rotated."})).json()
        await svc.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
        await wait_post(svc, post["id"], lambda p: p["status"] == "PUBLISHED")


async def test_concurrent_refreshes_of_a_rotating_x_token_keep_the_chain(social: RunningService,
                                                                         fakes: FakePlatformsServer) -> None:
    cid = uuid.UUID((await connected(social, fakes, "x"))["x"])
    async with social.runtime.sessionmaker() as session, session.begin():  # type: ignore[misc]
        await session.execute(text("UPDATE connections SET expires_at = now() + interval '10 seconds'"))
    results = await asyncio.gather(*[access_token(social.runtime.sessionmaker, social.runtime.state, TENANT, cid)
                                     for _ in range(4)])
    tokens = {tok for _, tok in results}
    assert len(tokens) == 1  # everyone got the one fresh token
    refreshes = [c for c in fakes.state.calls if c["platform"] == "x" and c["op"] == "refresh"]
    assert len(refreshes) == 1 and refreshes[0]["valid"]
    # the stored refresh token is the new one: the chain goes on
    async with social.runtime.sessionmaker() as session, session.begin():  # type: ignore[misc]
        await session.execute(text("UPDATE connections SET expires_at = now() + interval '10 seconds'"))
    _, again = await access_token(social.runtime.sessionmaker, social.runtime.state, TENANT, cid)
    assert again not in tokens
    assert [c["valid"] for c in fakes.state.calls if c["op"] == "refresh"] == [True, True]


async def test_a_revoked_token_holds_posts_with_the_reason_until_reconnected(social: RunningService,
                                                                             fakes: FakePlatformsServer) -> None:
    conns = await connected(social, fakes, "facebook", "x")
    await fakes.control("tokens/revoke", {"platform": "facebook"})
    post = (await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": list(conns.values()), "text": "Halfway house menu for the winter."})).json()
    await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
    held = await wait_post(social, post["id"], lambda p: statuses(p) == {"FACEBOOK": "WAITING", "X": "PUBLISHED"})
    fb = next(t for t in held["targets"] if t["platform"] == "FACEBOOK")
    assert "must be reconnected" in fb["waitReason"] and "password" in fb["waitReason"]
    listed = {c["platform"]: c for c in (await social.http.get("/api/v1/social/connections",
                                                               headers=headers())).json()["items"]}
    assert listed["FACEBOOK"]["status"] == "NEEDS_RECONNECT" and "password" in listed["FACEBOOK"]["statusReason"]
    assert listed["FACEBOOK"]["waitingPosts"] == 1
    assert listed["X"]["status"] == "ACTIVE"
    async with social.runtime.sessionmaker() as session:  # type: ignore[misc]
        events = (await session.execute(text("SELECT body FROM event_outbox WHERE event_type = "
                                             "'social.connection.needs_reconnect'"))).scalars().all()
    assert len(events) == 1 and "password" in events[0]
    # a post scheduled meanwhile says why it waits
    later = (await social.http.post(POSTS, headers=headers(), json={
        "connectionIds": [conns["facebook"]], "text": "Winter league starts.",
        "scheduledAt": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()})).json()
    assert statuses(later) == {"FACEBOOK": "WAITING"} and later["targets"][0]["waitReason"]
    # reconnecting releases everything that waited: nothing lost, nothing doubled
    r = await connect(social, fakes, "facebook")
    assert r.status_code == 200 and r.json()["connections"][0]["id"] == conns["facebook"]
    await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED")
    await wait_post(social, later["id"], lambda p: p["status"] == "PUBLISHED")
    assert sorted(p.text for p in fakes.state.posts_of("facebook")) == [
        "Halfway house menu for the winter.", "Winter league starts."]
    assert len(fakes.state.posts_of("x")) == 1


async def test_a_transient_refresh_error_never_disconnects(social: RunningService, fakes: FakePlatformsServer) -> None:
    cid = (await connected(social, fakes, "x"))["x"]
    async with social.runtime.sessionmaker() as session, session.begin():  # type: ignore[misc]
        await session.execute(text("UPDATE connections SET expires_at = now() + interval '10 seconds'"))
    await fakes.control("faults", {"platform": "x", "op": "refresh", "kind": "server_error"})
    post = (await social.http.post(POSTS, headers=headers(), json={"connectionIds": [cid],
                                                                   "text": "Pro shop sale."})).json()
    await social.http.post(f"{POSTS}/{post['id']}/publish-now", headers=headers())
    retrying = await wait_post(social, post["id"], lambda p: (p["targets"][0]["waitReason"] or "").startswith(
        "retrying"))
    assert statuses(retrying) == {"X": "SCHEDULED"}
    conn = (await social.http.get("/api/v1/social/connections", headers=headers())).json()["items"][0]
    assert conn["status"] == "ACTIVE"
    assert fakes.state.faults == []  # the refresh was tried, and met the 5xx
    await wait_post(social, post["id"], lambda p: p["status"] == "PUBLISHED", timeout=30)
