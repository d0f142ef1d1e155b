"""Dispatch inside the running campaigns service: the settings API (tenant-scoped, role-checked, 4xx naming the
field), and a held message released by the service's own procrastinate worker when its time comes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch_helpers import request, snapshot  # type: ignore[import-not-found]
from sqlalchemy import text

from fairway_campaigns.audience.handlers import AudienceHandler
from fairway_campaigns.dispatch.policy import DispatchSettings
from fairway_events import Delivery, registry
from fairway_testkit import RunningService, auth_headers, wait_for

URL = "/api/v1/dispatch/settings"
CLUB, OTHER = "stonehaven", "fairwaygolf"


async def test_settings_are_per_tenant_and_role_checked(svc: RunningService) -> None:
    http = svc.http
    r = await http.get(URL, headers=auth_headers(CLUB, ["analyst"]))
    assert r.status_code == 200 and r.json() == DispatchSettings().model_dump(mode="json")
    body = {"defaultTimeZone": "Europe/London", "quietHours": {"EMAIL": {"start": "20:30:00", "end": "08:00:00"}},
            "caps": {"EMAIL": {"perDay": 1, "perWeek": 3}, "SMS": {"perDay": 1}}, "controlGroupShare": 0.1,
            "maxLatenessHours": 4}
    r = await http.put(URL, json=body, headers=auth_headers(CLUB, ["analyst"]))
    assert r.status_code == 403 and r.json()["error"] == "Forbidden"
    r = await http.put(URL, json=body)
    assert r.status_code == 401
    r = await http.put(URL, json=body, headers=auth_headers(CLUB, ["marketer"]))
    assert r.status_code == 200 and r.json()["quietHours"] == {"EMAIL": {"start": "20:30:00", "end": "08:00:00"}}
    assert (await http.get(URL, headers=auth_headers(CLUB, ["staff"]))).json()["controlGroupShare"] == 0.1
    # Another club still has the defaults; it cannot read or change this one's.
    assert (await http.get(URL, headers=auth_headers(OTHER, ["marketer"]))).json()["controlGroupShare"] == 0.05
    for bad, field in (({**body, "defaultTimeZone": "Europe/Atlantis"}, "body.defaultTimeZone"),
                       ({**body, "controlGroupShare": 2}, "body.controlGroupShare"),
                       ({**body, "caps": {"FAX": {"perDay": 1}}}, "body.caps.FAX.[key]"),
                       ({**body, "maxLatenessHours": 0}, "body.maxLatenessHours")):
        r = await http.put(URL, json=bad, headers=auth_headers(CLUB, ["admin"]))
        assert r.status_code == 422 and r.json()["error"] == "ValidationError"
        assert r.json()["detail"][0]["field"] == field, r.json()


async def test_the_service_worker_releases_a_held_message_at_its_time(svc: RunningService) -> None:
    rt = svc.runtime
    assert rt.sessionmaker is not None
    async with rt.sessionmaker() as session:
        await rt.state.dispatch.save_settings(session, CLUB, DispatchSettings(quietHours={}, caps={},
                                                                                controlGroupShare=0), rt.state.clock.now(), "t")
        env = registry.envelope(snapshot("p-100"), tenant_id=CLUB, aggregate_id="p-100", source="identity")
        await AudienceHandler()(session, [Delivery(env, {})])
        at = datetime.now(UTC) + timedelta(seconds=2)
        got = await rt.state.dispatch.submit_many(session, CLUB, [request("p-100", not_before=at)], datetime.now(UTC))
        await session.commit()
    assert got[0].outcome == "HELD"

    async def sent() -> int:
        async with rt.sessionmaker() as session:
            return (await session.execute(text(
                "SELECT count(*) FROM event_outbox WHERE event_type = 'messaging.send.requested' "
                "AND published_at IS NOT NULL"))).scalar_one()

    await wait_for(sent, timeout=60, what="the release job to send the held message")
    async with rt.sessionmaker() as session:
        status, = (await session.execute(text("SELECT status FROM dispatch_ledger WHERE request_id = :r"),
                                         {"r": got[0].request_id})).one()
    assert status == "REQUESTED" and datetime.now(UTC) >= at
