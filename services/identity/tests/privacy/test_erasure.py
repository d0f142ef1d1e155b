"""Erasure leaves no personal data in any identity table; export hands over everything identity holds;
neither crosses tenants."""

from __future__ import annotations

from sqlalchemy import text

from fairway_identity.app import create_app
from fairway_identity.settings import Settings
from fairway_testkit import auth_headers, run_service

PII = [
    "ann.secret@x.com",
    "+27825551234",
    "082 555 1234",
    "Secretname",
    "Annabel",
    "1971-02-03",
    "scl-secret-77",
    "tp-secret-88",
    "ANN.SECRET",
]
ADMIN_A, ADMIN_B = auth_headers("club-a", ["admin"]), auth_headers("club-b", ["admin"])


async def all_text(svc) -> str:  # noqa: ANN001
    """Every row of every table in identity's database, as text."""
    async with svc.runtime.engine.connect() as conn:
        tables = (
            await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        ).scalars()
        out = []
        for t in tables.all():
            rows = (await conn.execute(text(f'SELECT t::text FROM "{t}" t'))).scalars().all()  # noqa: S608
            out.append(f"## {t}\n" + "\n".join(rows))
        return "\n".join(out)


async def test_erasure_and_export(settings_for, upstream, db) -> None:
    async with run_service(create_app(settings_for(Settings))) as svc:
        http = svc.http
        ids = [
            await upstream.send(
                "scl.member.created",
                "club-a",
                {"sclMemberId": "scl-secret-77", "email": " ANN.SECRET@x.com", "phoneNumber": "082 555 1234"},
                {"firstName": "Annabel", "lastName": "Secretname", "dateOfBirth": "1971-02-03"},
            )
        ]
        await db.applied(svc, *ids)
        ids.append(
            await upstream.send(
                "teetime.player.created",
                "club-a",
                {"teetimePlayerId": "tp-secret-88"},
                {"firstName": "Annabel"},
            )
        )
        # Bob shares Annabel's phone: his event names her number, and opens a candidate.
        ids.append(
            await upstream.send(
                "scl.member.created",
                "club-a",
                {"sclMemberId": "scl-bob", "phoneNumber": "0825551234"},
                {"firstName": "Bob"},
            )
        )
        ids.append(
            await upstream.send(
                "contactPreference.updated", "club-a", {"email": "ann.secret@x.com"}, {"emailOptIn": True}
            )
        )
        await db.applied(svc, *ids)
        found = (
            await http.get("/api/v1/customers/resolve?sclMemberId=scl-secret-77", headers=ADMIN_A)
        ).json()
        ann = found["profile"]["id"]
        player = (
            await http.get("/api/v1/customers/resolve?teetimePlayerId=tp-secret-88", headers=ADMIN_A)
        ).json()["profile"]["id"]
        bob = (await http.get("/api/v1/customers/resolve?sclMemberId=scl-bob", headers=ADMIN_A)).json()[
            "profile"
        ]["id"]
        assert (
            await http.post(f"/api/v1/customers/{ann}/merge", json={"loserId": player}, headers=ADMIN_A)
        ).status_code == 200
        await http.patch(f"/api/v1/customers/{ann}", json={"tags": ["Secretname-fan"]}, headers=ADMIN_A)
        assert (
            len((await http.get("/api/v1/customers/merge-candidates", headers=ADMIN_A)).json()["items"]) == 1
        )

        # export: everything identity holds, for the data controller only, in their tenant only
        assert (
            await http.get(f"/api/v1/customers/{ann}/export", headers=auth_headers("club-a", ["staff"]))
        ).status_code == 403
        assert (await http.get(f"/api/v1/customers/{ann}/export", headers=ADMIN_B)).status_code == 404
        r = await http.get(f"/api/v1/customers/{player}/export", headers=ADMIN_A)
        assert r.status_code == 200
        ex = r.json()
        assert ex["profile"]["id"] == ann and ex["mergedProfileIds"] == [player]
        assert {(i["keyType"], i["value"]) for i in ex["identities"]} == {
            ("email", "ann.secret@x.com"),
            ("phoneNumber", "+27825551234"),
            ("sclMemberId", "scl-secret-77"),
            ("teetimePlayerId", "tp-secret-88"),
        }
        assert {e["eventId"] for e in ex["events"]} >= {ids[0], ids[1], ids[3]}
        assert all(e["event"] for e in ex["events"] if e["kind"] == "upstream")
        assert {o["source"] for o in ex["observations"] if o["attribute"] == "firstName"} == {
            "scl",
            "teetime",
        }
        assert ex["consent"][0]["flag"] == "emailOptIn" and len(ex["merges"]) == 1
        assert len(ex["mergeCandidates"]) == 1

        # tenant B cannot erase tenant A's customer
        assert (await http.delete(f"/api/v1/customers/{ann}", headers=ADMIN_B)).status_code == 404
        assert (
            await http.delete(f"/api/v1/customers/{ann}", headers=auth_headers("club-a", ["staff"]))
        ).status_code == 403
        before = await all_text(svc)
        assert all(p in before for p in PII[:-1])  # the check below can fail

        r = await http.delete(f"/api/v1/customers/{player}", headers=ADMIN_A)
        assert r.status_code == 200 and set(r.json()["erasedIds"]) == {ann, player}
        after = await all_text(svc)
        leaks = [p for p in PII if p.lower() in after.lower()]
        assert leaks == [], leaks
        tomb = await db.rows(
            svc, "SELECT status, erased_at FROM profile WHERE id = CAST(:id AS uuid)", id=ann
        )
        assert tomb[0]["status"] == "DELETED" and tomb[0]["erased_at"] is not None
        erased = await db.outbox(svc, "profile.erased")
        assert {e["profileId"] for e in erased} == {ann, player}
        assert (await http.get(f"/api/v1/customers/{ann}", headers=ADMIN_A)).status_code == 404
        r = await http.get("/api/v1/customers/resolve?email=ann.secret@x.com", headers=ADMIN_A)
        assert r.status_code == 404
        assert (await http.get(f"/api/v1/customers/{ann}/export", headers=ADMIN_A)).status_code == 404
        assert (await http.get(f"/api/v1/customers/{bob}", headers=ADMIN_A)).json()["attributes"][
            "firstName"
        ] == "Bob"
        assert (await http.get("/api/v1/customers/merge-candidates", headers=ADMIN_A)).json()["items"] == []
        r = await http.delete(f"/api/v1/customers/{ann}", headers=ADMIN_A)  # idempotent
        assert r.status_code == 200 and len(await db.outbox(svc, "profile.erased")) == 2
        r = await http.get(f"/api/v1/sync-log?eventId={ids[0]}", headers=ADMIN_A)
        assert r.json()["items"][0]["profileId"] == ann  # the sync log keeps ids, not data
