"""Free-text scrubbing: whatever a caller writes (a segment query, a campaign goal, notes, a brand voice) is
cleaned of personal data before it can reach a provider.

Recognised: South African ID numbers (13 digits, a real date of birth, Luhn check digit), payment card numbers
(13-19 digits, Luhn), email addresses, phone numbers (libphonenumber, local numbers read in the default region,
international ones by their country code), the excluded values of the profile in context, and the names and
member number of that profile (which become their {{placeholders}}).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import phonenumbers

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
SA_ID_RE = re.compile(r"(?<![\d])(\d{6})[ ]?(\d{4})[ ]?(\d{3})(?![\d])")
_DIGIT = re.compile(r"\d")
CARD_RE = re.compile(r"(?<![\d])(?:\d[ \-]?){12,18}\d(?![\d])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _valid_yymmdd(s: str) -> bool:
    yy, mm, dd = int(s[:2]), int(s[2:4]), int(s[4:6])
    for century in (1900, 2000):
        try:
            date(century + yy, mm, dd)
            return True
        except ValueError:
            continue
    return False


def is_sa_id(number: str) -> bool:
    """13 digits: YYMMDD date of birth, SSSS sequence, citizenship, a digit, and a Luhn check digit."""
    digits = re.sub(r"\s", "", number)
    return len(digits) == 13 and digits.isdigit() and _valid_yymmdd(digits[:6]) and luhn_ok(digits)


@dataclass
class Scrubbed:
    text: str
    redactions: Counter[str] = field(default_factory=Counter)


class Scrubber:
    def __init__(self, region: str = "ZA") -> None:
        self.region = region

    def scrub(
        self, text: str, *, names: dict[str, str] | None = None, exact: dict[str, str] | None = None
    ) -> Scrubbed:
        """`names`: token -> value of the profile in context ({"firstName": "Thandi"}), replaced by {{token}}.
        `exact`: label -> excluded value of that profile (its address, say), replaced by [LABEL]."""
        counts: Counter[str] = Counter()
        out = text
        for label, value in (exact or {}).items():
            if value and len(value.strip()) >= 3:
                out, n = re.subn(re.escape(value.strip()), f"[{label.upper()}]", out, flags=re.IGNORECASE)
                counts[label] += n

        def id_sub(m: re.Match[str]) -> str:
            if is_sa_id(m.group(0)):
                counts["idNumber"] += 1
                return "[ID_NUMBER]"
            return m.group(0)

        out = SA_ID_RE.sub(id_sub, out)

        def card_sub(m: re.Match[str]) -> str:
            digits = re.sub(r"\D", "", m.group(0))
            if 13 <= len(digits) <= 19 and luhn_ok(digits):
                counts["cardNumber"] += 1
                return "[CARD_NUMBER]"
            return m.group(0)

        out = CARD_RE.sub(card_sub, out)
        out, n = EMAIL_RE.subn("[EMAIL]", out)
        counts["email"] += n
        out = self._phones(out, counts)
        for token, value in sorted((names or {}).items(), key=lambda kv: -len(kv[1] or "")):
            if value and len(value.strip()) >= 2:
                pattern = r"(?<!\w)" + re.escape(value.strip()) + r"(?!\w)"
                out, n = re.subn(pattern, "{{" + token + "}}", out, flags=re.IGNORECASE)
                counts[token] += n
        return Scrubbed(out, +counts)

    def _phones(self, text: str, counts: Counter[str]) -> str:
        # No numbering plan has subscriber numbers under 6 digits worth calling PII; skip the (costly) matcher.
        if len(_DIGIT.findall(text)) < 6:
            return text
        matches = list(
            phonenumbers.PhoneNumberMatcher(text, self.region, leniency=phonenumbers.Leniency.VALID)
        )
        for m in reversed(matches):
            text = text[: m.start] + "[PHONE]" + text[m.end :]
        counts["phoneNumber"] += len(matches)
        return text
