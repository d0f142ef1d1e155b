"""The audience read models' consumer: crm.identity, crm.segmentation and crm.scoring, one transaction per batch;
and the snapshots and tombstones of crm.identity.state and crm.segmentation.state (the state consumer), which
bootstrap the same rows.

A batch is applied in rounds: round k holds the k-th event of each person (or membership) in the batch, so one
person's events apply in their order while everyone else's are written together, one statement per event type.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.audience.repository import AudienceRepository
from fairway_events import Delivery, Envelope
from fairway_events.contracts.identity import (
    ProfileConsentChanged,
    ProfileCreated,
    ProfileErased,
    ProfileIdentityLinked,
    ProfileMerged,
    ProfileSnapshot,
    ProfileUnmerged,
    ProfileUpdated,
)
from fairway_events.contracts.scoring import SendTimeProfileUpdated
from fairway_events.contracts.segmentation import SegmentMemberEntered, SegmentMemberExited
from fairway_events.contracts.state import MembershipState, ProfileState, StateTombstone

CONSUMER = "campaigns.audience"
TOPICS = ["crm.identity", "crm.segmentation", "crm.scoring"]
HANDLED = {
    "profile.created", "profile.updated", "profile.identity_linked", "profile.consent_changed", "profile.merged",
    "profile.unmerged", "profile.erased", "segment.member_entered", "segment.member_exited",
    "send_time.profile_updated",
}
STATE_TOPICS = ["crm.identity.state", "crm.segmentation.state"]
# Live profile events raise the version a profile snapshot must beat (memberships are keyed by segment there).
LIVE_STATE = {"crm.identity": "crm.identity.state"}
_ADDRESS_KEYS = {"email": "email", "phoneNumber": "phone_number", "messagingContactId": "messaging_contact_id"}


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def snapshot_row(p: ProfileSnapshot, time_zone: str | None = None) -> dict[str, Any]:
    ids, c = p.identities, p.consent
    return {
        "profile_id": p.profileId, "status": p.status,
        "email": ids.email[0] if ids.email else None,
        "phone_number": ids.phoneNumber[0] if ids.phoneNumber else None,
        "messaging_contact_id": ids.messagingContactId[0] if ids.messagingContactId else None,
        "email_opt_in": c.emailOptIn, "sms_opt_in": c.smsOptIn, "push_opt_in": c.pushOptIn,
        "ai_consent": c.aiMarketingConsent, "time_zone": time_zone,
    }


def _patch(profile_id: str, **fields: Any) -> dict[str, Any]:
    return {"profile_id": profile_id, "status": None, "set_addresses": False, "set_consent": False,
            "time_zone": None, **fields}


def _keys(e: Envelope) -> tuple[str, ...]:
    p = e.payload
    if isinstance(p, ProfileMerged):
        return (p.winnerId, p.loserId)
    if isinstance(p, ProfileUnmerged):
        return (p.profileId, p.restoredId)
    if isinstance(p, SegmentMemberEntered | SegmentMemberExited | MembershipState):
        return (f"{p.segmentId}\x1f{p.profileId}",)
    if isinstance(p, ProfileState):
        return (p.profile.profileId,)
    if isinstance(p, StateTombstone):
        return (p.key.replace(":", "\x1f", 1) if p.topic == "crm.segmentation.state" else p.key,)
    return (getattr(p, "profileId", e.aggregate_id),)


def rounds(events: Iterable[Envelope]) -> list[list[Envelope]]:
    """Round k: the events that are the k-th of each of their keys (an event with two keys waits for both)."""
    seen: dict[str, int] = defaultdict(int)
    out: list[list[Envelope]] = []
    for e in events:
        keys = _keys(e)
        k = max(seen[key] for key in keys)
        for key in keys:
            seen[key] = k + 1
        while len(out) <= k:
            out.append([])
        out[k].append(e)
    return out


class AudienceHandler:
    """BatchHandler: applies each tenant's events of the batch through its repository."""

    types = HANDLED

    def __init__(self, clock_now: Callable[[], datetime] | None = None) -> None:
        self.now = clock_now or (lambda: datetime.now(UTC))

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        by_tenant: dict[str, list[Envelope]] = defaultdict(list)
        for d in deliveries:
            by_tenant[d.envelope.tenant_id].append(d.envelope)
        for tenant, events in by_tenant.items():
            repo = AudienceRepository(session, tenant)
            for batch in rounds(events):
                await self._apply(repo, batch)

    async def _apply(self, repo: AudienceRepository, events: list[Envelope]) -> None:
        now = self.now()
        snapshots: list[dict[str, Any]] = []
        patches: list[dict[str, Any]] = []
        erased: list[str] = []
        entered: list[dict[str, Any]] = []
        exited: list[dict[str, Any]] = []
        send_times: list[dict[str, Any]] = []
        for e in events:
            p = e.payload
            if isinstance(p, ProfileCreated):
                snapshots.append(snapshot_row(p.profile))
            elif isinstance(p, ProfileMerged):
                snapshots.append(snapshot_row(p.winner))
                patches.append(_patch(p.loserId, status="MERGED"))
            elif isinstance(p, ProfileUnmerged):
                snapshots += [snapshot_row(p.profile), snapshot_row(p.restored)]
            elif isinstance(p, ProfileUpdated):
                patches.append(self._update(p))
            elif isinstance(p, ProfileIdentityLinked):
                if p.keyType in _ADDRESS_KEYS:  # fills an empty address; the first one linked stays primary
                    patches.append(_patch(p.profileId, **{_ADDRESS_KEYS[p.keyType]: p.value}))
            elif isinstance(p, ProfileConsentChanged):
                c = p.consent
                patches.append(_patch(p.profileId, set_consent=True, email_opt_in=c.emailOptIn,
                                      sms_opt_in=c.smsOptIn, push_opt_in=c.pushOptIn,
                                      ai_consent=c.aiMarketingConsent))
            elif isinstance(p, ProfileErased):
                erased.append(p.profileId)
            elif isinstance(p, SegmentMemberEntered):
                entered.append({"segment_id": p.segmentId, "profile_id": p.profileId, "at": p.at.isoformat()})
            elif isinstance(p, SegmentMemberExited):
                exited.append({"segment_id": p.segmentId, "profile_id": p.profileId})
            elif isinstance(p, ProfileState):
                if p.mergedInto is None:
                    snapshots.append(snapshot_row(p.profile))
                else:
                    patches.append(_patch(p.profile.profileId, status="MERGED"))
            elif isinstance(p, MembershipState):
                entered.append({"segment_id": p.segmentId, "profile_id": p.profileId, "at": p.since.isoformat()})
            elif isinstance(p, StateTombstone):
                if p.topic == "crm.identity.state":  # identity's: an erasure
                    erased.append(p.key)
                elif p.topic == "crm.segmentation.state":  # the member left ("segment id:profile id")
                    segment_id, _, profile_id = p.key.partition(":")
                    exited.append({"segment_id": segment_id, "profile_id": profile_id})
            elif isinstance(p, SendTimeProfileUpdated):
                send_times.append({"profile_id": p.profileId, "hourly": p.hourlyOpenProbability,
                                   "time_zone": p.timezone, "confidence": p.confidence,
                                   "updated_at": p.updatedAt.isoformat()})
        # Within a round every key appears once, so the order of these statements does not matter.
        await repo.upsert_snapshots(snapshots, now)
        await repo.patch(patches, now)
        await repo.erase(erased, now)
        await repo.enter(entered)
        await repo.exit(exited)
        await repo.send_times(send_times)

    @staticmethod
    def _update(p: ProfileUpdated) -> dict[str, Any]:
        ch = p.changes
        fields: dict[str, Any] = {}
        if isinstance(ch.get("status"), str):
            fields["status"] = ch["status"]
        tz = ch.get("timeZone") or ch.get("timezone")
        if isinstance(tz, str) and valid_zone(tz):
            fields["time_zone"] = tz
        ids = ch.get("identities")
        if isinstance(ids, dict):  # the full Identities after a blocked key was unlinked
            fields.update(set_addresses=True, **{col: (ids.get(key) or [None])[0]
                                                  for key, col in _ADDRESS_KEYS.items()})
        return _patch(p.profileId, **fields)
