"""Connecting accounts: the OAuth round trip per platform against the fakes, and the state's defences."""

from __future__ import annotations

import time

from social_testing import OTHER, TENANT, USER, connect, consent, headers
from sqlalchemy import text

from fairway_social.fakes.server import FakePlatformsServer
from fairway_testkit.helpers import RunningService


async def test_facebook_round_trip_stores_the_page_with_a_long_lived_page_token(social: RunningService,
                                                                                 fakes: FakePlatformsServer) -> None:
    r = await connect(social, fakes, "facebook")
    assert r.status_code == 200, r.text
    [conn] = r.json()["connections"]
    assert conn["platform"] == "FACEBOOK" and conn["accountId"] == "104857600123456"
    assert conn["accountName"] == "Stonehaven Golf Club" and conn["status"] == "ACTIVE"
    assert "pages_manage_posts" in conn["scopes"]
    assert conn["tokenExpiresAt"] is None  # page tokens from a long-lived user token do not expire
    # the code was exchanged, then the short-lived user token for a long-lived one
    grants = [c["grant"] for c in fakes.state.calls if c["op"] == "token"]
    assert grants == ["authorization_code", "fb_exchange_token"]
    listed = (await social.http.get("/api/v1/social/connections", headers=headers())).json()["items"]
    assert [c["id"] for c in listed] == [conn["id"]]
    # no token in the response, and none stored in clear
    page_tokens = [t.value for t in fakes.state.tokens.values() if t.kind == "page"]
    assert page_tokens and not any(tok in r.text for tok in page_tokens)
    async with social.runtime.sessionmaker() as session:  # type: ignore[misc]
        stored = (await session.execute(text("SELECT access_token FROM connections"))).scalar_one()
    assert stored.startswith("v1.k1.") and not any(tok in stored for tok in page_tokens)


async def test_instagram_round_trip_stores_the_business_account(social: RunningService,
                                                                fakes: FakePlatformsServer) -> None:
    r = await connect(social, fakes, "instagram")
    assert r.status_code == 200, r.text
    [conn] = r.json()["connections"]
    assert conn["platform"] == "INSTAGRAM" and conn["accountId"] == "17841400000000001"
    assert conn["handle"] == "stonehavengolf"
    assert "instagram_content_publish" in conn["scopes"]


async def test_x_round_trip_uses_pkce_and_keeps_the_refresh_token(social: RunningService,
                                                                   fakes: FakePlatformsServer) -> None:
    r = await social.http.post("/api/v1/social/connections/x/authorize", headers=headers())
    url = r.json()["authorizationUrl"]
    assert "code_challenge_method=S256" in url and "code_challenge=" in url
    back = await consent(url)
    r = await social.http.post("/api/v1/social/connections/x/callback", headers=headers(),
                               json={"code": back["code"], "state": back["state"]})
    assert r.status_code == 200, r.text
    [conn] = r.json()["connections"]
    assert conn["platform"] == "X" and conn["handle"] == "stonehavengolf"
    assert conn["tokenExpiresAt"] is not None
    async with social.runtime.sessionmaker() as session:  # type: ignore[misc]
        refresh = (await session.execute(text("SELECT refresh_token FROM connections"))).scalar_one()
    assert refresh is not None and refresh.startswith("v1.k1.")


async def test_a_replayed_state_is_refused(social: RunningService, fakes: FakePlatformsServer) -> None:
    r = await social.http.post("/api/v1/social/connections/x/authorize", headers=headers())
    back = await consent(r.json()["authorizationUrl"])
    first = await social.http.post("/api/v1/social/connections/x/callback", headers=headers(), json=back)
    assert first.status_code == 200, first.text
    again = await social.http.post("/api/v1/social/connections/x/callback", headers=headers(), json=back)
    assert again.status_code == 400 and "already used" in again.json()["detail"]


async def test_forged_foreign_and_expired_states_are_refused(social: RunningService,
                                                             fakes: FakePlatformsServer) -> None:
    r = await social.http.post("/api/v1/social/connections/facebook/authorize", headers=headers())
    back = await consent(r.json()["authorizationUrl"])
    nonce, _, sig = back["state"].partition(".")
    forged = await social.http.post("/api/v1/social/connections/facebook/callback", headers=headers(),
                                    json={"code": back["code"], "state": f"{nonce}.{sig[:-2]}AA"})
    assert forged.status_code == 400 and "not issued" in forged.json()["detail"]
    other_tenant = await social.http.post("/api/v1/social/connections/facebook/callback",
                                          headers=headers(tenant=OTHER), json=back)
    assert other_tenant.status_code == 400
    other_user = await social.http.post("/api/v1/social/connections/facebook/callback",
                                        headers=headers(user="greenkeeper@stonehavengolf.co.uk"), json=back)
    assert other_user.status_code == 403
    # none of those used it up: its owner still can
    ok = await social.http.post("/api/v1/social/connections/facebook/callback", headers=headers(), json=back)
    assert ok.status_code == 200, ok.text

    r = await social.http.post("/api/v1/social/connections/facebook/authorize", headers=headers())
    back = await consent(r.json()["authorizationUrl"])
    async with social.runtime.sessionmaker() as session, session.begin():  # type: ignore[misc]
        await session.execute(text("UPDATE oauth_states SET expires_at = now() - interval '1 second' "
                                   "WHERE used_at IS NULL"))
    # the signature covers the expiry: moving it in the database makes the state forged, not merely expired
    expired = await social.http.post("/api/v1/social/connections/facebook/callback", headers=headers(), json=back)
    assert expired.status_code == 400


async def test_an_expired_state_is_refused(social_settings, fakes: FakePlatformsServer) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from fairway_chassis import ManualClock
    from fairway_social.app import create_app
    from fairway_testkit.helpers import run_service

    clock = ManualClock(datetime.now(UTC))
    async with run_service(create_app(social_settings(state_ttl_seconds=60), clock=clock)) as svc:
        r = await svc.http.post("/api/v1/social/connections/facebook/authorize", headers=headers())
        back = await consent(r.json()["authorizationUrl"])
        clock.advance(timedelta(seconds=61))
        late = await svc.http.post("/api/v1/social/connections/facebook/callback", headers=headers(), json=back)
        assert late.status_code == 400 and "expired" in late.json()["detail"]


async def test_missing_scopes_are_reported_at_connect_time(social: RunningService, fakes: FakePlatformsServer) -> None:
    await fakes.control("consent", {"platform": "x", "scopes": ["tweet.read", "users.read", "offline.access"]})
    r = await connect(social, fakes, "x")
    assert r.status_code == 422, r.text
    [problem] = r.json()["detail"]
    assert problem["field"] == "scopes" and problem["platform"] == "X"
    assert set(problem["missing"]) == {"tweet.write", "media.write"}
    listed = (await social.http.get("/api/v1/social/connections", headers=headers())).json()["items"]
    assert listed == []


async def test_connections_are_per_tenant(social: RunningService, fakes: FakePlatformsServer) -> None:
    mine = (await connect(social, fakes, "facebook")).json()["connections"][0]
    theirs = (await social.http.get("/api/v1/social/connections", headers=headers(tenant=OTHER))).json()["items"]
    assert theirs == []
    gone = await social.http.delete(f"/api/v1/social/connections/{mine['id']}", headers=headers(tenant=OTHER))
    assert gone.status_code == 404
    assert (await social.http.get("/api/v1/social/connections", headers=headers())).json()["items"][0]["id"] == \
        mine["id"]
    assert TENANT != OTHER and USER and time.time()
