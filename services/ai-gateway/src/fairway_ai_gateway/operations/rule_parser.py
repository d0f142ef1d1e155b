"""The deterministic segment parser: segment.parse's fallback when no LLM may or can answer.

It knows the phrasings a golf club's marketer uses (tiers, "haven't played in 30 days", "high handicappers",
"expiring next month", "email subscribers who click but don't book", ...), maps each to a rule of the criteria
language, lists every assumption it made, and says plainly when it understood nothing. Rules about who a person
is come first, then rules about what they did, each group in the order the query mentions them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fairway_schemas.criteria import FieldSpec, Group, Operator, RelativeDate, Rule

NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "once": 1,
    "two": 2,
    "twice": 2,
    "three": 3,
    "thrice": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fortnight": 14,
}
UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "year": 365}
NUM = r"(\d{1,4}|a|an|one|once|two|twice|three|thrice|four|five|six|seven|eight|nine|ten|eleven|twelve)"
DURATION = rf"(?:{NUM}\s+)?(day|week|fortnight|month|year)s?"
TIERS = ("bronze", "silver", "gold", "platinum", "diamond")
ATTRIBUTE_FIELDS = {
    "status",
    "lifecycleStage",
    "membershipTier",
    "membershipStatus",
    "membershipExpiry",
    "memberSince",
    "emailOptIn",
    "smsOptIn",
    "handicap",
    "engagementScore",
    "churnRiskScore",
    "lifetimeValue",
    "tags",
    "homeClub",
}


def _num(s: str | None, default: int = 1) -> int:
    if s is None:
        return default
    return int(s) if s.isdigit() else NUMBER_WORDS.get(s, default)


def _days(num: str | None, unit: str) -> int:
    return _num(num) * UNIT_DAYS[unit]


def _ago(days: int) -> RelativeDate:
    return RelativeDate(relative=f"-{days} days")


@dataclass
class _Hit:
    pos: int
    rule: Rule
    says: str  # human reading of the rule, for the interpretation


@dataclass
class ParsedSegment:
    criteria: Group
    interpretation: str
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class RuleParser:
    def __init__(self, catalogue: dict[str, FieldSpec]) -> None:
        self.catalogue = catalogue

    def parse(self, query: str) -> ParsedSegment:
        text = " " + re.sub(r"[’`´]", "'", query.lower()) + " "
        text = re.sub(r"\s+", " ", text)
        self._text = text
        self._mask = list(text)
        self._hits: list[_Hit] = []
        self._assumptions: list[str] = []
        self._warnings: list[str] = []
        for step in (
            self._tiers,
            self._expiry,
            self._inactive,
            self._not_played,
            self._played_count,
            self._email_opens,
            self._clicks,
            self._no_bookings,
            self._subscribers,
            self._handicap,
            self._engagement,
            self._churn,
            self._value,
            self._new_members,
            self._tags,
            self._status,
            self._lifecycle,
        ):
            step()
        hits = sorted(self._hits, key=lambda h: (h.rule.field not in ATTRIBUTE_FIELDS, h.pos))
        if re.search(r"\bor\b", "".join(self._mask)) and len(hits) > 1:
            self._warnings.append(
                "The rule-based parser joins conditions with AND; check whether 'or' meant either condition."
            )
        if not hits:
            return ParsedSegment(
                criteria=Group(combinator="AND", rules=[]),
                interpretation="The rule-based parser did not recognise any condition in this query, so no rules "
                "were generated. Rephrase it (e.g. 'Gold members who haven't played in 30 days') "
                "or build the segment by hand.",
                assumptions=self._assumptions,
                warnings=[*self._warnings, "No rules: a segment with no rules would hold every profile."],
            )
        return ParsedSegment(
            criteria=Group(combinator="AND", rules=[h.rule for h in hits]),
            interpretation="Profiles " + "; and ".join(h.says for h in hits) + ".",
            assumptions=self._assumptions,
            warnings=self._warnings,
        )

    # -- helpers -------------------------------------------------------------------------------------------
    def _find(self, pattern: str) -> list[re.Match[str]]:
        masked = "".join(self._mask)
        return list(re.finditer(pattern, masked))

    def _take(self, m: re.Match[str]) -> None:
        for i in range(m.start(), m.end()):
            self._mask[i] = "\0"

    def _add(
        self,
        m: re.Match[str],
        field_: str,
        op: Operator,
        value: object,
        says: str,
        assumption: str | None = None,
    ) -> None:
        self._take(m)
        if field_ not in self.catalogue:
            self._warnings.append(
                f"'{m.group(0).strip()}' needs the field {field_!r}, which this catalogue "
                f"does not have; it was left out."
            )
            return
        self._hits.append(_Hit(m.start(), Rule(field=field_, operator=op, value=value), says))  # type: ignore[arg-type]
        if assumption and assumption not in self._assumptions:
            self._assumptions.append(assumption)

    # -- phrasings ---------------------------------------------------------------------------------------------
    def _tiers(self) -> None:
        for m in self._find(r"\bpremium\b"):
            self._add(
                m,
                "membershipTier",
                Operator.in_,
                ["Gold", "Platinum"],
                "whose membership tier is Gold or Platinum",
                "'Premium' was read as the Gold and Platinum tiers.",
            )
        tier = r"(?:" + "|".join(TIERS) + r")"
        for m in self._find(rf"\b{tier}(?:\s*(?:,|/|or|and|&)\s*{tier})+\b"):
            # the connectors of a tier list are part of it, not a query-level "or"
            blanked = re.sub(r"\b(?:or|and)\b|[,/&]", lambda x: " " * len(x.group(0)), m.group(0))
            self._mask[m.start() : m.end()] = list(blanked)
        found = self._find(r"\b(" + "|".join(TIERS) + r")\b")
        if not found:
            return
        tiers = list(dict.fromkeys(m.group(1).capitalize() for m in found))
        for m in found[1:]:
            self._take(m)
        if len(tiers) == 1:
            self._add(
                found[0], "membershipTier", Operator.eq, tiers[0], f"whose membership tier is {tiers[0]}"
            )
        else:
            self._add(
                found[0],
                "membershipTier",
                Operator.in_,
                tiers,
                f"whose membership tier is {' or '.join(tiers)}",
            )

    def _expiry(self) -> None:
        m = next(
            iter(
                self._find(
                    r"\b(expir\w*|due for renewal|up for renewal|renewals? due)\b[^,.;]*?"
                    r"(next month|this month|soon|in the next " + DURATION + r"|within " + DURATION + r")"
                )
            ),
            None,
        )
        if m:
            tail = m.group(2)
            d = re.search(DURATION, tail)
            days = (
                _days(d.group(1), d.group(2)) if d and not tail.endswith(("next month", "this month")) else 30
            )
            assumption = (
                None
                if d and tail.startswith(("in the next", "within"))
                else f"'{tail}' was read as the next {days} days from today."
            )
            self._add(
                m,
                "membershipExpiry",
                Operator.between,
                [RelativeDate(relative="+0 days"), RelativeDate(relative=f"+{days} days")],
                f"whose membership expires between now and {days} days from now",
                assumption,
            )
            return
        for m in self._find(r"\bexpired\b"):
            self._add(m, "membershipStatus", Operator.eq, "EXPIRED", "whose membership has expired")

    def _inactive(self) -> None:
        for m in self._find(r"\b(inactive|dormant|lapsed)\b"):
            self._add(
                m,
                "activityCount30d",
                Operator.eq,
                0,
                "with no activity in the last 30 days",
                f"'{m.group(1)}' was read as no activity of any kind in the last 30 days.",
            )

    def _not_played(self) -> None:
        neg = r"(haven't|have not|hasn't|has not|not|didn't|did not|never|no)"
        pat = (
            rf"\b{neg}\s+(played|booked|been (?:out|playing|active)|visited|had a (?:round|booking))"
            rf"(?:\s+(?:golf|a round|a tee time|at all|with us))?\s+(?:in|for|during|within)\s+(?:the\s+)?"
            rf"(?:last|past|previous)?\s*{DURATION}"
        )
        for m in self._find(pat):
            days = _days(m.group(3), m.group(4))
            if "active" in m.group(2):
                self._add(
                    m,
                    "lastActivityAt",
                    Operator.lt,
                    _ago(days),
                    f"whose last activity was more than {days} days ago",
                )
            else:
                self._add(
                    m,
                    "lastBookingAt",
                    Operator.lt,
                    _ago(days),
                    f"whose last tee time booking was more than {days} days ago",
                    "'Played' was read from tee time bookings (lastBookingAt)."
                    if m.group(2) == "played"
                    else None,
                )

    def _played_count(self) -> None:
        pat = (
            r"\b(played|booked|booking|bookings|rounds?)\b[^,.;]{0,20}?\b(at least|more than|over|fewer than|"
            r"less than|under|exactly)?\s*\b"
            + NUM
            + r"\b\s*(times?|rounds?|bookings?)?(?:\s*(?:in\s+)?(?:the\s+)?"
            r"(last|past|this|previous)\s+" + DURATION + r")?"
        )
        for m in self._find(pat):
            if m.group(4) is None and m.group(5) is None and m.group(2) is None:
                continue  # a bare number after "played" is not a count ("played in 30 days" is handled above)
            n = _num(m.group(3))
            op = {
                "at least": Operator.gte,
                "more than": Operator.gt,
                "over": Operator.gt,
                "fewer than": Operator.lt,
                "less than": Operator.lt,
                "under": Operator.lt,
                "exactly": Operator.eq,
                None: Operator.gte,
            }[m.group(2)]
            days = _days(m.group(6), m.group(7)) if m.group(7) else 30
            fld = "bookingCount30d" if days <= 30 else "bookingCount90d"
            window = "30" if days <= 30 else "90"
            assumption = None
            if m.group(7) is None:
                assumption = "No period was given for the count of bookings; the last 30 days were used."
            elif days not in (30, 90):
                assumption = f"Counts exist for 30 and 90 days; {days} days was read as {window} days."
            words = {
                Operator.gte: "at least",
                Operator.gt: "more than",
                Operator.lt: "fewer than",
                Operator.eq: "exactly",
            }[op]
            self._add(
                m, fld, op, n, f"with {words} {n} tee time bookings in the last {window} days", assumption
            )

    def _email_opens(self) -> None:
        neg = (
            r"\b(haven't|have not|hasn't|not|didn't|did not|never)\s+opened\s+(?:any\s+|an\s+|our\s+)?"
            r"(?:e-?mails?|newsletters?)?\s*(?:in|for|during|within)\s+(?:the\s+)?(?:last|past)?\s*"
            + DURATION
        )
        for m in self._find(neg):
            days = _days(m.group(2), m.group(3))
            self._add(
                m,
                "lastEmailOpenAt",
                Operator.lt,
                _ago(days),
                f"who last opened an email more than {days} days ago (or never did)",
            )
        pos = (
            r"\bopened\s+(?:an\s+|any\s+|our\s+)?(?:e-?mails?|newsletters?)\s*(?:in|within)\s+(?:the\s+)?"
            r"(?:last|past)?\s*" + DURATION
        )
        for m in self._find(pos):
            days = _days(m.group(1), m.group(2))
            self._add(
                m, "lastEmailOpenAt", Operator.gt, _ago(days), f"who opened an email in the last {days} days"
            )

    def _clicks(self) -> None:
        for m in self._find(
            r"\b(click|clicks|clicked|clickers?)\b(?:\s+(?:on\s+)?(?:e-?mails?|links?))?"
            r"(?:\s+(?:in|within)\s+(?:the\s+)?(?:last|past)?\s*" + DURATION + r")?"
        ):
            before = "".join(self._mask)[max(0, m.start() - 12) : m.start()]
            if re.search(r"(n't|not|never)\s*$", before):
                continue
            if m.group(3):
                days = _days(m.group(2), m.group(3))
                self._add(
                    m,
                    "lastEmailClickAt",
                    Operator.gt,
                    _ago(days),
                    f"who clicked an email link in the last {days} days",
                )
            else:
                self._add(
                    m,
                    "lastEmailClickAt",
                    Operator.gt,
                    _ago(14),
                    "who clicked an email link in the last 14 days",
                    "'Click' was read as having clicked an email link in the last 14 days.",
                )

    def _no_bookings(self) -> None:
        pat = (
            r"\b(don't|do not|doesn't|does not|haven't|have not|never|not|no|without)\s+"
            r"(book|books|booked|booking|bookings|play|plays|played)\b"
        )
        for m in self._find(pat):
            self._add(
                m,
                "bookingCount30d",
                Operator.eq,
                0,
                "with no tee time bookings in the last 30 days",
                f"'{m.group(0).strip()}' was read as no bookings in the last 30 days.",
            )

    def _subscribers(self) -> None:
        for channel, fld in (("e-?mail", "emailOptIn"), ("sms|text", "smsOptIn")):
            pat = (
                rf"\b(?:({channel})\s+(?:subscribers?|subscribed|opt-?ins?|opted[- ]in)|(?:subscribed|opted[- ]in)"
                rf"\s+(?:to|for)\s+({channel}))\b"
            )
            for m in self._find(pat):
                self._add(
                    m,
                    fld,
                    Operator.eq,
                    True,
                    f"who opted in to {'email' if fld == 'emailOptIn' else 'SMS'} marketing",
                )
        for m in self._find(r"\bunsubscribed\b"):
            self._add(m, "emailOptIn", Operator.eq, False, "who are not opted in to email marketing")

    def _handicap(self) -> None:
        for m in self._find(
            r"\bhandicap\w*\s+(?:of\s+)?between\s+(\d{1,2}(?:\.\d)?)\s+and\s+(\d{1,2}(?:\.\d)?)"
        ):
            self._add(
                m,
                "handicap",
                Operator.between,
                [float(m.group(1)), float(m.group(2))],
                f"with a handicap between {m.group(1)} and {m.group(2)}",
            )
        cmp_ = {
            "over": Operator.gt,
            "above": Operator.gt,
            "more than": Operator.gt,
            "greater than": Operator.gt,
            "under": Operator.lt,
            "below": Operator.lt,
            "less than": Operator.lt,
            "at least": Operator.gte,
            "at most": Operator.lte,
        }
        for m in self._find(r"\bhandicaps?\s+(?:of\s+)?(" + "|".join(cmp_) + r")\s+(\d{1,2}(?:\.\d)?)"):
            op = cmp_[m.group(1)]
            self._add(m, "handicap", op, float(m.group(2)), f"with a handicap {m.group(1)} {m.group(2)}")
        for m in self._find(r"\bhigh[- ]handicap\w*"):
            self._add(
                m,
                "handicap",
                Operator.gte,
                18,
                "with a handicap of 18 or more",
                "'High handicap' was read as a handicap of 18 or more.",
            )
        for m in self._find(r"\b(low[- ]handicap\w*|single[- ]figure\w*)"):
            self._add(
                m,
                "handicap",
                Operator.lte,
                9,
                "with a handicap of 9 or less",
                "'Low handicap' was read as a single-figure handicap (9 or less).",
            )

    def _engagement(self) -> None:
        for m in self._find(r"\b(disengaged|unengaged|not engaged|low engagement|less engaged)\b"):
            self._add(
                m,
                "engagementScore",
                Operator.lte,
                30,
                "with an engagement score of 30 or less",
                "Low engagement was read as an engagement score of 30 or less (of 100).",
            )
        for m in self._find(r"\b(highly engaged|very engaged|most engaged)\b"):
            self._add(
                m,
                "engagementScore",
                Operator.gte,
                85,
                "with an engagement score of 85 or more",
                "'Highly engaged' was read as an engagement score of 85 or more (of 100).",
            )
        for m in self._find(r"\b(engaged|high engagement)\b"):
            self._add(
                m,
                "engagementScore",
                Operator.gte,
                70,
                "with an engagement score of 70 or more",
                "'Engaged' was read as an engagement score of 70 or more (of 100).",
            )

    def _churn(self) -> None:
        for m in self._find(
            r"\b(at[- ]risk|likely to (?:churn|leave|lapse)|churn risk|high churn\w*|about to leave)\b"
        ):
            self._add(
                m,
                "churnRiskScore",
                Operator.gte,
                70,
                "with a churn risk score of 70 or more",
                "'At risk' was read as a churn risk score of 70 or more (of 100).",
            )

    def _value(self) -> None:
        for m in self._find(r"\b(high[- ]value|top spenders|big spenders|most valuable|vips?)\b"):
            self._add(
                m,
                "lifetimeValue",
                Operator.gte,
                100000,
                "with a lifetime spend of 100,000 cents or more",
                "'High value' was read as a lifetime spend of 100,000 cents (1,000 in the club's currency) "
                "or more, the AI spec's high-value band.",
            )

    def _new_members(self) -> None:
        for m in self._find(
            r"\b(?:joined|signed up|became members?)\s+(?:in\s+)?(?:the\s+)?(?:last|past|within)\s+"
            + DURATION
        ):
            days = _days(m.group(1), m.group(2))
            self._add(
                m, "memberSince", Operator.gt, _ago(days), f"who became members in the last {days} days"
            )
        for m in self._find(r"\bnew (?:members?|joiners?|golfers?)\b"):
            self._add(
                m,
                "memberSince",
                Operator.gt,
                _ago(90),
                "who became members in the last 90 days",
                "'New members' was read as members who joined in the last 90 days.",
            )

    def _tags(self) -> None:
        for m in self._find(
            r"\b(?:tagged(?: as)?|with (?:the )?tag)\s+['\"]?([a-z0-9][a-z0-9 _-]{0,30}?)['\"]?"
            r"(?=$|[ ,.;]|\s(?:and|who|with)\b)"
        ):
            tag = m.group(1).strip()
            self._add(m, "tags", Operator.contains, tag, f"tagged '{tag}'")

    def _status(self) -> None:
        for m in self._find(r"\bactive (?:members?|profiles?|golfers?|customers?)\b"):
            self._add(
                m,
                "status",
                Operator.eq,
                "ACTIVE",
                "whose profile status is ACTIVE",
                "'Active' was read as profile status ACTIVE.",
            )

    def _lifecycle(self) -> None:
        for word, stage in (("leads", "LEAD"), ("advocates", "ADVOCATE")):
            for m in self._find(rf"\b{word}\b"):
                self._add(m, "lifecycleStage", Operator.eq, stage, f"at lifecycle stage {stage}")
