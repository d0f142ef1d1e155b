"""Staff notes: types, pinned first, private to their author, and a NOTE_ADDED activity for each."""

from __future__ import annotations

from fairway_testkit import auth_headers, run_service, wait_for
from fairway_timeline.app import create_app
from fairway_timeline.settings import Settings

URL = "/api/v1/customers/p-1/notes"


async def test_notes(settings_for, club) -> None:
    alice = auth_headers("club-a", ["staff"], "alice")
    bob = auth_headers("club-a", ["marketer"], "bob")
    admin = auth_headers("club-a", ["admin"], "gm")
    async with run_service(create_app(settings_for(Settings, sweep_interval_seconds=0.2))) as svc:
        http = svc.http
        assert (
            await http.post(URL, json={"content": "x"}, headers=alice)
        ).status_code == 404  # unknown customer
        await club.created("club-a", "p-1", email=["lee@club.com"])

        async def known():  # noqa: ANN202
            return (await http.get(URL, headers=alice)).status_code == 200

        await wait_for(known, what="profile announced")

        r = await http.post(URL, json={"content": "  Called about the AGM  ", "type": "CALL"}, headers=alice)
        assert r.status_code == 201
        call = r.json()
        assert (
            call["content"] == "Called about the AGM"
            and call["author"] == "alice"
            and call["pinned"] is False
        )
        private = (
            await http.post(URL, json={"content": "Going through a divorce", "private": True}, headers=alice)
        ).json()
        complaint = (
            await http.post(
                URL, json={"content": "Slow greens", "type": "COMPLAINT", "pinned": True}, headers=bob
            )
        ).json()

        # Pinned first, then newest first; alice's private note is hers alone, even for an admin.
        listed = lambda r: [n["id"] for n in r.json()["items"]]  # noqa: E731
        assert listed(await http.get(URL, headers=alice)) == [complaint["id"], private["id"], call["id"]]
        assert listed(await http.get(URL, headers=bob)) == [complaint["id"], call["id"]]
        assert listed(await http.get(URL, headers=admin)) == [complaint["id"], call["id"]]

        # Each note put a NOTE_ADDED activity on the timeline; the private one only alice sees.
        seen = lambda page: sorted(i["title"] for i in page["items"])  # noqa: E731
        assert seen(await club.timeline(svc, "club-a", "p-1", subject="alice")) == [
            "Note added: Call",
            "Note added: Complaint",
            "Note added: General",
        ]
        assert (await club.timeline(svc, "club-a", "p-1", subject="alice"))["total"] == 3
        bobs = await club.timeline(svc, "club-a", "p-1", subject="bob")
        assert seen(bobs) == ["Note added: Call", "Note added: Complaint"] and bobs["total"] == 2
        assert {i["category"] for i in bobs["items"]} == {"SUPPORT"}

        # Someone else's private note does not exist for bob; a shared note is its author's to change.
        assert (
            await http.patch(f"{URL}/{private['id']}", json={"pinned": True}, headers=bob)
        ).status_code == 404
        assert (await http.delete(f"{URL}/{private['id']}", headers=admin)).status_code == 404
        r = await http.patch(f"{URL}/{call['id']}", json={"content": "edited"}, headers=bob)
        assert r.status_code == 403 and r.json()["error"] == "Forbidden"
        r = await http.patch(f"{URL}/{call['id']}", json={"pinned": True}, headers=admin)
        assert (
            r.status_code == 200
            and r.json()["pinned"] is True
            and r.json()["content"] == "Called about the AGM"
        )

        # Making a note private hides it and its timeline entry from everyone else.
        r = await http.patch(
            f"{URL}/{complaint['id']}", json={"private": True, "type": "MEETING"}, headers=bob
        )
        assert r.status_code == 200 and r.json()["type"] == "MEETING"
        assert listed(await http.get(URL, headers=alice)) == [call["id"], private["id"]]
        assert seen(await club.timeline(svc, "club-a", "p-1", subject="bob")) == [
            "Note added: Call",
            "Note added: Meeting",
        ]
        assert seen(await club.timeline(svc, "club-a", "p-1", subject="alice")) == [
            "Note added: Call",
            "Note added: General",
        ]

        # Deleting a note removes its timeline entry.
        assert (await http.delete(f"{URL}/{private['id']}", headers=alice)).status_code == 204
        assert listed(await http.get(URL, headers=alice)) == [call["id"]]
        assert seen(await club.timeline(svc, "club-a", "p-1", subject="alice")) == ["Note added: Call"]

        # Bad input is a 4xx naming the field; analysts read but do not write; other tenants see nothing.
        for body, field in (
            ({"content": ""}, "body.content"),
            ({"content": "x", "type": "GOSSIP"}, "body.type"),
            ({"content": "x", "colour": "red"}, "body.colour"),
            ({}, "body.content"),
        ):
            r = await http.post(URL, json=body, headers=alice)
            assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, (body, r.text)
        r = await http.patch(f"{URL}/{call['id']}", json={}, headers=alice)
        assert r.status_code == 422 and "at least one" in r.text
        r = await http.patch(f"{URL}/{call['id']}", json={"pinned": None}, headers=alice)
        assert r.status_code == 422
        assert (
            await http.patch(f"{URL}/not-a-uuid", json={"pinned": True}, headers=alice)
        ).status_code == 422
        analyst = auth_headers("club-a", ["analyst"], "ana")
        assert (await http.get(URL, headers=analyst)).status_code == 200
        assert (await http.post(URL, json={"content": "x"}, headers=analyst)).status_code == 403
        other_club = auth_headers("club-b", ["admin"], "alice")
        assert (await http.get(URL, headers=other_club)).status_code == 404
        assert (
            await http.patch(f"{URL}/{call['id']}", json={"pinned": False}, headers=other_club)
        ).status_code == 404
        assert (await http.delete(f"{URL}/{call['id']}", headers=other_club)).status_code == 404
        assert listed(await http.get(URL, headers=alice)) == [call["id"]]
