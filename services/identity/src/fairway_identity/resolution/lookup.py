"""Read-only resolution: whose are these identifiers? The same key normalisation and choice (`engine.choose`) as
the consumer applies to upstream events, without creating or changing anything."""

from __future__ import annotations

from fairway_chassis import NotFound, Unprocessable
from fairway_identity.keys import Rejected, keys_from_hints
from fairway_identity.profiles.repository import ProfileRepository
from fairway_identity.profiles.service import to_customer
from fairway_identity.resolution.engine import choose
from fairway_identity.resolution.schemas import Conflict, RejectedHint, Resolution
from fairway_identity.settings import ResolutionPolicy


async def resolve_hints(
    repo: ProfileRepository, policy: ResolutionPolicy, hints: dict[str, str | None]
) -> Resolution:
    """The profile the hints resolve to, with what matched and what conflicts; 404 when none does."""
    if all(v is None for v in hints.values()):
        raise Unprocessable("give at least one of " + ", ".join(hints), field="query")
    keys, rejected = keys_from_hints(hints, policy.default_region, frozenset(policy.blocked_values))
    blocked = await repo.blocked([(k.type, k.value) for k in keys])
    rejected += [Rejected(k.type, k.value, "blocked value") for k in keys if (k.type, k.value) in blocked]
    keys = [k for k in keys if (k.type, k.value) not in blocked]
    if not keys:
        raise Unprocessable(f"{rejected[0].reason}: not usable as an identifier", field=rejected[0].type)
    owners = await repo.owners([(k.type, k.value) for k in keys])
    rows = await repo.read_many(owners.values())  # one query for every candidate profile
    chosen, _ = choose(
        keys,
        lambda k: owners.get((k.type, k.value)),
        lambda pid: rows[pid].identities if pid in rows else {},
        policy.unique_ids,
    )
    if chosen is None or chosen not in rows:
        raise NotFound("no customer matches these identifiers")
    matched = [k for k in keys if owners.get((k.type, k.value)) == chosen]
    return Resolution(
        profile=to_customer(rows[chosen]),
        matchedBy=[k.type for k in matched],
        confidence=max(k.confidence for k in matched),
        conflicts=[
            Conflict(keyType=k.type, value=k.value, profileId=owners[(k.type, k.value)])
            for k in keys
            if owners.get((k.type, k.value)) not in (None, chosen)
        ],
        rejected=[RejectedHint(**r.as_log()) for r in rejected],
    )
