"""Resolving a batch of upstream events in memory. Pure: the handler loads what the batch touches, runs the
engine, and writes its results in a few statements.

Per event, in the implementation guide's order (authUserId, email, phone, sclMemberId, teetimePlayerId,
messagingContactId) the first key that finds a profile decides it, unless that profile already holds a
different value of a system id the event carries (a profile holds one sclMemberId, teetimePlayerId, ...):
then the event is someone else who shares an email or phone, and the next profile found is tried. Nothing
found: a new profile. Unowned keys are linked; keys owned by another profile are a conflict, which becomes
a merge candidate, or a merge when the policy's auto-merge rule allows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fairway_events import Envelope, new_event_id
from fairway_events.contracts.identity import (
    Consent,
    ProfileConsentChanged,
    ProfileCreated,
    ProfileIdentityLinked,
    ProfileMerged,
    ProfileUpdated,
)
from fairway_identity.eventlog.events import LogRow, envelope
from fairway_identity.keys import CONFIDENCE, Key, Rejected, TokenT
from fairway_identity.merge_records.candidates import Candidate
from fairway_identity.profiles.records import LiveProfile
from fairway_identity.profiles.state import INERT, TOUCHES, ProfileState, apply_upstream, diff, stamp
from fairway_identity.settings import ResolutionPolicy


@dataclass
class Incoming:
    env: Envelope
    body: str
    keys: list[Key]
    rejected: list[Rejected]


@dataclass
class AutoMerge:
    tenant_id: str
    winner: str
    loser: str
    log_index: int  # the event that caused it; events from this one on are after the merge
    evidence: list[dict[str, Any]]


def compatible(profile_keys: dict[str, list[str]], keys: list[Key], unique: tuple[str, ...]) -> bool:
    """Can these keys belong to the person holding `profile_keys`? Not if a system id differs."""
    for k in keys:
        if k.type in unique:
            have = profile_keys.get(k.type)
            if have and k.value not in have:
                return False
    return True


def mergeable(a: dict[str, list[str]], b: dict[str, list[str]], unique: tuple[str, ...]) -> bool:
    return all(len(set(a.get(t, [])) | set(b.get(t, []))) <= 1 for t in unique)


def choose(
    keys: list[Key],
    owner_of: Callable[[Key], str | None],
    keys_of: Callable[[str], dict[str, list[str]]],
    unique: tuple[str, ...],
) -> tuple[str | None, list[str]]:
    """(the profile this event resolves to, or None for a new one; every profile its keys hit, in order)."""
    return choose_from(keys, [owner_of(k) for k in keys], keys_of, unique)


def choose_from(
    keys: list[Key],
    owners: list[str | None],
    keys_of: Callable[[str], dict[str, list[str]]],
    unique: tuple[str, ...],
) -> tuple[str | None, list[str]]:
    """`choose` with the owner of each key already looked up."""
    hits: list[str] = []
    for o in owners:
        if o is not None and o not in hits:
            hits.append(o)
    for h in hits:
        if compatible(keys_of(h), keys, unique):
            return h, hits
    return None, hits


def _cap(policy: ResolutionPolicy, key_type: str) -> int:
    """How many values of a key type one profile may hold."""
    if key_type == "email":
        return policy.max_emails
    if key_type == "phoneNumber":
        return policy.max_phones
    return 1 if key_type in policy.unique_ids else 20


class BatchResolver:
    """Holds the batch's view of the world: key owners and the profiles the batch touches."""

    def __init__(
        self,
        owners: dict[TokenT, str],
        profiles: dict[str, LiveProfile],
        policy_for: Callable[[str], ResolutionPolicy],
        now: datetime,
        new_id: Callable[[], str] = new_event_id,
    ) -> None:
        self.owners = owners
        self.profiles = profiles
        self.policy_for = policy_for
        self.now = now
        self.new_id = new_id
        self.new_keys: dict[TokenT, str] = {}  # token -> source event id
        self.log: list[LogRow] = []
        self.out: list[Envelope] = []
        self.candidates: dict[tuple[str, str, str], Candidate] = {}
        self.sightings: set[tuple[str, str, str, str]] = set()
        self.merges: list[AutoMerge] = []
        self._policies: dict[str, ResolutionPolicy] = {}

    # -- the world --------------------------------------------------------------------------------------
    def owner(self, tenant: str, k: Key) -> str | None:
        return self.owners.get((tenant, k.type, k.value))

    def resolve(self, inc: Incoming) -> None:
        env = inc.env
        tenant = env.tenant_id
        detail: dict[str, Any] = {}
        if inc.rejected:
            detail["rejected"] = [r.as_log() for r in inc.rejected]
        if not inc.keys:
            detail["reason"] = "no usable identifier"
            self._log(inc, None, "SKIPPED", detail)
            return
        policy = self._policies.get(tenant) or self._policies.setdefault(tenant, self.policy_for(tenant))
        unique = policy.unique_ids
        keys = inc.keys
        tokens = [(tenant, k.type, k.value) for k in keys]
        own = [self.owners.get(t) for t in tokens]
        chosen, hits = choose_from(keys, own, lambda pid: self.profiles[pid].state.keys, unique)
        is_new = chosen is None
        if chosen is None:
            p = LiveProfile(id=self.new_id(), tenant_id=tenant, state=ProfileState(), is_new=True, dirty=True)
            self.profiles[p.id] = p
        else:
            p = self.profiles[chosen]
        matched = [k for k, o in zip(keys, own, strict=True) if o == p.id]
        confidence = max((k.confidence for k in matched), default=100)
        primary = matched[0] if matched else None

        # Conflicts: keys another profile owns. Auto-merge where the policy allows, else a candidate.
        conflicts = [(k, o) for k, o in zip(keys, own, strict=True) if o is not None and o != p.id]
        for k, other in conflicts:
            if self.owner(tenant, k) == p.id:
                continue  # merged in by an earlier conflict of this event
            q = self.profiles[other]
            if (
                primary is not None
                and min(primary.confidence, k.confidence) >= policy.auto_merge_min_confidence
                and q.id not in p.distinct_from
                and p.id not in q.distinct_from
                and mergeable(p.state.keys, q.state.keys, unique)
            ):
                evidence = [self._evidence(primary, p.id, "match"), self._evidence(k, q.id, "conflict")]
                winner, loser = (p, q) if p.id < q.id else (q, p)
                self._merge(winner, loser, len(self.log), evidence, env.event_id)
                p = winner
        remaining: list[tuple[Key, str]] = []
        if conflicts:
            own = [self.owners.get(t) for t in tokens]  # merges moved keys
            remaining = [(k, o) for k, o in conflicts if self.owner(tenant, k) != p.id]

        linked: list[Key] = []
        limited: list[Key] = []
        for k, t, o in zip(keys, tokens, own, strict=True):
            if o is not None:
                continue
            have = p.state.keys.get(k.type)
            if have and len(have) >= _cap(policy, k.type):
                limited.append(k)
                continue
            self.owners[t] = p.id
            self.new_keys[t] = env.event_id
            p.state.link(k.type, k.value)
            linked.append(k)
            p.dirty = True

        for k, other in remaining:
            other = self.owner(tenant, k) or other
            self.sightings.add((tenant, k.type, k.value, other))
            self.sightings.add((tenant, k.type, k.value, p.id))
            if other in p.distinct_from or p.id in self.profiles[other].distinct_from:
                continue  # staff said these are different people: no new candidate
            pair = (p.id, other) if p.id < other else (other, p.id)
            ev = [self._evidence(k, other, "conflict")]
            if primary is not None:
                ev.append(self._evidence(primary, p.id, "match"))
            ev[0]["eventId"] = env.event_id
            cand = self.candidates.get((tenant, *pair))
            if cand is None:
                self.candidates[(tenant, *pair)] = Candidate(tenant, pair, ev, [k.token], env.event_id)
            else:
                cand.evidence.extend(ev)
                if k.token not in cand.conflict_keys:
                    cand.conflict_keys.append(k.token)

        # Attributes and consent.
        eid = env.event_id
        payload = env.payload.payload
        if is_new:
            at = stamp(env.occurred_at)
            apply_upstream(p.state, env.event_type, payload, at, eid, policy.currency)
            self.out.append(
                envelope(
                    ProfileCreated(profile=p.state.snapshot(p.id), sourceEventId=eid, matchedBy=[]),
                    tenant,
                    p.id,
                    self.now,
                )
            )
        else:
            matched_by = [k.type for k in matched]
            for k in linked:
                self.out.append(
                    envelope(
                        ProfileIdentityLinked(
                            profileId=p.id,
                            keyType=k.type,
                            value=k.value,
                            sourceEventId=eid,
                            matchedBy=matched_by,
                            confidence=confidence,
                        ),
                        tenant,
                        p.id,
                        self.now,
                    )
                )
            if env.event_type not in INERT:
                at = stamp(env.occurred_at)
                fields = TOUCHES.get(env.event_type)
                before = p.state.view(fields)
                apply_upstream(p.state, env.event_type, payload, at, eid, policy.currency)
                self._publish_changes(p, before, eid, env.occurred_at, fields)

        detail["matchedBy"] = [k.type for k in matched]
        detail["confidence"] = confidence
        if is_new:
            detail["created"] = True
        if linked:
            detail["linked"] = [[k.type, k.value] for k in linked]
        if limited:
            detail["limited"] = [[k.type, k.value] for k in limited]
        if remaining:
            detail["conflicts"] = [
                {"keyType": k.type, "value": k.value, "profileId": self.owner(tenant, k) or o}
                for k, o in remaining
            ]
        if len(hits) > 1 or (hits and is_new):
            detail["hits"] = hits
        self._log(inc, p.id, "APPLIED", detail)

    # -- helpers ------------------------------------------------------------------------------------------
    def _publish_changes(
        self,
        p: LiveProfile,
        before: dict[str, Any],
        source_event_id: str | None,
        changed_at: datetime,
        fields: tuple[str, ...] | None = None,
    ) -> None:
        changes, consent = diff(before, p.state.view(fields))
        if changes:
            self.out.append(
                envelope(
                    ProfileUpdated(profileId=p.id, changes=changes, sourceEventId=source_event_id),
                    p.tenant_id,
                    p.id,
                    self.now,
                )
            )
        if consent:
            self.out.append(
                envelope(
                    ProfileConsentChanged(
                        profileId=p.id,
                        consent=Consent(**p.state.consent_values()),
                        changed=consent,
                        changedAt=changed_at,
                        sourceEventId=source_event_id,
                    ),
                    p.tenant_id,
                    p.id,
                    self.now,
                )
            )
        if changes or consent:
            p.dirty = True

    @staticmethod
    def _evidence(k: Key, profile_id: str, role: str) -> dict[str, Any]:
        return {
            "keyType": k.type,
            "value": k.value,
            "profileId": profile_id,
            "role": role,
            "confidence": CONFIDENCE[k.type],
        }

    def _merge(
        self,
        winner: LiveProfile,
        loser: LiveProfile,
        log_index: int,
        evidence: list[dict[str, Any]],
        source_event_id: str,
    ) -> None:
        tenant = winner.tenant_id
        before = winner.state.view()
        winner.state.join(loser.state)
        for t, values in loser.state.keys.items():
            for v in values:
                self.owners[(tenant, t, v)] = winner.id
        winner.distinct_from |= loser.distinct_from
        loser.structural, loser.merged_into = "MERGED", winner.id
        loser.dirty = winner.dirty = True
        self.merges.append(AutoMerge(tenant, winner.id, loser.id, log_index, evidence))
        self.out.append(
            envelope(
                ProfileMerged(
                    winnerId=winner.id,
                    loserId=loser.id,
                    winner=winner.state.snapshot(winner.id),
                    reason="auto-merge: " + " vs ".join(e["keyType"] for e in evidence),
                ),
                tenant,
                winner.id,
                self.now,
            )
        )
        _, consent = diff(before, winner.state.view())
        if consent:
            self.out.append(
                envelope(
                    ProfileConsentChanged(
                        profileId=winner.id,
                        consent=Consent(**winner.state.consent_values()),
                        changed=consent,
                        changedAt=self.now,
                        sourceEventId=source_event_id,
                    ),
                    tenant,
                    winner.id,
                    self.now,
                )
            )

    def _log(self, inc: Incoming, profile_id: str | None, status: str, detail: dict[str, Any]) -> None:
        env = inc.env
        self.log.append(
            LogRow(
                env.tenant_id,
                env.event_id,
                env.source,
                env.event_type,
                env.occurred_at,
                profile_id,
                status,
                detail,
                inc.body,
            )
        )
