"""Rebuilding profiles from their identity event logs. Pure.

A profile's state is the fold of its timeline: the events logged against it, in log order, with the state
of each profile merged into it joined in at the merge's position. Unmerge replays the merged tree without
the undone merge: the loser's own timeline gives it back; events the winner received after the merge are
resolved again between the two (the key order and system-id rule of live resolution), as they would have
been had the merge never happened.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fairway_events.envelope import decode_raw
from fairway_events.registry import registry
from fairway_identity.keys import keys_from_hints
from fairway_identity.profiles.state import ProfileState, apply_staff, apply_upstream, stamp
from fairway_identity.resolution.engine import choose
from fairway_identity.settings import ResolutionPolicy


@dataclass(frozen=True)
class LoggedEvent:
    id: int
    event_id: str
    kind: str  # upstream | staff
    event_type: str
    profile_id: str
    occurred_at: datetime
    body: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class MergeRecord:
    id: str
    winner: str
    loser: str
    seq: int


@dataclass
class Replayer:
    events: list[LoggedEvent]
    merges: list[MergeRecord]  # active merges of the tree
    policy: ResolutionPolicy
    blocked: frozenset[str] = frozenset()  # "keyType:value"
    excluded: MergeRecord | None = None
    ancestors: frozenset[str] = frozenset()  # profiles that held the excluded loser after its merge
    restored: ProfileState | None = None
    reassigned: list[LoggedEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._events: dict[str, list[LoggedEvent]] = defaultdict(list)
        for e in sorted(self.events, key=lambda e: e.id):
            self._events[e.profile_id].append(e)
        self._merges: dict[str, list[MergeRecord]] = defaultdict(list)
        for m in self.merges:
            if self.excluded is None or m.id != self.excluded.id:
                self._merges[m.winner].append(m)

    def state_of(self, profile_id: str) -> ProfileState:
        timeline: list[tuple[int, int, LoggedEvent | MergeRecord]] = [
            (e.id, 0, e) for e in self._events[profile_id]
        ]
        timeline += [(m.seq, 1, m) for m in self._merges[profile_id]]
        state = ProfileState()
        for _, _, item in sorted(timeline, key=lambda t: (t[0], t[1])):
            if isinstance(item, MergeRecord):
                state.join(self.state_of(item.loser))
            elif self._after_excluded(profile_id, item) and self._belongs_to_restored(state, item):
                assert self.restored is not None
                self.apply(self.restored, item)
                self.reassigned.append(item)
            else:
                self.apply(state, item)
        return state

    def unmerge(self, root: str) -> tuple[ProfileState, ProfileState]:
        """(the root without the excluded loser, the loser as if never merged)."""
        assert self.excluded is not None
        self.restored = self.state_of(self.excluded.loser)
        return self.state_of(root), self.restored

    # -- one event ------------------------------------------------------------------------------------
    def _after_excluded(self, profile_id: str, e: LoggedEvent) -> bool:
        return (
            self.excluded is not None
            and profile_id in self.ancestors
            and e.id > self.excluded.seq
            and e.kind == "upstream"
            and e.body is not None
        )

    def _belongs_to_restored(self, current: ProfileState, e: LoggedEvent) -> bool:
        assert self.restored is not None and e.body is not None
        env = registry.validate(decode_raw(e.body.encode()))
        keys, _ = keys_from_hints(env.payload.identity.model_dump(), self.policy.default_region, self.blocked)
        sides = {"kept": current, "restored": self.restored}

        def owner(k: Any) -> str | None:
            for name, st in sides.items():
                if k.value in st.keys.get(k.type, []):
                    return name
            return None

        chosen, _ = choose(keys, owner, lambda name: sides[name].keys, self.policy.unique_ids)
        return chosen == "restored"

    def apply(self, state: ProfileState, e: LoggedEvent) -> None:
        if e.body is None:
            return  # erased content: nothing left to replay
        if e.kind == "staff":
            apply_staff(state, json.loads(e.body)["changes"], stamp(e.occurred_at), e.event_id)
            return
        env = registry.validate(decode_raw(e.body.encode()))
        for key_type, value in (e.detail or {}).get("linked", []):
            if f"{key_type}:{value}" not in self.blocked:
                state.link(key_type, value)
        apply_upstream(
            state,
            env.event_type,
            env.payload.payload,
            stamp(env.occurred_at),
            env.event_id,
            self.policy.currency,
        )
