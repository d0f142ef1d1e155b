"""Reading and validating a legacy export folder (format: `docs/backfill.md`).

Everything is read and checked before anything is published. A problem with a whole file (an unknown column, a
file that is not UTF-8, a missing required column) refuses the import: publishing the other files would leave it
half-imported. A problem with one row rejects that row (and the rows that depend on it: the memberships of a
rejected person), naming its file and line; the rest is imported. A value that identifies too many people (one
email on 500 people) is not used as an identifier, as identity would block it; the people keep their other keys.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fairway_cli.backfill.values import (
    BadValue,
    check_range,
    parse_amount,
    parse_bool,
    parse_handicap,
    parse_int,
    parse_when,
)
from fairway_schemas.identity_keys import normalize_email, normalize_id, normalize_phone

REGIONS = {"ZA": ("Africa/Johannesburg", "ZAR"), "GB": ("Europe/London", "GBP")}


@dataclass(frozen=True)
class Entity:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


PEOPLE = Entity("people", ("legacy_id", "created_at"),
                ("first_name", "last_name", "email", "phone", "date_of_birth", "scl_member_id", "teetime_player_id",
                 "messaging_contact_id", "membership_number", "home_club", "handicap"))
MEMBERSHIPS = Entity("memberships", ("legacy_id", "tier", "started_on", "expires_on"),
                     ("cancelled_on", "cancel_reason", "amount", "currency"))
CONSENT = Entity("consent", ("legacy_id", "channel", "opted_in", "changed_at"), ())
NOTES = Entity("notes", ("legacy_id", "created_at", "body"), ("author", "type"))
TAGS = Entity("tags", ("legacy_id", "tag"), ("tagged_at",))
ACTIVITIES = Entity("activities", ("legacy_id", "activity_id", "type", "occurred_at"),
                    ("amount", "currency", "course", "holes", "score", "players", "handicap", "description",
                     "subject"))
ENTITIES = (PEOPLE, MEMBERSHIPS, CONSENT, NOTES, TAGS, ACTIVITIES)
BY_NAME = {e.name: e for e in ENTITIES}

CONSENT_FLAGS = {"email": "emailOptIn", "sms": "smsOptIn", "push": "pushOptIn", "whatsapp": "whatsappOptIn",
                 "ai_marketing": "aiMarketingConsent", "do_not_profile": "doNotProfile"}
ACTIVITY_TYPES = ("booking", "booking_cancelled", "round", "purchase", "payment", "handicap", "email_sent",
                  "email_delivered", "email_opened", "email_clicked", "sms_sent")
MAX_TEXT = 2000


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reason: str
    legacy_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "legacyId": self.legacy_id, "reason": self.reason}


@dataclass(frozen=True)
class Row:
    """One record of a file: its line and its cells by column ('' when absent)."""

    file: str
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()


@dataclass(frozen=True)
class Person:
    line: int
    legacy_id: str
    at: datetime
    identity: dict[str, str]
    attributes: dict[str, Any]
    handicap: float | None


@dataclass(frozen=True)
class Record:
    """A membership, consent change, note, tag or activity of a person, ready to become events."""

    entity: str
    file: str
    line: int
    legacy_id: str
    key: str  # what makes it unique within the person: the activity id, the tag, the consent flag and time...
    at: datetime
    fields: dict[str, Any]


@dataclass
class SharedValue:
    key_type: str
    value: str
    lines: list[int]


@dataclass
class Export:
    region: str
    folder: Path
    files: dict[str, str] = field(default_factory=dict)  # entity -> file name
    read: Counter[str] = field(default_factory=Counter)
    people: dict[str, Person] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    rejects: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    file_errors: list[Problem] = field(default_factory=list)
    shared: list[SharedValue] = field(default_factory=list)

    def rejected(self) -> Counter[str]:
        by_file = {f: e for e, f in self.files.items()}
        return Counter(by_file[p.file] for p in self.rejects)

    def accepted(self) -> Counter[str]:
        return Counter({"people": len(self.people)}) + Counter(r.entity for r in self.records)


def _text(row: Row, column: str) -> str | None:
    v = row.get(column)
    if "\x00" in v:
        raise BadValue(f"{column} holds a NUL character")
    return v[:MAX_TEXT] or None


# -- files -------------------------------------------------------------------------------------------------------
def decode(raw: bytes, name: str, encoding: str | None) -> str:
    if encoding:
        return raw.decode(encoding)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _FileError(name, line, f"not UTF-8: byte 0x{raw[exc.start]:02X} (a Latin-1 or Windows-1252 export?); "
                                     "re-export as UTF-8 or pass --encoding latin-1") from None


class _FileError(Exception):
    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(reason)
        self.problem = Problem(file, line, reason)


def _columns(entity: Entity, header: list[str], name: str, line: int) -> None:
    unknown = [h for h in header if h not in entity.columns]
    if unknown:
        raise _FileError(name, line, f"unknown column(s) {', '.join(map(repr, unknown))}; {entity.name} files "
                                     f"take {', '.join(entity.columns)}")
    dupes = [h for h, n in Counter(header).items() if n > 1]
    if dupes:
        raise _FileError(name, line, f"column(s) {', '.join(dupes)} appear more than once")
    missing = [c for c in entity.required if c not in header]
    if missing:
        raise _FileError(name, line, f"required column(s) {', '.join(missing)} missing")


def read_rows(entity: Entity, path: Path, encoding: str | None, rejects: list[Problem]) -> Iterator[Row]:
    """Rows of a CSV or JSON Lines file. Raises _FileError for what spoils the whole file; a malformed row is
    appended to `rejects` and skipped."""
    name = path.name
    text = decode(path.read_bytes(), name, encoding)
    if path.suffix == ".jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                rejects.append(Problem(name, n, f"not a JSON object: {exc.msg}"))
                continue
            if not isinstance(obj, dict):
                rejects.append(Problem(name, n, "not a JSON object"))
                continue
            unknown = [k for k in obj if k not in entity.columns]
            if unknown:
                raise _FileError(name, n, f"unknown field(s) {', '.join(map(repr, unknown))}; {entity.name} "
                                          f"records take {', '.join(entity.columns)}")
            missing = [c for c in entity.required if obj.get(c) in (None, "")]
            cells = {k: "" if v is None else (json.dumps(v) if isinstance(v, dict | list) else str(v))
                     for k, v in obj.items()}
            if missing:
                rejects.append(Problem(name, n, f"{', '.join(missing)} missing", cells.get("legacy_id") or None))
                continue
            yield Row(name, n, cells)
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise _FileError(name, 1, "empty file: a header row is required") from None
    _columns(entity, header, name, 1)
    last = reader.line_num
    for cells in reader:
        n, last = last + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            rejects.append(Problem(name, n, f"{len(cells)} cell(s) where the header names {len(header)}",
                                   cells[header.index("legacy_id")].strip() if len(cells) > header.index(
                                       "legacy_id") else None))
            continue
        yield Row(name, n, dict(zip(header, cells, strict=True)))


def find_files(folder: Path) -> tuple[dict[str, Path], list[Problem]]:
    found: dict[str, Path] = {}
    problems = []
    for p in sorted(folder.iterdir()):
        if p.suffix not in (".csv", ".jsonl") or not p.is_file():
            continue
        if p.stem not in BY_NAME:
            problems.append(Problem(p.name, 0, f"unknown file: expected {', '.join(e.name for e in ENTITIES)} "
                                               "(.csv or .jsonl)"))
        elif p.stem in found:
            problems.append(Problem(p.name, 0, f"both {found[p.stem].name} and {p.name}: give one"))
        else:
            found[p.stem] = p
    if "people" not in found and not problems:
        problems.append(Problem("people.csv", 0, "no people file: every import starts from its people"))
    return found, problems


# -- validation --------------------------------------------------------------------------------------------------
def read_export(folder: Path, region: str, *, encoding: str | None = None, shared_threshold: int = 3) -> Export:
    tz = ZoneInfo(REGIONS[region][0])
    out = Export(region=region, folder=folder)
    paths, out.file_errors = find_files(folder)
    out.files = {e: p.name for e, p in paths.items()}
    rows: dict[str, list[Row]] = {}
    for e, p in paths.items():
        try:
            rows[e] = list(read_rows(BY_NAME[e], p, encoding, out.rejects))
        except _FileError as exc:
            out.file_errors.append(exc.problem)
    if out.file_errors:
        return out
    for e in paths:
        out.read[e] = len(rows[e]) + sum(1 for p in out.rejects if p.file == paths[e].name)
    _people(out, rows.get("people", []), tz, shared_threshold)
    seen: dict[tuple[str, str, str], int] = {}
    for e in ("memberships", "consent", "notes", "tags", "activities"):
        for row in rows.get(e, []):
            legacy_id = row.get("legacy_id")
            try:
                if legacy_id not in out.people:
                    raise BadValue(_why_missing(out, legacy_id))
                record = _record(e, row, legacy_id, tz, region)
                first = seen.setdefault((e, legacy_id, record.key), row.line)
                if first != row.line and e in ("activities", "tags"):
                    raise BadValue(f"duplicate {'activity_id' if e == 'activities' else 'tag'} {record.key!r} "
                                   f"for {legacy_id} (first at line {first})")
                out.records.append(record)
            except BadValue as exc:
                out.rejects.append(Problem(row.file, row.line, str(exc), legacy_id))
    out.rejects.sort(key=lambda p: (p.file, p.line))
    return out


def _why_missing(out: Export, legacy_id: str) -> str:
    people_file = out.files.get("people", "people.csv")
    first = next((p for p in out.rejects if p.file == people_file and p.legacy_id == legacy_id), None)
    if first:
        return f"person {legacy_id} was rejected ({people_file} line {first.line})"
    return f"legacy_id {legacy_id!r} is not in {people_file}"


def _people(out: Export, rows: list[Row], tz: ZoneInfo, shared_threshold: int) -> None:
    parsed: list[tuple[Row, Person]] = []
    first_line: dict[str, int] = {}
    for row in rows:
        legacy_id = row.get("legacy_id")
        try:
            if legacy_id in first_line:
                raise BadValue(f"duplicate legacy_id {legacy_id!r} (first at line {first_line[legacy_id]})")
            first_line[legacy_id] = row.line
            parsed.append((row, _person(row, legacy_id, tz, out)))
        except BadValue as exc:
            out.rejects.append(Problem(row.file, row.line, str(exc), legacy_id or None))
    # A value on many people identifies none of them (a club's reception number, info@): not used, as identity
    # would block it after the first few, and counted here with every line that carried it.
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row, person in parsed:
        for key_type in ("email", "phoneNumber"):
            if key_type in person.identity:
                holders[(key_type, person.identity[key_type])].append(row.line)
    shared = {k for k, lines in holders.items() if len(lines) >= shared_threshold}
    out.shared = [SharedValue(k, v, holders[(k, v)]) for k, v in sorted(shared)]
    for row, person in parsed:
        dropped = [k for k in ("email", "phoneNumber") if (k, person.identity.get(k)) in shared]
        if dropped:
            identity = {k: v for k, v in person.identity.items() if k not in dropped}
            if not identity:
                out.rejects.append(Problem(row.file, row.line, f"no identity key left: its {' and '.join(dropped)} "
                                           f"is shared by {shared_threshold} or more people", person.legacy_id))
                continue
            person = Person(person.line, person.legacy_id, person.at, identity, person.attributes, person.handicap)
        out.people[person.legacy_id] = person


def _person(row: Row, legacy_id: str, tz: ZoneInfo, out: Export) -> Person:
    ok, why = normalize_id(legacy_id)
    if not ok:
        raise BadValue(f"legacy_id {legacy_id[:40]!r}: {why}")
    at = check_range(parse_when(row.get("created_at"), "created_at", tz), "created_at")
    identity: dict[str, str] = {}
    for column, key_type in (("email", "email"), ("phone", "phoneNumber")):
        raw = row.get(column)
        if not raw:
            continue
        value, why = normalize_email(raw) if key_type == "email" else normalize_phone(raw, out.region)
        if value:
            identity[key_type] = value
        else:  # the person may still be known by other keys: the value is left out, and said so
            out.warnings.append(Problem(row.file, row.line, f"{column} {raw[:60]!r} not used: {why}", legacy_id))
    for column, key_type in (("scl_member_id", "sclMemberId"), ("teetime_player_id", "teetimePlayerId"),
                             ("messaging_contact_id", "messagingContactId")):
        if raw := row.get(column):
            value, why = normalize_id(raw)
            if not value:
                raise BadValue(f"{column} {raw[:40]!r}: {why}")
            identity[key_type] = value
    if not identity:
        raise BadValue("no usable identity key (email, phone or a system id)")
    attributes: dict[str, Any] = {}
    for column, attr in (("first_name", "firstName"), ("last_name", "lastName"), ("home_club", "homeClub"),
                         ("membership_number", "membershipNumber")):
        if v := _text(row, column):
            attributes[attr] = v[:200]
    if dob := row.get("date_of_birth"):
        born = check_range(parse_when(dob, "date_of_birth", tz), "date_of_birth").date()
        attributes["dateOfBirth"] = born.isoformat()
    handicap = parse_handicap(row.get("handicap")) if row.get("handicap") else None
    return Person(row.line, legacy_id, at, identity, attributes, handicap)


def _record(entity: str, row: Row, legacy_id: str, tz: ZoneInfo, region: str) -> Record:
    currency = REGIONS[region][1]

    def when(column: str) -> datetime:
        return check_range(parse_when(row.get(column), column, tz), column)

    f: dict[str, Any] = {}
    if entity == "memberships":
        started, expires = when("started_on"), parse_when(row.get("expires_on"), "expires_on", tz)
        if expires < started:
            raise BadValue(f"expires_on {row.get('expires_on')!r} is before started_on {row.get('started_on')!r}")
        f = {"tier": _text(row, "tier"), "expires": expires.date().isoformat(), "reason": _text(row, "cancel_reason"),
             "currency": _currency(row, currency)}
        if row.get("amount"):
            f["amount"] = str(parse_amount(row.get("amount"), "amount"))
        if row.get("cancelled_on"):
            cancelled = when("cancelled_on")
            if cancelled < started:
                raise BadValue(f"cancelled_on {row.get('cancelled_on')!r} is before started_on")
            f["cancelled"] = cancelled.isoformat()
        return Record(entity, row.file, row.line, legacy_id, started.date().isoformat(), started, f)
    if entity == "consent":
        channel = row.get("channel").lower()
        if channel not in CONSENT_FLAGS:
            raise BadValue(f"channel {channel[:30]!r} is not one of {', '.join(CONSENT_FLAGS)}")
        at = when("changed_at")
        f = {"flag": CONSENT_FLAGS[channel], "value": parse_bool(row.get("opted_in"), "opted_in")}
        return Record(entity, row.file, row.line, legacy_id, f"{channel}|{at.isoformat()}", at, f)
    if entity == "notes":
        at, body = when("created_at"), _text(row, "body")
        if not body:
            raise BadValue("body is empty")
        f = {"body": body, "author": _text(row, "author"), "type": (_text(row, "type") or "general").lower()}
        return Record(entity, row.file, row.line, legacy_id, f"{at.isoformat()}|{body[:200]}", at, f)
    if entity == "tags":
        tag = (_text(row, "tag") or "").strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9 _\-:/.&]{0,63}", tag):
            raise BadValue(f"tag {tag[:70]!r} must be 1-64 letters, digits, spaces or - _ : / . &")
        at = when("tagged_at") if row.get("tagged_at") else None
        return Record(entity, row.file, row.line, legacy_id, tag, at or datetime(1970, 1, 1, tzinfo=UTC),
                      {"tag": tag, "dated": at is not None})
    return _activity(row, legacy_id, when, currency)


def _currency(row: Row, default: str) -> str:
    c = row.get("currency").upper() or default
    if not re.fullmatch(r"[A-Z]{3}", c):
        raise BadValue(f"currency {c[:10]!r} is not a three-letter code")
    return c


def _activity(row: Row, legacy_id: str, when: Any, currency: str) -> Record:
    kind, activity_id = row.get("type").lower(), row.get("activity_id")
    if kind not in ACTIVITY_TYPES:
        raise BadValue(f"type {kind[:30]!r} is not one of {', '.join(ACTIVITY_TYPES)}")
    ok, why = normalize_id(activity_id)
    if not ok:
        raise BadValue(f"activity_id {activity_id[:40]!r}: {why}")
    at = when("occurred_at")
    f: dict[str, Any] = {"type": kind}
    if kind in ("purchase", "payment") and not row.get("amount"):
        raise BadValue(f"a {kind} needs an amount")
    if row.get("amount"):
        f["amount"], f["currency"] = str(parse_amount(row.get("amount"), "amount")), _currency(row, currency)
    if kind == "handicap":
        if not row.get("handicap"):
            raise BadValue("a handicap activity needs a handicap")
        f["handicap"] = parse_handicap(row.get("handicap"))
    if row.get("holes"):
        f["holes"] = parse_int(row.get("holes"), "holes", 1, 36)
    if row.get("score"):
        f["score"] = parse_int(row.get("score"), "score", 1, 300)
    if row.get("players"):
        f["players"] = parse_int(row.get("players"), "players", 1, 8)
    for column in ("course", "description", "subject"):
        if v := _text(row, column):
            f[column] = v[:500]
    return Record("activities", row.file, row.line, legacy_id, activity_id, at, f)
