"""The keys a static segment's members are given by: profile ids, emails and member numbers, from a JSON body or
an uploaded CSV, normalised and remembered with their CSV line."""

from __future__ import annotations

import csv
import io

from fairway_chassis import Unprocessable
from fairway_segmentation.errors import PayloadTooLarge
from fairway_segmentation.segments import schemas

MAX_CSV_BYTES = 10 * 1024 * 1024
MAX_CSV_ROWS = 100_000
EMAIL_HEADERS = {"email", "emailaddress", "e-mail", "mail"}
NUMBER_HEADERS = {
    "membernumber",
    "membershipnumber",
    "memberno",
    "membernr",
    "memberid",
    "sclmemberid",
    "number",
}


class MemberKeys:
    """Normalised keys to look people up by: (value, CSV line or None)."""

    def __init__(
        self,
        profile_ids: list[tuple[str, int | None]],
        emails: list[tuple[str, int | None]],
        numbers: list[tuple[str, int | None]],
        *,
        from_csv: bool = False,
        invalid_rows: list[int] | None = None,
    ) -> None:
        self.profile_ids = profile_ids
        self.emails = emails
        self.numbers = numbers
        self.from_csv = from_csv
        self.invalid_rows = invalid_rows or []

    @property
    def size(self) -> int:
        return len(self.profile_ids) + len(self.emails) + len(self.numbers)

    @classmethod
    def of(cls, body: schemas.MembersIn) -> MemberKeys:
        return cls(
            [(p, None) for p in dict.fromkeys(body.profileIds)],
            [(e, None) for e in dict.fromkeys(_email(e) for e in body.emails)],
            [(n, None) for n in dict.fromkeys(_number(n) for n in body.memberNumbers)],
        )

    @classmethod
    def from_csv_bytes(cls, data: bytes) -> MemberKeys:
        """A CSV of emails and/or member numbers. A header row names the columns (email, member number,
        membership number, SCL member id, ...); without one, a value with '@' is an email, anything else a number."""
        if len(data) > MAX_CSV_BYTES:
            raise PayloadTooLarge(f"a CSV import holds at most {MAX_CSV_BYTES // (1024 * 1024)} MB")
        try:
            textual = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Unprocessable("the CSV must be UTF-8 text", field="body") from None
        try:
            rows = list(csv.reader(io.StringIO(textual)))
        except csv.Error as exc:
            raise Unprocessable(f"unreadable CSV: {exc}", field="body") from None
        if len(rows) > MAX_CSV_ROWS:
            raise PayloadTooLarge(f"a CSV import holds at most {MAX_CSV_ROWS} rows")
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows:
            raise Unprocessable("the CSV holds no rows", field="body")
        header = [c.strip().lower().replace(" ", "").replace("_", "") for c in rows[0]]
        email_cols = [i for i, h in enumerate(header) if h in EMAIL_HEADERS]
        number_cols = [i for i, h in enumerate(header) if h in NUMBER_HEADERS]
        emails: dict[str, int] = {}
        numbers: dict[str, int] = {}
        invalid: list[int] = []
        if email_cols or number_cols:
            body_rows = list(enumerate(rows[1:], start=2))
        else:
            body_rows = list(enumerate(rows, start=1))
        for line, r in body_rows:
            cells = [c.strip() for c in r]
            found = False
            if email_cols or number_cols:
                for i in email_cols:
                    if i < len(cells) and cells[i]:
                        emails.setdefault(_email(cells[i]), line)
                        found = True
                for i in number_cols:
                    if i < len(cells) and cells[i]:
                        numbers.setdefault(_number(cells[i]), line)
                        found = True
            else:
                first = next((c for c in cells if c), "")
                if "@" in first:
                    emails.setdefault(_email(first), line)
                    found = True
                elif first:
                    numbers.setdefault(_number(first), line)
                    found = True
            if not found:
                invalid.append(line)
        return cls(
            [],
            [(k, v) for k, v in emails.items()],
            [(k, v) for k, v in numbers.items()],
            from_csv=True,
            invalid_rows=invalid,
        )


def _email(e: str) -> str:
    return e.strip().lower().replace("\x00", "")[:320]


def _number(n: str) -> str:
    return n.strip().lower().replace("\x00", "")[:100]
