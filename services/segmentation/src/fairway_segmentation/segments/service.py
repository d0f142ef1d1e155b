"""The segment use cases behind the HTTP API. Endpoints own the transaction; this module only flushes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Conflict, NotFound, Principal, Unprocessable, paginate
from fairway_events import new_event_id
from fairway_schemas.criteria import Group
from fairway_schemas.criteria_eval import fields_used, time_sensitivity
from fairway_schemas.criteria_sql import compile_criteria
from fairway_segmentation.readmodel.fields import CATALOGUE, COLUMNS
from fairway_segmentation.readmodel.repository import ProfileRepository
from fairway_segmentation.segments import engine, schemas
from fairway_segmentation.segments.criteria import criteria_warnings, parse_criteria
from fairway_segmentation.segments.engine import ChangeSet, SegmentRef
from fairway_segmentation.segments.member_keys import MemberKeys
from fairway_segmentation.segments.member_repository import MembershipRepository
from fairway_segmentation.segments.repository import Segment, SegmentRepository
from fairway_segmentation.segments.schemas import MEMBER_CURSOR, SEGMENT_CURSOR
from fairway_segmentation.segments.views import to_out


class SegmentService:
    def __init__(self, session: AsyncSession, principal: Principal, now: datetime) -> None:
        self.session = session
        self.tenant_id = principal.tenant_id
        self.principal = principal
        self.now = now
        self.segments = SegmentRepository.for_tenant(session, self.tenant_id)
        self.members = MembershipRepository.for_tenant(session, self.tenant_id)
        self.profiles = ProfileRepository.for_tenant(session, self.tenant_id)

    async def _get(self, segment_id: str, *, lock: bool = False) -> Segment:
        if lock:
            await self.segments.lock(segment_id)
        row = await self.segments.get(segment_id, for_update=lock)
        if row is None:
            raise NotFound(f"no segment {segment_id!r}")
        return row

    async def detail(self, segment_id: str) -> schemas.SegmentOut:
        row = await self._get(segment_id)
        return to_out(row, await self.segments.history(segment_id))

    async def page(self, cursor: str | None, limit: int, type_: str | None) -> schemas.SegmentPage:
        after = SEGMENT_CURSOR.decode(cursor)
        rows = await self.segments.page(
            after=str(after) if after else None, limit=limit + 1, type_=type_
        )
        page = paginate(rows, limit, SEGMENT_CURSOR, key=lambda r: uuid.UUID(r.segment_id))
        return schemas.SegmentPage(items=[to_out(r) for r in page.items], nextCursor=page.next_cursor)

    async def create(self, body: schemas.SegmentIn) -> schemas.SegmentOut:
        group: Group | None = None
        if body.type == "DYNAMIC":
            if body.criteria is None:
                raise Unprocessable("a DYNAMIC segment needs criteria", field="criteria")
            group = parse_criteria(body.criteria)
        elif body.criteria is not None:
            raise Unprocessable("a STATIC segment has members, not criteria", field="criteria")
        await self.segments.lock_tenant(shared=False)  # consumers see it whole or not at all
        if await self.segments.name_taken(body.name):
            raise Conflict(f"a segment named {body.name!r} exists")
        segment_id = new_event_id()
        try:
            async with self.session.begin_nested():
                await self.segments.create(
                    {
                        "segment_id": segment_id,
                        "name": body.name,
                        "description": body.description,
                        "type": body.type,
                        "criteria": group.dump() if group else None,
                        "active": body.active,
                        "sync_to_messaging": body.syncToMessaging,
                        "time_sensitivity": time_sensitivity(group, CATALOGUE) if group else None,
                        "created_by": self.principal.subject,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
        except IntegrityError:
            raise Conflict(f"a segment named {body.name!r} exists") from None
        if group is not None and body.active:
            await engine.refresh(self.session, self.tenant_id, segment_id, now=self.now, reason="created")
        elif body.type == "STATIC":
            await self.segments.add_history(segment_id, self.now, 0, 0, 0, "created")
        return await self.detail(segment_id)

    async def update(self, segment_id: str, body: schemas.SegmentPatch) -> schemas.SegmentOut:
        row = await self._get(segment_id, lock=True)
        given = body.model_fields_set
        values: dict[str, Any] = {}
        refresh_reason: str | None = None
        if "name" in given and body.name is not None and body.name != row.name:
            if await self.segments.name_taken(body.name, except_id=segment_id):
                raise Conflict(f"a segment named {body.name!r} exists")
            values["name"] = body.name
        if "description" in given:
            values["description"] = body.description
        if "criteria" in given:
            if row.type != "DYNAMIC":
                raise Unprocessable("a STATIC segment has members, not criteria", field="criteria")
            if body.criteria is None:
                raise Unprocessable("a DYNAMIC segment needs criteria", field="criteria")
            group = parse_criteria(body.criteria)
            if group.dump() != row.criteria:
                values["criteria"] = group.dump()
                values["time_sensitivity"] = time_sensitivity(group, CATALOGUE)
                refresh_reason = "criteria"
        if "active" in given and body.active is not None and body.active != row.active:
            values["active"] = body.active
            if body.active and row.type == "DYNAMIC":
                refresh_reason = refresh_reason or "activated"
        sync_changed = (
            "syncToMessaging" in given
            and body.syncToMessaging is not None
            and body.syncToMessaging != row.sync_to_messaging
        )
        if sync_changed:
            values["sync_to_messaging"] = body.syncToMessaging
        if not values:
            return await self.detail(segment_id)
        values["updated_at"] = self.now
        await self.segments.update(segment_id, values)
        active = values.get("active", row.active)
        if refresh_reason and active:
            await engine.refresh(
                self.session, self.tenant_id, segment_id, now=self.now, reason=refresh_reason, locked=True
            )
        if sync_changed:
            seg = SegmentRef.of(replace(row, **values))
            if body.syncToMessaging:
                await engine.full_resync(self.session, self.tenant_id, seg, now=self.now)
            else:  # Messaging's list would go stale: empty it
                await engine.full_resync(
                    self.session,
                    self.tenant_id,
                    SegmentRef(seg.segment_id, seg.name, seg.type, True),
                    now=self.now,
                    with_members=False,
                )
        elif "name" in values and row.sync_to_messaging:
            await engine.full_resync(
                self.session, self.tenant_id, SegmentRef.of(replace(row, **values)), now=self.now
            )
        return await self.detail(segment_id)

    async def delete(self, segment_id: str) -> None:
        await self.segments.lock_tenant(shared=False)
        row = await self._get(segment_id, lock=True)
        await engine.delete(self.session, self.tenant_id, SegmentRef.of(row), now=self.now)

    async def refresh(self, segment_id: str) -> schemas.RefreshResult:
        row = await self._get(segment_id, lock=True)
        if row.type != "DYNAMIC":
            raise Conflict("a STATIC segment has no rules to refresh; edit its members instead")
        diff = await engine.refresh(
            self.session, self.tenant_id, segment_id, now=self.now, reason="manual", locked=True
        )
        assert diff is not None
        return schemas.RefreshResult(
            memberCount=diff.size, entered=diff.entered, exited=diff.exited, refreshedAt=self.now
        )

    async def resync(self, segment_id: str) -> schemas.SyncResult:
        row = await self._get(segment_id, lock=True)
        if not row.sync_to_messaging:
            raise Conflict("this segment is not synced to Messaging; set syncToMessaging first")
        events = await engine.full_resync(self.session, self.tenant_id, SegmentRef.of(row), now=self.now)
        return schemas.SyncResult(events=events, memberCount=row.member_count, lastSyncedAt=self.now)

    async def member_page(self, segment_id: str, cursor: str | None, limit: int) -> schemas.MemberPage:
        await self._get(segment_id)
        rows = await self.members.page(
            segment_id, after=MEMBER_CURSOR.decode(cursor), limit=limit + 1
        )
        page = paginate(rows, limit, MEMBER_CURSOR, key=lambda r: r.profile_id)
        return schemas.MemberPage(
            items=[
                schemas.Member(
                    profileId=r.profile_id,
                    addedAt=r.added_at,
                    source=r.source,
                    firstName=r.first_name,
                    lastName=r.last_name,
                    email=r.email,
                    membershipTier=r.membership_tier,
                )
                for r in page.items
            ],
            nextCursor=page.next_cursor,
        )

    async def change_members(self, segment_id: str, keys: MemberKeys, *, add: bool) -> schemas.MembersResult:
        row = await self._get(segment_id, lock=True)
        if row.type != "STATIC":
            raise Conflict("members of a DYNAMIC segment follow its criteria; change the criteria instead")
        ids, unmatched = await self._resolve(keys)
        seg = SegmentRef.of(row)
        changes = ChangeSet(self.session, self.tenant_id, self.now)
        if add:
            changed = await changes.enter(
                seg, ids, reason="static", source="import" if keys.from_csv else "static"
            )
        else:
            changed = await changes.exit(seg, ids, reason="static")
        await changes.flush()
        count = row.member_count + (len(changed) if add else -len(changed))
        if changed:
            entered, exited = (len(changed), 0) if add else (0, len(changed))
            await self.segments.add_history(
                segment_id,
                self.now,
                count,
                entered,
                exited,
                "import" if keys.from_csv else "static",
            )
        return schemas.MembersResult(
            requested=keys.size,
            matched=len(ids),
            changed=len(changed),
            unchanged=len(ids) - len(changed),
            memberCount=count,
            unmatched=unmatched[:200],
            unmatchedCount=len(unmatched),
            invalidRows=keys.invalid_rows[:200],
        )

    async def _resolve(self, keys: MemberKeys) -> tuple[list[str], list[schemas.Unmatched]]:
        ids: dict[str, None] = {}
        unmatched: list[schemas.Unmatched] = []
        known = await self.profiles.existing([v for v, _ in keys.profile_ids])
        for v, line in keys.profile_ids:
            if v in known:
                ids[v] = None
            else:
                unmatched.append(schemas.Unmatched(kind="profileId", value=v, row=line))
        by_email = await self.profiles.match_emails([v for v, _ in keys.emails])
        for v, line in keys.emails:
            found = by_email.get(v)
            if found:
                ids.update(dict.fromkeys(found))
            else:
                unmatched.append(schemas.Unmatched(kind="email", value=v, row=line))
        by_number = await self.profiles.match_member_numbers([v for v, _ in keys.numbers])
        for v, line in keys.numbers:
            found = by_number.get(v)
            if found:
                ids.update(dict.fromkeys(found))
            else:
                unmatched.append(schemas.Unmatched(kind="memberNumber", value=v, row=line))
        return list(ids), unmatched

    async def preview(self, body: schemas.PreviewIn) -> schemas.PreviewOut:
        group = parse_criteria(body.criteria)
        where = compile_criteria(group, COLUMNS, now=self.now, catalogue=CATALOGUE)
        size = await self.profiles.count(where)
        sample = await self.profiles.sample(where, body.sampleSize) if body.sampleSize else []
        empty = await self.profiles.fields_without_data(sorted(fields_used(group)))
        return schemas.PreviewOut(
            estimatedSize=size,
            sample=[
                schemas.ProfileSummary(
                    profileId=r.profile_id,
                    firstName=r.first_name,
                    lastName=r.last_name,
                    email=r.email,
                    membershipTier=r.membership_tier,
                    status=r.status,
                )
                for r in sample
            ],
            warnings=criteria_warnings(group, size, empty),
        )


