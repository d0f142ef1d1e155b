"""The audience read model and results' key map bootstrap from the state topics alone (campaigns.state): profiles
with their addresses and consent, segment members; an erasure tombstone removes the person's PII and keys, a
membership tombstone the member."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from fairway_events import new_event_id, registry
from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileSnapshot
from fairway_events.contracts.state import MembershipState, ProfileState
from fairway_testkit import RunningService, wait_for

T = "stonehaven"


async def _send(producer, topics, topic: str, payload, key: str) -> None:  # noqa: ANN001
    env = registry.envelope(payload, tenant_id=T, aggregate_id=key, source="identity")
    await producer.send_and_wait(topics(topic), env.to_wire(), key=key.encode())


async def _tombstone(producer, topics, topic: str, key: str) -> None:  # noqa: ANN001
    headers = {"event_id": new_event_id(), "event_type": "state.tombstone", "version": "1", "tenant_id": T}
    await producer.send_and_wait(topics(topic), None, key=key.encode(),
                                 headers=[(k, v.encode()) for k, v in headers.items()])


def _profile(pid: str, opt_in: bool) -> ProfileState:
    return ProfileState(
        profile=ProfileSnapshot(profileId=pid, status="ACTIVE", identities=Identities(email=[f"{pid}@club.example"]),
                                attributes=Attributes(firstName="Ailsa"), consent=Consent(emailOptIn=opt_in)),
        revision=1, updatedAt=datetime.now(UTC))


async def _rows(svc: RunningService, sql: str) -> list[tuple]:
    assert svc.runtime.sessionmaker is not None
    async with svc.runtime.sessionmaker() as s:
        return [tuple(r) for r in (await s.execute(text(sql), {"t": T})).all()]


async def test_state_topics_alone_build_the_audience(svc: RunningService, producer, topics) -> None:  # noqa: ANN001
    for pid, opt_in in (("p-1", True), ("p-2", False), ("p-3", True)):
        await _send(producer, topics, "crm.identity.state", _profile(pid, opt_in), pid)
        await _send(producer, topics, "crm.segmentation.state",
                    MembershipState(segmentId="seg-1", segmentName="Gold", profileId=pid,
                                    since=datetime.now(UTC)), f"seg-1:{pid}")
    await _tombstone(producer, topics, "crm.identity.state", "p-3")  # erased
    await _tombstone(producer, topics, "crm.segmentation.state", "seg-1:p-2")  # left the segment

    profiles = ("SELECT profile_id, email, email_opt_in, erased FROM dispatch_profiles WHERE tenant_id = :t "
                "ORDER BY 1")
    expected = [("p-1", "p-1@club.example", True, False), ("p-2", "p-2@club.example", False, False),
                ("p-3", None, None, True)]
    members = "SELECT profile_id FROM dispatch_segment_members WHERE tenant_id = :t ORDER BY 1"

    async def built() -> bool:
        return await _rows(svc, profiles) == expected and await _rows(svc, members) == [("p-1",)]

    await wait_for(built, what="audience from the state topics")
    keys = await _rows(svc, "SELECT key_value, profile_id FROM campaign_profile_keys WHERE tenant_id = :t ORDER BY 1")
    assert keys == [("p-1@club.example", "p-1"), ("p-2@club.example", "p-2")]
