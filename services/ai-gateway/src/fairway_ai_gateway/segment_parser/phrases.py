"""What a club's staff say, phrase by phrase, and the criteria each phrase means.

Each `Phrase` is a pattern over normalised text and a builder that turns its match into a rule (or a small group)
of the shared criteria language, with the assumption it made, if any. A builder that cannot express what was said
raises `Unsupported`: the parser then reports that part of the query instead of guessing. Phrases run in order and
a matched span is taken, so the specific ("have not played a round in 2 weeks") is tried before the general
("played").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from fairway_ai_gateway.segment_parser.lexicon import CMP, NUM, QTY, WINDOW, number, quantity, window_days
from fairway_schemas.criteria import Group, Operator, RelativeDate, Rule

Node = Rule | Group


class Unsupported(Exception):
    """The phrase was recognised but cannot be expressed with the catalogue's fields."""


@dataclass(frozen=True)
class Meaning:
    node: Node
    assumption: str | None = None


@dataclass(frozen=True)
class Phrase:
    name: str
    pattern: re.Pattern[str]
    build: Callable[[re.Match[str]], Meaning]


def g(m: re.Match[str], name: str) -> str | None:
    """The group `name`, or `name2`, `name3`...: Python's re allows a name once per pattern, even across
    alternatives."""
    d = m.groupdict()
    for key in (name, *(f"{name}{i}" for i in range(2, 6))):
        if d.get(key) is not None:
            return d[key]
    return None


def rule(field: str, op: Operator, value: object = None) -> Rule:
    return Rule(field=field, operator=op, value=value)  # type: ignore[arg-type]


def ago(days: int) -> RelativeDate:
    return RelativeDate(relative=f"-{days} days")


def ahead(days: int) -> RelativeDate:
    return RelativeDate(relative=f"+{days} days")


# -- measures: what was done, and the fields that count it ----------------------------------------------------
@dataclass(frozen=True)
class Measure:
    label: str
    last: str  # date field of the last time
    counts: dict[int, str]  # window days -> count field


BOOKINGS = Measure("tee time bookings", "lastBookingAt", {30: "bookingCount30d", 90: "bookingCount90d"})
ROUNDS = Measure("rounds", "lastRoundAt", {30: "roundsPlayed30d", 90: "roundsPlayed90d"})
ACTIVITY = Measure("activities", "lastActivityAt", {30: "activityCount30d", 90: "activityCount90d"})
OPENS = Measure("email opens", "lastEmailOpenAt", {30: "emailOpens30d"})
CLICKS = Measure("email clicks", "lastEmailClickAt", {30: "emailClicks30d"})
SENDS = Measure("emails received", "", {30: "emailSends30d"})


def measure_of(word: str) -> Measure:
    w = word.strip()
    if re.search(r"round", w):
        return ROUNDS
    if re.search(r"open|read", w):
        return OPENS
    if re.search(r"click", w):
        return CLICKS
    if re.search(r"received|sent|emails$|got", w):
        return SENDS
    if re.search(r"activ|dormant|logged|engaged with", w):
        return ACTIVITY
    return BOOKINGS  # booked, played, visited, tee times: the spec reads "played" as bookings


def _window(m: re.Match[str], default: int = 30) -> tuple[int, str | None]:
    days, assumption = window_days(g(m, "win"))
    if days is None:
        return default, None
    return days, assumption


def count_meaning(measure: Measure, op: Operator, n: float | list[float], days: int,
                  assumption: str | None) -> Meaning:
    """A count over a window: the window's count field, or (for "at least once") the date of the last time."""
    field = measure.counts.get(days)
    if field:
        return Meaning(rule(field, op, n), assumption)
    at_least_once = (op is Operator.gte and n == 1) or (op is Operator.gt and n == 0)
    if at_least_once and measure.last:
        return Meaning(rule(measure.last, Operator.gt, ago(days)), assumption)
    none = op is Operator.eq and n == 0
    if none and measure.last:
        return Meaning(Group(combinator="OR", rules=[rule(measure.last, Operator.lt, ago(days)),
                                                     rule(measure.last, Operator.isNull)]), assumption)
    windows = " and ".join(f"{d}" for d in sorted(measure.counts))
    raise Unsupported(f"{measure.label} are counted over the last {windows} days only, not {days} days")


def _count(m: re.Match[str]) -> Meaning:
    unit = g(m, "unit") or ""
    measure = measure_of(unit if re.match(r"round", unit) else m.group("what"))
    op, n = quantity(m.group("q"), default=Operator.gte)
    if n == 0 and op is Operator.gte:  # "0 activities": none, not "at least none"
        op = Operator.eq
    days, assumption = _window(m)
    notes = [assumption] if assumption else []
    if not re.match(r"(?:between|from|more|over|above|greater|higher|exceeding|in excess|at least|no less|not less|"
                    r"a minimum|minimum|less|under|below|fewer|lower|at most|no more|not more|up to|a maximum|"
                    r"maximum|exactly|equal|equals|of|[<>=])", m.group("q")) and "or " not in m.group("q"):
        notes.append(f"'{m.group('q')}' was read as at least {n}.")
    if not g(m, "win"):
        notes.append(f"No period was given for the {measure.label}; the last 30 days were used.")
    return count_meaning(measure, op, n, days, " ".join(notes) or None)


def _did_within(m: re.Match[str]) -> Meaning:
    measure = measure_of(m.group("what"))
    days, assumption = _window(m)
    return Meaning(rule(measure.last, Operator.gt, ago(days)), assumption)


def _not_within(m: re.Match[str]) -> Meaning:
    measure = measure_of(m.group("what"))
    days, assumption = _window(m)
    return Meaning(rule(measure.last, Operator.lt, ago(days)), assumption)


def _none_within(m: re.Match[str]) -> Meaning:
    measure = measure_of(m.group("what"))
    days, assumption = _window(m)
    if not g(m, "win"):
        assumption = f"'{m.group(0).strip()}' was read as none in the last 30 days."
    return count_meaning(measure, Operator.eq, 0, days, assumption)


def _never(m: re.Match[str]) -> Meaning:
    return Meaning(rule(measure_of(m.group("what")).last, Operator.isNull))


# -- consent -------------------------------------------------------------------------------------------------
def channel(name: str = "ch") -> str:
    return rf"(?P<{name}>e ?mails?|newsletters?|mailing list|marketing emails|sms|text(?: message)?s?|push(?: notifications?)?|whatsapp)"


CHANNEL = channel()


def channel_field(ch: str) -> str:
    if re.match(r"e ?mail|newsletter|mailing|marketing", ch):
        return "emailOptIn"
    if re.match(r"sms|text", ch):
        return "smsOptIn"
    if ch.startswith("push"):
        return "pushOptIn"
    return "whatsappOptIn"




def _opted_out(m: re.Match[str]) -> Meaning:
    return Meaning(rule(channel_field(m.group("ch")), Operator.eq, False))




# -- scores and numbers -----------------------------------------------------------------------------------------
# A second bound after the first: "handicap under 5 or over 30", "engagement over 40 and under 60".
MORE = rf"(?: (?P<conj>or|and) (?P<qb>{CMP} {NUM}))?"


def _scaled(field: str, text: str, default: Operator, scale: float) -> Rule:
    op, v = quantity(text, default=default)
    if isinstance(v, list):
        return rule(field, op, [number(str(x * scale)) for x in v])
    return rule(field, op, number(str(v * scale)))


def _numeric(field: str, default: Operator = Operator.eq, scale: float = 1) -> Callable[[re.Match[str]], Meaning]:
    def build(m: re.Match[str]) -> Meaning:
        first = _scaled(field, g(m, "q") or "", default, scale)
        second = g(m, "qb")
        if not second:
            return Meaning(first)
        both = [first, _scaled(field, second, default, scale)]
        return Meaning(Group(combinator="OR" if m.group("conj") == "or" else "AND", rules=both))  # type: ignore[arg-type]

    return build


def _fixed(node: Node, assumption: str | None = None) -> Callable[[re.Match[str]], Meaning]:
    return lambda m: Meaning(node, assumption)


LEVELS = r"(?:low|medium|moderate|high|critical)"




# -- membership ------------------------------------------------------------------------------------------------
TIER_WORDS = ("bronze", "silver", "gold", "platinum", "diamond", "junior", "senior", "social", "corporate",
              "student", "family", "country", "weekday", "midweek", "associate", "intermediate", "youth",
              "veteran", "honorary", "life", "full")
PLAIN_TIERS = r"(?:bronze|silver|gold|platinum|diamond)"  # tiers even without "members" after them
ANY_TIER = "(?:" + "|".join(TIER_WORDS) + ")"
TIER_LIST = rf"{ANY_TIER}(?:(?: ,)?(?: or| and)? {ANY_TIER})*"
STATUS_WORDS = {"lapsed": "EXPIRED", "expired": "EXPIRED", "cancelled": "CANCELLED", "canceled": "CANCELLED",
                "resigned": "CANCELLED", "active": "ACTIVE", "current": "ACTIVE", "paid up": "ACTIVE",
                "paying": "ACTIVE"}
STATUS_LIST = r"(?:lapsed|expired|cancelled|canceled|resigned|active|current|paid up|paying)"
MEMBER_NOUN = r"(?: members?| membership| golfers| players| ones| tier| level| category)"


def _tiers(m: re.Match[str]) -> Meaning:
    names = list(dict.fromkeys(w.title() for w in re.findall(ANY_TIER, m.group("tiers"))))
    return Meaning(rule("membershipTier", Operator.eq, names[0]) if len(names) == 1
                   else rule("membershipTier", Operator.in_, names))


def _statuses(m: re.Match[str]) -> Meaning:
    values = list(dict.fromkeys(STATUS_WORDS[w] for w in re.findall(STATUS_LIST, m.group("st"))))
    return Meaning(rule("membershipStatus", Operator.eq, values[0]) if len(values) == 1
                   else rule("membershipStatus", Operator.in_, values))


DATE = r"(?P<date>\d{4}-\d{2}-\d{2}|(?:19|20)\d{2})"


def _date_value(text: str, end: bool = False) -> str:
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-12-31" if end else f"{text}-01-01"
    return text


def _joined_date(m: re.Match[str]) -> Meaning:
    word, d = m.group("when"), m.group("date")
    if word == "before":
        return Meaning(rule("memberSince", Operator.lt, _date_value(d)))
    if word in ("after",):
        return Meaning(rule("memberSince", Operator.gt, _date_value(d, end=True)))
    if word == "since":
        return Meaning(rule("memberSince", Operator.gte, _date_value(d)))
    return Meaning(rule("memberSince", Operator.between, [_date_value(d), _date_value(d, end=True)]))




def _joined_within(m: re.Match[str]) -> Meaning:
    days, assumption = _window(m)
    return Meaning(rule("memberSince", Operator.gt, ago(days)), assumption)


def _expiring(m: re.Match[str]) -> Meaning:
    when = (m.group("when") or "").strip()
    if not when:
        return Meaning(rule("membershipExpiry", Operator.between, [ahead(0), ahead(30)]),
                       "'Expiring' with no period was read as expiring in the next 30 days.")
    if when in ("soon",):
        return Meaning(rule("membershipExpiry", Operator.between, [ahead(0), ahead(30)]),
                       "'Soon' was read as the next 30 days.")
    days, _ = window_days(re.sub(r"^(?:in |within )?(?:the )?next", "last", when))
    assumption = "'Next month' was read as the next 30 days." if when == "next month" else None
    return Meaning(rule("membershipExpiry", Operator.between, [ahead(0), ahead(days or 30)]), assumption)


def _expired_within(m: re.Match[str]) -> Meaning:
    days, assumption = _window(m)
    return Meaning(rule("membershipExpiry", Operator.between, [ago(days), ahead(0)]), assumption)


# -- free values ---------------------------------------------------------------------------------------------
STOP_VALUE = r"(?!(?:and|or|who|whose|with|without|that|but|have|has|had|are|is|not|in|the|members?|golfers|players)\b)"
WORD = rf"{STOP_VALUE}[a-z0-9][a-z0-9_]*"


def _tags(op: Operator) -> Callable[[re.Match[str]], Meaning]:
    def build(m: re.Match[str]) -> Meaning:
        text = m.group("vals")
        words = re.findall(WORD, text)
        joiner = "OR" if re.search(r"\bor\b", text) else "AND"
        if op is Operator.notContains:
            joiner = "AND"  # "not tagged a or b": neither
        rules = [rule("tags", op, w) for w in dict.fromkeys(words)]
        return Meaning(rules[0] if len(rules) == 1 else Group(combinator=joiner, rules=rules))

    return build


def _text_value(field: str) -> Callable[[re.Match[str]], Meaning]:
    return lambda m: Meaning(rule(field, Operator.eq, m.group("v").strip().title()))


ACTIVITY_TYPES = {
    "booking": "BOOKING_CREATED", "tee time booking": "BOOKING_CREATED", "cancellation": "BOOKING_CANCELLED",
    "cancelled booking": "BOOKING_CANCELLED", "round": "ROUND_PLAYED", "purchase": "PURCHASE",
    "payment": "PAYMENT_RECEIVED", "renewal": "MEMBERSHIP_RENEWED", "email open": "EMAIL_OPENED",
    "opened email": "EMAIL_OPENED", "email click": "EMAIL_CLICKED", "click": "EMAIL_CLICKED",
    "handicap update": "HANDICAP_UPDATED", "unsubscribe": "UNSUBSCRIBED",
}


def _activity_type(m: re.Match[str]) -> Meaning:
    return Meaning(rule("lastActivityType", Operator.eq, ACTIVITY_TYPES[m.group("t")]))


def _p(name: str, pattern: str, build: Callable[[re.Match[str]], Meaning]) -> Phrase:
    return Phrase(name, re.compile(rf"(?<= )(?:{pattern})(?= )"), build)


W = rf"(?P<win>{WINDOW})"
DID = r"(?P<what>booked|played(?: a round| golf| rounds?)?|visited|been out|teed off|opened(?: an?y?)?(?: emails?| newsletters?)?|read(?: an?y?)?(?: emails?| newsletters?)|clicked(?: on)?(?: an?y?)?(?: emails?| links?| newsletters?)?|been active|logged in)"
NOUNS = r"(?P<what>tee time bookings?|tee times?|bookings?|visits?|rounds?(?: of golf)?(?: played)?|activit(?:y|ies)|email opens?|opens?|emails? opened|email clicks?|clicks?|emails?(?: sent| received)?)"

PHRASES: tuple[Phrase, ...] = (
    # Absence and lapses of activity first: they contain the words the positive phrases look for.
    _p("profile-status", r"(?:profile )?status (?:is )?(?P<v>active|inactive|merged|deleted)|(?P<v2>active|inactive|merged|deleted) profiles?", lambda m: Meaning(rule("status", Operator.eq, (m.group("v") or m.group("v2")).upper()))),
    _p("not-tagged", rf"(?:not tagged|untagged|without (?:the )?tags?|not labelled)(?: as)? (?P<vals>{WORD}(?:(?: ,)?(?: or| and)? {WORD})*)", _tags(Operator.notContains)),
    _p("tagged", rf"(?:tagged|labelled|labeled|with (?:the )?tags?|tags? (?:include|includes|contain|contains|of|is))(?: as)? (?P<vals>{WORD}(?:(?: ,)?(?: or| and)? {WORD})*)", _tags(Operator.contains)),
    _p("not-within", rf"(?:have|has|did|do|does) not {DID} (?:(?:since|for) )?{W}", _not_within),
    _p("never", r"(?:have|has)? ?never (?P<what>booked|played(?: a round| golf)?|visited|opened(?: an?y?)?(?: emails?| newsletters?)?|read(?: an?y?)?(?: emails?| newsletters?)|clicked(?: on)?(?: an?y?)?(?: emails?| links?)?|been active)", _never),
    _p("no-activity", rf"(?:(?:received|got|had|made|have|has) )?(?:no|zero) (?P<what>activity|activities|bookings|tee time bookings|tee times|rounds(?: played)?|visits|email opens|opens|email clicks|clicks|emails(?: received| sent)?)(?: of any kind)?(?: at all)?(?: {W})?", _none_within),
    _p("inactive", rf"(?P<what>inactive|dormant|not active|have not been active|has not been active)(?: (?:for|in) (?:the )?(?:last |past )?(?P<win2>{NUM} (?:day|week|month|year)s?)|(?: {W}))?", _none_within),
    _p("do-not-book", rf"(?:do|does|did) not (?P<what>book|play|visit)(?: {W})?", _none_within),
    # Counts over windows.
    _p("count-verb", rf"{DID} (?:on )?(?P<q>{QTY}) (?P<unit>times?|rounds?|bookings?|tee times?|emails?|visits?|links?)(?: {W})?", _count),
    _p("count-noun", rf"(?:with |having |made |has made |have made |played |booked |opened |clicked |received |got )?(?P<q>{QTY}) {NOUNS}(?: (?:played|booked|made|opened|clicked|received))?(?: {W})?", _count),
    _p("did-within", rf"{DID} (?:(?:at least )?1 time )?{W}", _did_within),
    _p("active-within", rf"(?P<what>active) {W}", _did_within),
    _p("recently", r"recently (?P<what>active|booked|played|visited|opened(?: an?)? emails?|clicked)|(?P<what2>active) recently", lambda m: _did_within_recent(m)),
    _p("click", r"(?:who )?click(?:s|ed)?(?: on)?(?: (?:emails?|links?|newsletters?))?", _fixed(rule("lastEmailClickAt", Operator.gt, ago(14)), "'Click' was read as having clicked an email link in the last 14 days.")),
    _p("opened", r"(?:who )?(?:open|opens|opened|read|reads)(?: an?| our)? (?:emails?|newsletters?)", _fixed(rule("lastEmailOpenAt", Operator.gt, ago(30)), "'Opened an email' was read as in the last 30 days.")),
    _p("last-activity-type", r"(?:whose )?last activity (?:was|is) (?:an? )?(?P<t>" + "|".join(sorted(ACTIVITY_TYPES, key=len, reverse=True)) + ")", _activity_type),
    # Consent, mirrored from Messaging.
    _p("opted-out", rf"(?:opted out of|unsubscribed from|withdrew|revoked|withdrawn) (?:the |their )?{CHANNEL}(?: consent| marketing| permission)?", _opted_out),
    _p("no-consent", rf"(?:no|without|not) (?:any )?{CHANNEL} (?:consent|opt ?ins?|permission|marketing consent)|(?:not|never) (?:subscribed|opted in|signed up|consented) (?:to |for )?(?:the )?{channel('ch2')}|can not be (?P<chv>emailed|texted)", lambda m: _no_consent_v(m)),
    _p("opted-in", rf"(?:subscribed|opted in|signed up|consented)(?: to| for)? (?:receive )?(?:the |our )?{CHANNEL}(?: and {channel('chb')})?|{channel('ch2')} (?:subscribers|opt ?ins?|opted in|consent|marketing consent|permission|list)|can be (?P<chv>emailed|texted)|(?:happy|allowed) to (?:receive|get) {channel('ch3')}", lambda m: _opted_in_v(m)),
    # Handicap.
    _p("single-figure", r"single (?:figure|digit) handicap(?:pers|s)?", _fixed(rule("handicap", Operator.lt, 10))),
    _p("high-handicap", r"high handicap(?:pers|s)?", _fixed(rule("handicap", Operator.gte, 18), "'High handicappers' was read as a handicap of 18 or more.")),
    _p("low-handicap", r"low handicap(?:pers|s)?", _fixed(rule("handicap", Operator.lte, 9), "'Low handicappers' was read as a handicap of 9 or less.")),
    _p("mid-handicap", r"mid(?:dle)? handicap(?:pers|s)?", _fixed(rule("handicap", Operator.between, [10, 17]), "'Mid handicappers' was read as a handicap from 10 to 17.")),
    _p("scratch", r"scratch(?: golfers| players)?|plus handicap(?:pers|s)?", _fixed(rule("handicap", Operator.lte, 0))),
    _p("no-handicap", r"(?:no|without an?) handicap", _fixed(rule("handicap", Operator.isNull))),
    _p("handicap-q", rf"handicaps? (?:index )?(?:is |of |at )?(?P<q>{QTY}){MORE}|(?P<q2>{QTY}) handicap(?:pers|s)?", _numeric("handicap")),
    _p("has-handicap", r"(?:with |have |has )an? handicap", _fixed(rule("handicap", Operator.isNotNull))),
    # Scores.
    _p("engagement-q", rf"engagement(?: score)? (?:is |of )?(?P<q>{QTY}){MORE}", _numeric("engagementScore")),
    _p("highly-engaged", r"(?:highly|very|most) engaged|high(?:ly)? engagement", _fixed(rule("engagementScore", Operator.gte, 80), "'Highly engaged' was read as an engagement score of 80 or more.")),
    _p("moderately-engaged", r"moderately engaged|medium engagement", _fixed(rule("engagementScore", Operator.between, [30, 69]), "'Moderately engaged' was read as an engagement score from 30 to 69.")),
    _p("disengaged", r"disengaged|unengaged|low engagement|poorly engaged|least engaged", _fixed(rule("engagementScore", Operator.lt, 30), "'Disengaged' was read as an engagement score under 30.")),
    _p("engaged", r"engaged", _fixed(rule("engagementScore", Operator.gte, 70), "'Engaged' was read as an engagement score of 70 or more (of 100).")),
    _p("churn-q", rf"(?:churn(?: risk)?|risk)(?: score)? (?:is |of )?(?P<q>{QTY}){MORE}", _numeric("churnRiskScore")),
    _p("risk-level", rf"(?:churn )?risk level (?:is |of )?(?P<levels>{LEVELS}(?:(?: ,)?(?: or| and)? {LEVELS})*)|(?P<levels2>{LEVELS}(?:(?: ,)?(?: or| and)? {LEVELS})*)(?: churn)? risk(?: level)?", lambda m: _risk_levels_any(m)),
    _p("unlikely-churn", r"unlikely to (?:churn|leave)|low churn risk|not at risk", _fixed(rule("churnRiskScore", Operator.lt, 30), "'Unlikely to churn' was read as a churn risk score under 30.")),
    _p("at-risk", r"at risk(?: of (?:churning|churn|leaving|lapsing))?|likely to (?:churn|leave|lapse)|churn risks?|churners|churning", _fixed(rule("churnRiskScore", Operator.gte, 70), "'At risk' was read as a churn risk score of 70 or more (of 100).")),
    # Money (cents in the catalogue).
    _p("clv-q", rf"(?:predicted (?:lifetime value|clv|value|spend)|clv)(?: is| of)? (?P<q>{QTY}){MORE}", _numeric("predictedClv", scale=100)),
    _p("ltv-q", rf"(?:lifetime (?:value|spend)|ltv|total spend|spent|spend|spending)(?: of| is)? (?P<q>{QTY}){MORE}", _numeric("lifetimeValue", Operator.gte, scale=100)),
    _p("high-value", r"high value|top spenders|big spenders|most valuable|vips?", _fixed(rule("lifetimeValue", Operator.gte, 100000), "'High value' was read as a lifetime spend of 1,000 or more in the club's currency.")),
    # Membership dates.
    _p("expired-within", rf"(?:whose )?(?:membership )?(?:expired|lapsed) {W}", _expired_within),
    _p("expiring", rf"(?:expiring|expire|expires|due for renewal|due to renew|up for renewal|renewing|renewals? due)(?P<when> next month| this month| soon| (?:in |within )?(?:the )?next {NUM} (?:day|week|month|year)s?| in {NUM} (?:day|week|month|year)s?| next (?:week|year))?", _expiring),
    _p("joined-date", rf"(?:joined|signed up|became members?|members? since|member since) (?P<when>before|after|since|in) {DATE}", _joined_date),
    _p("members-since", rf"members? since {DATE}", lambda m: Meaning(rule("memberSince", Operator.gte, _date_value(m.group("date"))))),
    _p("member-years", rf"members? (?:for|of) (?P<q>{QTY}) years?|(?P<q2>{QTY}) years? of membership", lambda m: _member_years_any(m)),
    _p("joined-within", rf"(?:joined|signed up|became members?)(?: {W})", _joined_within),
    _p("new-members", r"new(?:est)? (?:members?|joiners|sign ups)|newly joined|recent joiners", _fixed(rule("memberSince", Operator.gt, ago(90)), "'New members' was read as members who joined in the last 90 days.")),
    _p("long-standing", r"long (?:standing|time|serving)|longtime|loyal", _fixed(rule("memberSince", Operator.lt, ago(3650)), "'Long-standing' was read as members for more than 10 years.")),
    # Membership status and tier.
    _p("status-of", rf"membership (?:status )?(?:is |has |of )?(?P<st>{STATUS_LIST}(?:(?: ,)?(?: or| and)? {STATUS_LIST})*)", _statuses),
    _p("status", rf"(?P<st>{STATUS_LIST}(?:(?: ,)?(?: or| and)? {STATUS_LIST})*)(?=(?: {ANY_TIER})?{MEMBER_NOUN})", _statuses),
    _p("former", r"former members|ex members", _fixed(rule("membershipStatus", Operator.in_, ["EXPIRED", "CANCELLED"]), "'Former members' was read as a membership status of expired or cancelled.")),
    _p("premium", r"premium(?: members?| tiers?)?", _fixed(rule("membershipTier", Operator.in_, ["Gold", "Platinum"]), "'Premium' was read as the Gold and Platinum tiers.")),
    _p("tier-of", rf"tiers? (?:is |of )?(?P<tiers>{TIER_LIST})", _tiers),
    _p("tiers", rf"(?P<tiers>{TIER_LIST})(?={MEMBER_NOUN})", _tiers),
    _p("plain-tiers", rf"(?P<tiers>{PLAIN_TIERS}(?:(?: ,)?(?: or| and)? {PLAIN_TIERS})*)", _tiers),
    # Lifecycle and profile status.
    _p("lifecycle-of", r"(?:lifecycle )?stage (?:is )?(?P<v>subscriber|lead|customer|advocate)s?|(?P<v2>subscriber|lead|customer|advocate) stage", lambda m: Meaning(rule("lifecycleStage", Operator.eq, (g(m, "v") or "").upper()))),
    _p("lifecycle", r"(?P<v>leads|advocates|promoters|ambassadors|paying customers|subscribers)", lambda m: Meaning(rule("lifecycleStage", Operator.eq, {"leads": "LEAD", "paying customers": "CUSTOMER", "subscribers": "SUBSCRIBER"}.get(m.group("v"), "ADVOCATE")))),
    # Tags, clubs, segments.
    _p("home-club", rf"(?:home (?:club|course))(?: is| of| at)? (?P<v>{WORD}(?: {WORD}){{0,3}})", _text_value("homeClub")),
    _p("value-segment", rf"(?:value segment|customer segment|cluster)(?: is| of)? (?P<v>{WORD}(?: {WORD}){{0,2}})", _text_value("valueSegment")),
)


def _did_within_recent(m: re.Match[str]) -> Meaning:
    what = m.group("what") or m.group("what2")
    measure = measure_of(what)
    return Meaning(rule(measure.last, Operator.gt, ago(30)), "'Recently' was read as the last 30 days.")


def _opted_in_v(m: re.Match[str]) -> Meaning:
    ch = g(m, "ch") or ("email" if (g(m, "chv") or "").startswith("email") else "sms")
    first = rule(channel_field(ch), Operator.eq, True)
    if g(m, "chb"):  # "opted in to sms and push": both
        return Meaning(Group(combinator="AND", rules=[first, rule(channel_field(g(m, "chb") or ""), Operator.eq, True)]))
    return Meaning(first)


def _no_consent_v(m: re.Match[str]) -> Meaning:
    ch = g(m, "ch") or ("email" if (g(m, "chv") or "").startswith("email") else "sms")
    return Meaning(rule(channel_field(ch), Operator.neq, True))


def _risk_levels_any(m: re.Match[str]) -> Meaning:
    text = m.group("levels") or m.group("levels2")
    levels = list(dict.fromkeys({"moderate": "MEDIUM"}.get(w, w.upper()) for w in re.findall(LEVELS, text)))
    return Meaning(rule("riskLevel", Operator.eq, levels[0]) if len(levels) == 1
                   else rule("riskLevel", Operator.in_, levels))


def _member_years_any(m: re.Match[str]) -> Meaning:
    q = m.group("q") or m.group("q2")
    op, n = quantity(q, default=Operator.gte)
    if isinstance(n, list):
        lo, hi = n
        return Meaning(rule("memberSince", Operator.between, [ago(int(hi * 365)), ago(int(lo * 365))]))
    flipped = {Operator.gt: Operator.lt, Operator.gte: Operator.lte, Operator.lt: Operator.gt,
               Operator.lte: Operator.gte, Operator.eq: Operator.lte}[op]
    return Meaning(rule("memberSince", flipped, ago(int(n * 365))))
