"""The words of the segment parser: normalisation, numbers with their comparatives, and time windows.

Phrases are matched on normalised text (lower case, contractions opened, number words as digits), and every
quantity or window a phrase captures is read by one function here, so "at least 3", "3 or more" and "3+" mean the
same thing everywhere.
"""

from __future__ import annotations

import re

from fairway_schemas.criteria import Operator

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}

NUM = r"-?\d+(?:\.\d+)?"
CMP = (
    r"(?:more than|over|above|greater than|higher than|exceeding|in excess of|at least|no less than|"
    r"not less than|a minimum of|minimum of|less than|under|below|fewer than|lower than|at most|no more than|"
    r"not more than|up to|a maximum of|maximum of|exactly|equal to|equals|of|>=|<=|>|<|=)"
)
POST = r"(?:or more|or above|or higher|or over|or better|or less|or fewer|or below|or under|or lower)"
# A quantity as a whole: read with `quantity()`.
QTY = rf"(?:between {NUM} and {NUM}|from {NUM} to {NUM}|(?:{CMP} )?{NUM}(?: {POST}(?! -?\d))?)"
UNIT = r"(?:day|week|month|year)s?"
# A time window as a whole: read with `window_days()`.
WINDOW = (
    rf"(?:(?:in|during|within|over|for|from) )?(?:the )?(?:last|past|previous|recent) (?:{NUM} )?{UNIT}"
    rf"|(?:in|for|within) (?:the )?{NUM} {UNIT}"
    r"|this (?:week|month|year)|recently|lately"
)
_CMP_OPS = {
    "more than": Operator.gt, "over": Operator.gt, "above": Operator.gt, "greater than": Operator.gt,
    "higher than": Operator.gt, "exceeding": Operator.gt, "in excess of": Operator.gt, ">": Operator.gt,
    "at least": Operator.gte, "no less than": Operator.gte, "not less than": Operator.gte,
    "a minimum of": Operator.gte, "minimum of": Operator.gte, ">=": Operator.gte,
    "less than": Operator.lt, "under": Operator.lt, "below": Operator.lt, "fewer than": Operator.lt,
    "lower than": Operator.lt, "<": Operator.lt,
    "at most": Operator.lte, "no more than": Operator.lte, "not more than": Operator.lte, "up to": Operator.lte,
    "a maximum of": Operator.lte, "maximum of": Operator.lte, "<=": Operator.lte,
    "exactly": Operator.eq, "equal to": Operator.eq, "equals": Operator.eq, "of": Operator.eq, "=": Operator.eq,
}
_POST_OPS = {"or more": Operator.gte, "or above": Operator.gte, "or higher": Operator.gte, "or over": Operator.gte,
             "or better": Operator.gte, "or less": Operator.lte, "or fewer": Operator.lte,
             "or below": Operator.lte, "or under": Operator.lte, "or lower": Operator.lte}


def number(text: str) -> int | float:
    v = float(text)
    return int(v) if v.is_integer() else v


def quantity(text: str, default: Operator = Operator.eq) -> tuple[Operator, int | float | list[int | float]]:
    """"at least 3" -> (gte, 3); "between 10 and 20" -> (between, [10, 20]); "7" -> (default, 7)."""
    text = text.strip()
    m = re.fullmatch(rf"(?:between ({NUM}) and ({NUM})|from ({NUM}) to ({NUM}))", text)
    if m:
        lo, hi = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        a, b = sorted((number(lo), number(hi)))
        return Operator.between, [a, b]
    m = re.fullmatch(rf"(?:({CMP}) )?({NUM})(?: ({POST}))?", text)
    if not m:
        raise ValueError(f"not a quantity: {text!r}")
    value = number(m.group(2))
    if m.group(3):
        return _POST_OPS[m.group(3)], value
    if m.group(1):
        return _CMP_OPS[m.group(1)], value
    return default, value


def window_days(text: str | None) -> tuple[int | None, str | None]:
    """(days, assumption) of a window phrase; (None, None) when there is none."""
    if not text:
        return None, None
    text = text.strip()
    if text in ("recently", "lately"):
        return 30, f"'{text}' was read as the last 30 days."
    m = re.match(r"this (week|month|year)", text)
    if m:
        days = UNIT_DAYS[m.group(1)]
        return days, f"'{text}' was read as the last {days} days."
    m = re.search(rf"(?:({NUM}) )?(day|week|month|year)s?$", text)
    if not m:
        return None, None
    n = number(m.group(1)) if m.group(1) else 1
    return int(n * UNIT_DAYS[m.group(2)]), None


def normalise(query: str) -> str:
    t = query.lower()
    t = re.sub(r"[’‘`´]", "'", t)
    t = re.sub(r"\bcan't\b|\bcannot\b", "can not", t)
    t = re.sub(r"\bwon't\b", "will not", t)
    t = re.sub(r"\b(\w+)n't\b", r"\1 not", t)
    t = re.sub(r"\b(\w+)'(?:s|ve|re|d|ll)\b", r"\1", t)
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)  # 5,000 -> 5000
    t = re.sub(r"\b(\d+(?:\.\d+)?)k\b", lambda m: str(number(str(float(m.group(1)) * 1000))), t)
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)  # at-risk, high-value, e-mail
    t = re.sub(r"\be mails?\b", lambda m: m.group(0).replace("e mail", "email"), t)
    t = re.sub(r"(\d)\s*\+", r"\1 or more ", t)
    t = re.sub(r"(?:\br|£|\$|€|\bzar|\bgbp)\s?(?=\d)", "", t)  # currency before an amount
    t = re.sub(r"(\d) (?:rand|zar|pounds|gbp|dollars|euros?)\b", r"\1", t)
    t = re.sub(r"[()\[\]\"!?]", " ", t)
    t = re.sub(r"([,;:])", r" \1 ", t)
    t = re.sub(r"(?<!\d)\.(?!\d)", " ", t)  # full stops, not decimal points
    t = t.replace("&", " and ")
    t = re.sub(r"\ba couple of\b", "2", t)
    t = re.sub(r"\btwice\b", "2 times", t)
    t = re.sub(r"\bthrice\b", "3 times", t)
    t = re.sub(r"\bonce\b", "1 time", t)
    t = re.sub(r"\bhalf a year\b", "6 months", t)
    t = re.sub(r"\b(?:a )?fortnight\b", "14 days", t)
    t = re.sub(r"\bquarter\b", "3 months", t)
    t = re.sub(r"\b(a|an) (day|week|month|year)\b", r"1 \2", t)
    t = re.sub(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", lambda m: str(NUMBER_WORDS[m.group(1)]), t)
    t = re.sub(r"\b(\d+) (\d+)\b", lambda m: str(int(m.group(1)) + int(m.group(2)))
               if int(m.group(1)) % 10 == 0 and int(m.group(2)) < 10 else m.group(0), t)  # twenty five
    t = re.sub(r"\s+", " ", t)
    return f" {t.strip()} "
