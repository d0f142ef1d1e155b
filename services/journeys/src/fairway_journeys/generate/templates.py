"""Template journeys for the goals golf clubs ask for most, used when the AI gateway cannot generate one (and by
the demo club). Each is a valid definition; `closest` picks one for a goal by its words."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    goal: str
    words: frozenset[str]
    definition: dict[str, Any]


def _send(sid: str, channel: str, template: str, nxt: str) -> dict[str, Any]:
    return {"id": sid, "type": "SEND", "channel": channel, "templateId": template, "next": nxt}


def _wait(sid: str, duration: str, nxt: str) -> dict[str, Any]:
    return {"id": sid, "type": "WAIT", "kind": "duration", "duration": duration, "next": nxt}


WELCOME = Template("welcome", "Welcome series for new members", "New members book their first tee time",
                   frozenset({"welcome", "new", "onboard", "onboarding", "joined", "first"}), {
    "trigger": {"type": "event", "eventType": "profile.created"},
    "goal": {"eventType": "teetime.booking.created", "withinDays": 21},
    "steps": [
        _send("welcome", "EMAIL", "welcome-new-member", "wait-3d"),
        _wait("wait-3d", "3 days", "booked"),
        {"id": "booked", "type": "CONDITION", "yes": "tag",
         "criteria": {"combinator": "AND", "rules": [{"field": "bookingCount30d", "operator": "gte", "value": 1}]},
         "no": "first-round"},
        _send("first-round", "EMAIL", "book-your-first-round", "wait-7d"),
        _wait("wait-7d", "7 days", "tag"),
        {"id": "tag", "type": "UPDATE", "addTags": ["welcome-series-done"], "next": "end"},
        {"id": "end", "type": "END"},
    ],
})

LAPSED = Template("lapsed", "Lapsed golfer re-engagement", "Lapsed golfers book a tee time within 14 days",
                  frozenset({"lapsed", "re-engage", "reengage", "haven't", "inactive", "miss", "back", "win",
                             "churn", "dormant", "booked"}), {
    "trigger": {"type": "event", "eventType": "segment.member_entered", "segmentId": "lapsed-golfers"},
    "entry": {"reentry": True, "minDaysBetween": 60, "oneActiveRun": True},
    "goal": {"eventType": "teetime.booking.created", "withinDays": 14},
    "exit": {"onUnsubscribe": True},
    "steps": [
        _send("miss-you", "EMAIL", "we-miss-you", "opened"),
        {"id": "opened", "type": "WAIT", "kind": "event", "eventType": "messaging.email.opened", "ofStep": "miss-you",
         "timeout": "3 days", "next": "wait-book", "onTimeout": "sms"},
        {"id": "sms", "type": "SEND", "channel": "SMS", "next": "wait-book",
         "content": {"body": "The course is in great shape. Fancy a round this week? Reply BOOK or use the app."}},
        _wait("wait-book", "11 days", "end"),
        {"id": "end", "type": "END"},
    ],
})

RENEWAL = Template("renewal", "Membership renewal reminder", "Members renew before their membership expires",
                   frozenset({"renew", "renewal", "expiry", "expire", "expires", "lapse", "membership"}), {
    "trigger": {"type": "date", "attribute": "membershipExpiry", "offsetDays": -30, "at": "09:00"},
    "goal": {"eventType": "scl.membership.renewed", "withinDays": 45},
    "steps": [
        _send("thirty-days", "EMAIL", "renewal-30-days", "wait-2w"),
        _wait("wait-2w", "14 days", "fourteen-days"),
        _send("fourteen-days", "EMAIL", "renewal-14-days", "wait-1w"),
        _wait("wait-1w", "7 days", "sms"),
        {"id": "sms", "type": "SEND", "channel": "SMS", "next": "end",
         "content": {"body": "Your membership expires next week. Renew in the club app to keep your tee times."}},
        {"id": "end", "type": "END"},
    ],
})

BIRTHDAY = Template("birthday", "Birthday greeting", "Members feel remembered on their birthday",
                    frozenset({"birthday", "birth", "celebrate", "anniversary"}), {
    "trigger": {"type": "date", "attribute": "birthday", "offsetDays": 0, "at": "08:00"},
    "entry": {"reentry": True},
    "steps": [_send("greeting", "EMAIL", "happy-birthday", "end"), {"id": "end", "type": "END"}],
})

COMPETITION = Template("competition", "Competition entry drive", "Members enter the newly published competition",
                       frozenset({"competition", "tournament", "medal", "event", "entries", "enter"}), {
    "trigger": {"type": "event", "eventType": "teetime.competition.published", "key": "competitionId"},
    "entry": {"reentry": True, "oneActiveRun": False},
    "steps": [
        _send("announce", "EMAIL", "competition-announcement", "wait-5d"),
        _wait("wait-5d", "5 days", "end"),
        {"id": "end", "type": "END"},
    ],
})

TEMPLATES = (WELCOME, LAPSED, RENEWAL, BIRTHDAY, COMPETITION)


def closest(goal: str) -> Template:
    words = set(re.findall(r"[a-z']+(?:-[a-z]+)?", goal.lower()))
    return max(TEMPLATES, key=lambda t: (len(t.words & words), t is LAPSED))


def definition_of(t: Template) -> dict[str, Any]:
    return copy.deepcopy(t.definition)
