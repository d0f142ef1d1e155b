"""Finding customers: by contact (normalised as the consumer normalises keys), by tier, tag or free text, one
cursor page at a time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fairway_chassis import Unprocessable, paginate
from fairway_identity.keys import normalize
from fairway_identity.profiles.repository import ProfileRepository
from fairway_identity.profiles.schemas import ID_CURSOR, CustomerPage
from fairway_identity.profiles.service import to_customer


@dataclass(frozen=True)
class CustomerSearch:
    email: str | None = None
    phone_number: str | None = None
    status: str | None = None  # default: the live ones (ACTIVE and INACTIVE)
    tier: str | None = None
    tag: str | None = None
    q: str | None = None


async def search_customers(
    repo: ProfileRepository, region: str, search: CustomerSearch, *, cursor: str | None, limit: int
) -> CustomerPage:
    ids: list[str] | None = None  # None: no contact given; []: a contact nobody owns
    for field, kind, raw in (("email", "email", search.email), ("phoneNumber", "phoneNumber", search.phone_number)):
        if raw is None:
            continue
        value, reason = normalize(kind, raw, region)
        if value is None:
            raise Unprocessable(f"{reason}", field=field)
        owner = (await repo.owners([(kind, value)])).get((kind, value))
        found = [owner] if owner else []
        ids = found if ids is None else [i for i in ids if i in found]
    after = ID_CURSOR.decode(cursor)
    if ids == []:
        return CustomerPage(items=[], nextCursor=None)
    rows = await repo.search(
        statuses=[search.status] if search.status else ["ACTIVE", "INACTIVE"],
        profile_ids=ids,
        tier=search.tier,
        tag=search.tag,
        q=search.q,
        after=str(after) if after else None,
        limit=limit + 1,
    )
    page = paginate(rows, limit, ID_CURSOR, key=lambda r: uuid.UUID(r.id))
    return CustomerPage(items=[to_customer(r) for r in page.items], nextCursor=page.next_cursor)
