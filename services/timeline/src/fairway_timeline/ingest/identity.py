"""crm.identity events applied to the timeline's key map, and the activities and notes that follow them; and the
snapshots and erasure tombstones of crm.identity.state, through the same code (a new key map bootstraps from them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import Envelope
from fairway_events.contracts.identity import (
    Identities,
    ProfileCreated,
    ProfileErased,
    ProfileIdentityLinked,
    ProfileMerged,
    ProfileUnmerged,
    ProfileUpdated,
)
from fairway_events.contracts.state import ProfileState, StateTombstone
from fairway_events.runs import runs
from fairway_timeline.activities.repository import ActivityBatchRepository, ActivityRepository, WaitMatch
from fairway_timeline.identity_map.keys import RANK, Key, key_hash, keys_from_lists, normalise
from fairway_timeline.identity_map.repository import ProfileRepository
from fairway_timeline.ingest.touched import Touched
from fairway_timeline.notes.repository import NoteRepository
from fairway_timeline.settings import Settings

log = structlog.get_logger("fairway.timeline.identity")
IDENTITY_EVENTS = frozenset(
    {
        "profile.created",
        "profile.updated",
        "profile.identity_linked",
        "profile.merged",
        "profile.unmerged",
        "profile.erased",
    }
)
STATE_TOPICS = ["crm.identity.state"]
STATE_EVENTS = frozenset({"profile.state", "state.tombstone"})
# Live profile events raise the version a snapshot must beat.
LIVE_STATE = {"crm.identity": "crm.identity.state"}


class IdentitySync:
    def __init__(self, session: AsyncSession, settings: Settings, now: datetime, touched: Touched) -> None:
        self.batch = ActivityBatchRepository(session)
        self.session = session
        self.settings = settings
        self.now = now
        self.touched = touched

    async def apply(self, env: Envelope) -> None:
        p, t = env.payload, env.tenant_id
        if isinstance(p, ProfileCreated | ProfileIdentityLinked):
            await self.announced_many([env])
        elif isinstance(p, ProfileUpdated):
            await self.updated(t, p)
        elif isinstance(p, ProfileMerged):
            await self.merged(t, p.winnerId, p.loserId, p.winner.identities)
        elif isinstance(p, ProfileUnmerged):
            await self.unmerged(t, p)
        elif isinstance(p, ProfileErased):
            await self.erased(t, p.profileId, p.erasedAt)
        elif isinstance(p, ProfileState):
            await self.snapshot(t, p)
        elif isinstance(p, StateTombstone) and p.topic == "crm.identity.state":  # identity's: an erasure
            await self.erased(t, p.key, env.occurred_at)

    def _profiles(self, tenant_id: str) -> ProfileRepository:
        return ProfileRepository.for_tenant(self.session, tenant_id)

    def _activities(self, tenant_id: str) -> ActivityRepository:
        return ActivityRepository.for_tenant(self.session, tenant_id)

    def _keys(self, tenant_id: str, identities: Identities) -> list[Key]:
        return keys_from_lists(identities.model_dump(), self.settings.phone_region(tenant_id))

    async def _live_root(self, tenant_id: str, profile_id: str, status: str = "ACTIVE") -> str | None:
        """The profile activities of `profile_id` hang on now (following merges); None once erased."""
        await self._profiles(tenant_id).ensure(profile_id, status)
        root = await self._profiles(tenant_id).canonical(profile_id)
        if root is None or root[1] == "ERASED":
            return None
        return root[0]

    async def link(self, tenant_id: str, keys: Sequence[Key], profile_id: str) -> None:
        """Point `keys` at `profile_id` and re-resolve every activity waiting for one of them."""
        await self.link_many(tenant_id, [(keys, profile_id)])

    async def link_many(self, tenant_id: str, links: Sequence[tuple[Sequence[Key], str]]) -> None:
        """`link` for several (keys, profile) in order, in a few statements; no key may appear twice."""
        links = [(keys, p) for keys, p in links if keys]
        if not links:
            return
        await self._profiles(tenant_id).upsert_keys_many([(k, p) for keys, p in links for k in keys])
        step = {(k.key_type, k.value): i for i, (keys, _) in enumerate(links) for k in keys}
        matches = await self._activities(tenant_id).waits_matching([k for keys, _ in links for k in keys])
        moves = {}
        for activity, steps in _by_activity_and_step(matches, step).items():
            # As if each link ran alone, in order: a link's best key moves the activity if it ranks higher
            # than what the activity hangs on by then.
            first = steps[min(steps)][0]
            current, current_rank = first.current_profile_id, first.current_rank
            for i in sorted(steps):
                m = min(steps[i], key=lambda m: m.rank)
                if current is None or current_rank is None or m.rank < current_rank:
                    moves[activity] = (activity, m.key_profile_id, m.key_id, m.rank)
                    self.touched.touch(tenant_id, current)
                    self.touched.touch(tenant_id, m.key_profile_id)
                    current, current_rank = m.key_profile_id, m.rank
        await self.batch.resolve(list(moves.values()))

    async def announced_many(self, envelopes: Sequence[Envelope]) -> None:
        """profile.created and profile.identity_linked events, applied as if one by one: runs of events touching
        disjoint profiles and keys share each statement (a history's announcements are mostly new people and
        their new keys, so they form long runs)."""
        by_tenant: dict[str, list[tuple[str, str, list[Key]]]] = {}
        for env in envelopes:
            by_tenant.setdefault(env.tenant_id, []).append(self._announced(env.tenant_id, env.payload))
        for tenant_id, items in by_tenant.items():
            for _, run in runs(items, kind=lambda _: None, touches=lambda i: {i[0], *i[2]}):
                profiles = self._profiles(tenant_id)
                await profiles.ensure_many([(profile_id, status) for profile_id, status, _ in run])
                roots = await profiles.canonical_many([profile_id for profile_id, _, _ in run])
                links = []
                for profile_id, _, keys in run:
                    root = roots.get(profile_id)
                    if root is not None and root[1] != "ERASED":
                        links.append((keys, root[0]))
                await self.link_many(tenant_id, links)

    def _announced(self, tenant_id: str, p: object) -> tuple[str, str, list[Key]]:
        """(profile id, status if new, keys) of a profile.created or profile.identity_linked."""
        if isinstance(p, ProfileCreated):
            return p.profile.profileId, p.profile.status, self._keys(tenant_id, p.profile.identities)
        assert isinstance(p, ProfileIdentityLinked)
        value = normalise(p.keyType, p.value, self.settings.phone_region(tenant_id))
        return p.profileId, "ACTIVE", [] if value is None else [Key(RANK[p.keyType], p.keyType, value)]

    # -- events -----------------------------------------------------------------------------------------
    async def updated(self, tenant_id: str, e: ProfileUpdated) -> None:
        """Only `identities` matters here: identity sends the full set when it unlinked a key it now blocks
        (a value shared by too many people). Other changes (attributes, status) are not the timeline's."""
        if "identities" not in e.changes:
            return
        root = await self._live_root(tenant_id, e.profileId)
        if root is None:
            return
        keys = self._keys(tenant_id, Identities.model_validate(e.changes["identities"]))
        # Activities already resolved through an unlinked key stay where they are: identity resolved them
        # there too. Later events carrying it resolve through their other keys, as identity does.
        await self._profiles(tenant_id).keep_only_keys(root, keys)
        await self.link(tenant_id, keys, root)

    async def snapshot(self, tenant_id: str, p: ProfileState) -> None:
        """A profile as identity holds it now: its keys are exactly these, or it is merged into another."""
        pid = p.profile.profileId
        keys = self._keys(tenant_id, p.profile.identities)
        if p.mergedInto is not None:
            await self.merged(tenant_id, p.mergedInto, pid, Identities())
            return
        root = await self._live_root(tenant_id, pid, p.profile.status)
        if root is None:
            return
        if root == pid:  # (still merged here while identity has it on its own: the unmerge event restores it)
            await self._profiles(tenant_id).keep_only_keys(root, keys)
        await self.link(tenant_id, keys, root)

    async def merged(self, tenant_id: str, winner_id: str, loser_id: str, winner_keys: Identities) -> None:
        if winner_id == loser_id:
            return
        winner = await self._live_root(tenant_id, winner_id)
        loser = await self._live_root(tenant_id, loser_id)
        if winner is None or loser is None:
            log.warning("merge involves an erased profile; ignored", winner=winner_id, loser=loser_id)
            return
        if winner == loser:  # already merged (a redelivery, or the events of a chain arrived out of order)
            await self.link(tenant_id, self._keys(tenant_id, winner_keys), winner)
            return
        if loser != loser_id:
            log.warning(
                "loser was already merged elsewhere; moving what hangs on its current root",
                loser=loser_id,
                root=loser,
            )
        await self._profiles(tenant_id).set_merged(loser, winner)
        await self._activities(tenant_id).move_all(loser, winner)
        await NoteRepository.for_tenant(self.session, tenant_id).move_all(loser, winner)
        await self._profiles(tenant_id).repoint_keys(loser, winner)
        self.touched.drop(tenant_id, loser)
        self.touched.touch(tenant_id, winner)
        await self.link(tenant_id, self._keys(tenant_id, winner_keys), winner)

    async def unmerged(self, tenant_id: str, e: ProfileUnmerged) -> None:
        status = await self._profiles(tenant_id).status(e.restoredId)
        if status == "ERASED":
            return
        winner = await self._live_root(tenant_id, e.profileId)
        if winner is None:
            return
        restored_status = e.restored.status if e.restored.status not in ("MERGED", "ERASED") else "ACTIVE"
        await self._profiles(tenant_id).restore(e.restoredId, restored_status)
        # Keys first: activities follow the key that resolved them back to where identity now puts it.
        await self.link(tenant_id, self._keys(tenant_id, e.restored.identities), e.restoredId)
        await self.link(tenant_id, self._keys(tenant_id, e.profile.identities), winner)
        origins = await self._profiles(tenant_id).subtree(e.restoredId)
        await self._activities(tenant_id).move_back(winner, e.restoredId, origins)
        await NoteRepository.for_tenant(self.session, tenant_id).move_back(winner, e.restoredId, origins)
        self.touched.touch(tenant_id, winner)
        self.touched.touch(tenant_id, e.restoredId)

    async def erased(self, tenant_id: str, profile_id: str, erased_at: datetime) -> None:
        await self._profiles(tenant_id).ensure(profile_id, "ERASED")
        root = await self._profiles(tenant_id).canonical(profile_id)
        gone = await self._profiles(tenant_id).subtree(profile_id)
        keys = await self._profiles(tenant_id).keys_of(gone)
        await self._profiles(tenant_id).remember_erased(
            [key_hash(tenant_id, k.key_type, k.value) for k in keys], erased_at, self.now
        )
        await self._activities(tenant_id).delete_waiting_on([(k.key_type, k.value) for k in keys])
        await self._activities(tenant_id).delete_for_profiles(gone)
        await self._activities(tenant_id).forget_totals(gone)
        await NoteRepository.for_tenant(self.session, tenant_id).delete_for_profiles(gone)
        await self._profiles(tenant_id).delete_keys([k.id for k in keys])
        await self._profiles(tenant_id).mark_erased(gone)
        for profile_id in gone:
            self.touched.drop(tenant_id, profile_id)
        if root is not None and root[0] not in gone:
            self.touched.touch(tenant_id, root[0])  # a merged part of a live profile was erased


def _by_activity_and_step(
    matches: Sequence[WaitMatch], step: dict[tuple[str, str], int]
) -> dict[object, dict[int, list[WaitMatch]]]:
    """activity -> index of the link whose key matched -> the matches."""
    out: dict[object, dict[int, list[WaitMatch]]] = {}
    for m in matches:
        out.setdefault(m.activity_id, {}).setdefault(step[(m.key_type, m.key_value)], []).append(m)
    return out
