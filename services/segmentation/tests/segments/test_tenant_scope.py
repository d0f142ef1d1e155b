"""Repositories built for one tenant cannot read or change another tenant's segments, members or profiles, even
when handed their ids."""

from seg_helpers import NOW
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_segmentation.db import profiles, segment_members, segments
from fairway_segmentation.readmodel.repository import ProfileRepository
from fairway_segmentation.segments.member_repository import MembershipRepository
from fairway_segmentation.segments.repository import SegmentRepository

FAIRWAY, STONEHAVEN = "fairwaygolf", "stonehaven"


async def test_a_tenants_repositories_neither_read_nor_change_another_tenants_rows(engine: AsyncEngine) -> None:
    async with async_sessionmaker(engine)() as s, s.begin():
        theirs = SegmentRepository.for_tenant(s, STONEHAVEN)
        await theirs.create(
            {"segment_id": "s1", "name": "Lapsed members", "type": "STATIC", "created_at": NOW, "updated_at": NOW}
        )
        await theirs.add_history("s1", NOW, 1, 1, 0, "static")
        await ProfileRepository.for_tenant(s, STONEHAVEN).upsert(
            "p1", {"status": "ACTIVE", "email": "hamish@stonehavengolf.co.uk"}
        )
        await MembershipRepository.for_tenant(s, STONEHAVEN).add("s1", ["p1"], "static", NOW)

        segs = SegmentRepository.for_tenant(s, FAIRWAY)
        members = MembershipRepository.for_tenant(s, FAIRWAY)
        people = ProfileRepository.for_tenant(s, FAIRWAY)
        assert await segs.get("s1") is None
        assert await segs.all() == [] and await segs.history("s1") == []
        assert await segs.page(after=None, limit=10, type_=None) == []
        assert not await segs.name_taken("Lapsed members")
        await segs.update("s1", {"name": "Taken over"})
        await segs.delete("s1")
        assert await members.of_profiles(["p1"]) == set()
        assert await members.page("s1", after=None, limit=10) == []
        assert await members.count("s1") == 0
        assert await members.recipients(["p1"]) == {}
        assert await members.remove("s1", ["p1"]) == [] and await members.remove_everywhere("p1") == []
        assert await members.exit_all("s1") == 0
        assert await people.load(["p1"]) == {} and await people.existing(["p1"]) == set()
        assert await people.match_emails(["hamish@stonehavengolf.co.uk"]) == {}
        assert await people.delete("p1") is None

        # Everything of theirs is as it was.
        assert (await theirs.get("s1")).name == "Lapsed members"  # type: ignore[union-attr]
        assert await MembershipRepository.for_tenant(s, STONEHAVEN).count("s1") == 1
        assert (await s.execute(select(func.count()).select_from(profiles))).scalar() == 1
        assert (await s.execute(select(func.count()).select_from(segment_members))).scalar() == 1
        assert (await s.execute(select(func.count()).select_from(segments))).scalar() == 1
