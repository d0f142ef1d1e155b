"""Reading and validating legacy exports: every bad input named with its file and line, nothing half-imported,
and every valid record an upstream event the registry accepts."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fairway_cli.backfill.events import people_messages, record_messages
from fairway_cli.backfill.importer import Target, manifest_path, run_import, summary
from fairway_cli.backfill.records import read_export
from fairway_events.registry import registry

SAMPLES = Path(__file__).parents[4] / "docs" / "backfill-samples"
PEOPLE_HEADER = "legacy_id,first_name,last_name,email,phone,scl_member_id,created_at\n"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def balanced(doc: dict) -> bool:
    return all(e["read"] == e["accepted"] + e["rejected"] for e in doc["entities"].values())


@pytest.mark.parametrize("region", ["za", "gb"])
def test_the_samples_read_cleanly_and_every_event_is_valid_upstream(region: str) -> None:
    export = read_export(SAMPLES / region, region.upper())
    doc = summary(export, "stonehaven")
    assert not doc["fileErrors"] and not doc["rejects"] and balanced(doc)
    messages = people_messages(export, "stonehaven") + record_messages(export, "stonehaven")
    for m in messages:
        body = json.loads(m.value)
        env = registry.from_wire(m.value, body, {})
        assert env.event_type == m.event_type and registry.latest(m.event_type).topic == m.topic
    assert len({m.event_id for m in messages}) == len(messages)
    kinds = {m.event_type for m in messages}
    assert {"scl.member.created", "teetime.player.created", "scl.membership.renewed", "contactPreference.updated",
            "teetime.round.played"} <= kinds


def test_phones_are_read_in_the_region_of_their_source(tmp_path: Path) -> None:
    # The same national number is a ZA number in the ZA export and a GB number in the GB one.
    write(tmp_path / "za", "people.csv", PEOPLE_HEADER + "A1,Thabo,M,,082 461 3378,,2020-01-01\n")
    write(tmp_path / "gb", "people.csv", PEOPLE_HEADER + "B1,Oliver,H,,07911 123456,,2020-01-01\n"
                                                         "B2,Ann,H,,082 461 3378,,2020-01-01\n")
    za, gb = read_export(tmp_path / "za", "ZA"), read_export(tmp_path / "gb", "GB")
    assert za.people["A1"].identity == {"phoneNumber": "+27824613378"}
    assert gb.people["B1"].identity == {"phoneNumber": "+447911123456"}
    assert "B2" not in gb.people  # a ZA mobile written nationally is no valid UK number: its only key
    assert [(p.line, p.reason) for p in gb.rejects] == [(3, "no usable identity key (email, phone or a system id)")]
    assert "not used: not a valid phone number (read in region GB)" in gb.warnings[0].reason


def test_event_ids_depend_on_the_records_not_on_lines_or_format(tmp_path: Path) -> None:
    rows = ["A1,Thabo,M,thabo@mweb.co.za,,,2020-01-01\n", "A2,Lerato,K,lerato@mweb.co.za,,,2021-01-01\n"]
    write(tmp_path / "one", "people.csv", PEOPLE_HEADER + "".join(rows))
    write(tmp_path / "two", "people.csv", PEOPLE_HEADER + "\n" + "".join(reversed(rows)))
    write(tmp_path / "three", "people.jsonl", json.dumps(
        {"legacy_id": "A1", "first_name": "Thabo", "last_name": "M", "email": "thabo@mweb.co.za",
         "created_at": "2020-01-01"}) + "\n")
    ids = [{m.legacy_id: m.event_id for m in people_messages(read_export(tmp_path / f, "ZA"), "club")}
           for f in ("one", "two", "three")]
    assert ids[0] == ids[1] and ids[2]["A1"] == ids[0]["A1"]
    other_tenant = {m.legacy_id: m.event_id for m in people_messages(read_export(tmp_path / "one", "ZA"), "other")}
    assert other_tenant["A1"] != ids[0]["A1"]


def test_unknown_columns_refuse_the_whole_import(tmp_path: Path) -> None:
    write(tmp_path, "people.csv", PEOPLE_HEADER + "A1,Thabo,M,thabo@mweb.co.za,,,2020-01-01\n")
    write(tmp_path, "activities.csv", "legacy_id,activity_id,type,occurred_at,green_fee\n"
                                      "A1,R1,round,2024-01-01,350\n")
    export = read_export(tmp_path, "ZA")
    assert [(p.file, p.line) for p in export.file_errors] == [("activities.csv", 1)]
    assert "unknown column(s) 'green_fee'" in export.file_errors[0].reason
    assert not export.people and not export.records  # nothing of any file goes out


async def test_a_refused_import_publishes_nothing_and_keeps_no_manifest(tmp_path: Path) -> None:
    write(tmp_path / "x", "people.csv", PEOPLE_HEADER.replace("email", "emial")
          + "A1,Thabo,M,thabo@mweb.co.za,,,2020-01-01\n")
    # An address nothing listens on: a refused import must not even try to connect.
    doc = await run_import(tmp_path / "x", "club", "ZA", Target("127.0.0.1:1", ""), tmp_path / "run")
    assert doc["status"].startswith("refused") and "'emial'" in doc["fileErrors"][0]["reason"]
    assert not (tmp_path / "run").exists()


def test_a_latin1_file_is_named_with_its_line_and_read_when_asked(tmp_path: Path) -> None:
    text = PEOPLE_HEADER + "A1,Thabo,M,thabo@mweb.co.za,,,2020-01-01\nA2,Ren\u00e9,Botha,rene@mweb.co.za,,,2020-01-01\n"
    write(tmp_path, "people.csv", text.encode("latin-1"))
    export = read_export(tmp_path, "ZA")
    assert [(p.file, p.line) for p in export.file_errors] == [("people.csv", 3)]
    assert "not UTF-8: byte 0xE9" in export.file_errors[0].reason and "--encoding latin-1" in export.file_errors[0].reason
    again = read_export(tmp_path, "ZA", encoding="latin-1")
    assert again.people["A2"].attributes["firstName"] == "Ren\u00e9"


def test_broken_dates_and_duplicates_reject_their_rows_and_what_depends_on_them(tmp_path: Path) -> None:
    write(tmp_path, "people.csv", PEOPLE_HEADER
          + "A1,Thabo,M,thabo@mweb.co.za,,,2020-01-01\n"
          + "A2,Lerato,K,lerato@mweb.co.za,,,2021-02-30\n"      # no 30 February
          + "A1,Thabo,M,thabo.m@gmail.com,,,2020-01-01\n"       # the same legacy id again
          + "A3,Sipho,N,sipho@mweb.co.za,,,next tuesday\n")
    write(tmp_path, "activities.csv", "legacy_id,activity_id,type,occurred_at\n"
          + "A1,R1,round,2024-01-01\n"
          + "A2,R2,round,2024-01-02\n"
          + "A1,R3,round,31/13/2024\n"
          + "A1,R1,round,2024-01-05\n"
          + "A9,R4,round,2024-01-05\n")
    export = read_export(tmp_path, "ZA")
    got = [(p.file, p.line, p.reason) for p in export.rejects]
    assert got == [
        ("activities.csv", 3, "person A2 was rejected (people.csv line 3)"),
        ("activities.csv", 4, "occurred_at '31/13/2024' is not a date (YYYY-MM-DD, DD/MM/YYYY, YYYYMMDD or ISO time)"),
        ("activities.csv", 5, "duplicate activity_id 'R1' for A1 (first at line 2)"),
        ("activities.csv", 6, "legacy_id 'A9' is not in people.csv"),
        ("people.csv", 3, "created_at '2021-02-30' is not a date (YYYY-MM-DD, DD/MM/YYYY, YYYYMMDD or ISO time)"),
        ("people.csv", 4, "duplicate legacy_id 'A1' (first at line 2)"),
        ("people.csv", 5, "created_at 'next tuesday' is not a date (YYYY-MM-DD, DD/MM/YYYY, YYYYMMDD or ISO time)"),
    ]
    doc = summary(export, "club")
    assert doc["entities"]["people"] | {} == {"file": "people.csv", "read": 4, "accepted": 1, "rejected": 3,
                                               "balanced": True, "published": 1}
    assert doc["entities"]["activities"]["read"] == 5 and doc["entities"]["activities"]["accepted"] == 1
    assert balanced(doc)


def test_one_email_on_500_people_identifies_none_of_them(tmp_path: Path) -> None:
    rows = [f"P{i},Member,{i},reception@royaljhb.co.za,,{'SCL-' + str(i) if i % 2 else ''},2020-01-01\n"
            for i in range(500)]
    write(tmp_path, "people.csv", PEOPLE_HEADER + "".join(rows))
    export = read_export(tmp_path, "ZA")
    [shared] = export.shared
    assert (shared.key_type, shared.value, len(shared.lines)) == ("email", "reception@royaljhb.co.za", 500)
    assert shared.lines[:3] == [2, 3, 4]
    # Those with a member id keep it and are imported; those without are rejected, each with its line.
    assert len(export.people) == 250 and export.people["P1"].identity == {"sclMemberId": "SCL-1"}
    assert len(export.rejects) == 250 and export.rejects[0].line == 2
    assert "email is shared by 3 or more people" in export.rejects[0].reason
    assert balanced(summary(export, "club"))


def test_a_malformed_json_line_is_rejected_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, "people.jsonl",
          '{"legacy_id": "A1", "email": "thabo@mweb.co.za", "created_at": "2020-01-01"}\n'
          '{"legacy_id": "A2", "email": "lerato@mweb.co.za", \n'
          '{"legacy_id": "A3", "email": "sipho@mweb.co.za"}\n')
    export = read_export(tmp_path, "ZA")
    assert [(p.line, p.reason.split(":")[0]) for p in export.rejects] == [(2, "not a JSON object"),
                                                                          (3, "created_at missing")]
    assert list(export.people) == ["A1"] and balanced(summary(export, "club"))


def test_a_dry_run_writes_no_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "za"
    shutil.copytree(SAMPLES / "za", folder)
    import asyncio

    doc = asyncio.run(run_import(folder, "club", "ZA", None, tmp_path / "run"))
    assert doc["status"].startswith("dry run") and doc["events"] > 0
    assert not manifest_path(tmp_path / "run", "club", read_export(folder, "ZA")).exists()


def test_the_command_validates_and_refuses_with_exit_code_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from fairway_cli.main import app

    runner = CliRunner()
    ok = runner.invoke(app, ["backfill", "import", str(SAMPLES / "gb"), "--tenant", "club", "--region", "GB",
                             "--dry-run", "--out", str(tmp_path / "gb.json")], env={"FAIRWAY_RUN_DIR": str(tmp_path)})
    assert ok.exit_code == 0, ok.output
    assert "people       in        5 = out        5 + rejected      0  [ok]  to publish 5" in ok.output
    assert "contactPreference.updated" in ok.output
    assert json.loads((tmp_path / "gb.json").read_text())["status"].startswith("dry run")
    write(tmp_path / "bad", "people.csv", PEOPLE_HEADER.replace("phone", "cell") + "A1,T,M,t@mweb.co.za,,,2020-01-01\n")
    bad = runner.invoke(app, ["backfill", "import", str(tmp_path / "bad"), "--tenant", "club", "--region", "ZA"],
                        env={"FAIRWAY_RUN_DIR": str(tmp_path)})
    assert bad.exit_code == 2 and "FILE people.csv line 1: unknown column(s) 'cell'" in bad.output
