"""Canned answers of the fake provider for the AI spec's example queries (section 3.1 and 3.3), so LLM mode can
be shown end to end without a real model."""

from __future__ import annotations

import re
from typing import Any


def _norm(q: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", re.sub(r"[’']", "", q.lower())).strip()


def _ago(days: int) -> dict[str, str]:
    return {"relative": f"-{days} days"}


SEGMENTS: dict[str, dict[str, Any]] = {
    _norm(q): a
    for q, a in {
        "Gold members who haven't played in 30 days": {
            "criteria": {
                "combinator": "AND",
                "rules": [
                    {"field": "membershipTier", "operator": "eq", "value": "Gold"},
                    {"field": "lastBookingAt", "operator": "lt", "value": _ago(30)},
                ],
            },
            "interpretation": "Gold tier members whose last tee time booking was more than 30 days ago.",
            "assumptions": ["'Played' means a tee time booking."],
        },
        "High handicappers who are engaged": {
            "criteria": {
                "combinator": "AND",
                "rules": [
                    {"field": "handicap", "operator": "gte", "value": 18},
                    {"field": "engagementScore", "operator": "gte", "value": 70},
                ],
            },
            "interpretation": "Members with a handicap of 18 or more and an engagement score of at least 70.",
            "assumptions": [
                "High handicap means 18 or more.",
                "Engaged means an engagement score of 70 or more.",
            ],
        },
        "Members expiring next month": {
            "criteria": {
                "combinator": "AND",
                "rules": [
                    {
                        "field": "membershipExpiry",
                        "operator": "between",
                        "value": [{"relative": "+0 days"}, {"relative": "+30 days"}],
                    }
                ],
            },
            "interpretation": "Members whose membership expires within the next 30 days.",
            "assumptions": ["Next month means the next 30 days."],
        },
        "Inactive premium members": {
            "criteria": {
                "combinator": "AND",
                "rules": [
                    {"field": "membershipTier", "operator": "in", "value": ["Gold", "Platinum"]},
                    {"field": "activityCount30d", "operator": "eq", "value": 0},
                ],
            },
            "interpretation": "Gold and Platinum members with no activity in the last 30 days.",
            "assumptions": [
                "Premium means the Gold and Platinum tiers.",
                "Inactive means no activity in 30 days.",
            ],
        },
        "Email subscribers who click but don't book": {
            "criteria": {
                "combinator": "AND",
                "rules": [
                    {"field": "emailOptIn", "operator": "eq", "value": True},
                    {"field": "lastEmailClickAt", "operator": "gt", "value": _ago(14)},
                    {"field": "bookingCount30d", "operator": "eq", "value": 0},
                ],
            },
            "interpretation": "Email subscribers who clicked in the last 14 days but made no booking in 30 days.",
            "assumptions": ["Recent clicks means the last 14 days."],
        },
        "Find members who played at least twice last month but haven't opened any emails in the past 2 weeks": {
            "criteria": {
                "combinator": "AND",
                "rules": [
                    {"field": "bookingCount30d", "operator": "gte", "value": 2},
                    {"field": "lastEmailOpenAt", "operator": "lt", "value": _ago(14)},
                ],
            },
            "interpretation": "Members with two or more bookings in the last 30 days and no email opened in 14 days.",
            "assumptions": [],
        },
    }.items()
}


def segment_answer(query: str) -> dict[str, Any]:
    hit = SEGMENTS.get(_norm(query))
    if hit is not None:
        return hit
    return {
        "criteria": {
            "combinator": "AND",
            "rules": [{"field": "status", "operator": "eq", "value": "ACTIVE"}],
        },
        "interpretation": "The fake provider has no canned answer for this query; it returned active profiles.",
        "assumptions": ["Fake provider default answer."],
    }


APPROACHES = ["benefit", "urgency", "curiosity", "social-proof", "personal"]
LINES = {
    "benefit": "The course is in top shape, book a round",
    "urgency": "Only a few tee times left this weekend",
    "curiosity": "Something new is waiting at the club",
    "social-proof": "Members are booking their rounds now",
    "personal": "We saved you a spot on the first tee",
}


def content_answer(n: int, limit: int, tokens: list[str], html: bool) -> dict[str, Any]:
    variants = []
    for i in range(n):
        approach = APPROACHES[i % len(APPROACHES)]
        text = LINES[approach]
        if "firstName" in tokens:
            text = "{{firstName}}, " + text[0].lower() + text[1:]
        if html:
            text = f'<p>{text}.</p><p><a href="https://club.example/book">Book now</a></p>'
        variants.append({"content": text[:limit], "approach": approach})
    return {"variants": variants}
