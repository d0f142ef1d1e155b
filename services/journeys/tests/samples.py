"""Journey definitions the tests share: a golf club's real automations."""
from __future__ import annotations

import copy
from typing import Any


def welcome() -> dict[str, Any]:
    """New member: welcome email, two days, a nudge to book unless they already did, then a tag."""
    return copy.deepcopy({
        "trigger": {"type": "event", "eventType": "profile.created"},
        "timezone": "Africa/Johannesburg",
        "steps": [
            {"id": "welcome", "type": "SEND", "channel": "EMAIL", "templateId": "welcome-new-member", "next": "wait2d"},
            {"id": "wait2d", "type": "WAIT", "kind": "duration", "duration": "2 days", "next": "booked"},
            {"id": "booked", "type": "CONDITION",
             "criteria": {"combinator": "AND", "rules": [{"field": "bookingCount30d", "operator": "gte", "value": 1}]},
             "yes": "tag", "no": "nudge"},
            {"id": "nudge", "type": "SEND", "channel": "EMAIL",
             "content": {"subject": "Your first tee time at Stonehaven", "body": "Book your first round, {{firstName}}."},
             "next": "tag"},
            {"id": "tag", "type": "UPDATE", "addTags": ["welcomed"], "next": "end"},
            {"id": "end", "type": "END"},
        ],
    })


def lapsed() -> dict[str, Any]:
    """Lapsed golfer: enters a segment, gets a 'we miss you', waits for a booking for 14 days (the goal)."""
    return copy.deepcopy({
        "trigger": {"type": "event", "eventType": "segment.member_entered", "segmentId": "seg-lapsed"},
        "entry": {"reentry": True, "minDaysBetween": 60, "oneActiveRun": True},
        "goal": {"eventType": "teetime.booking.created", "withinDays": 14},
        "timezone": "Europe/London",
        "steps": [
            {"id": "miss-you", "type": "SEND", "channel": "EMAIL", "templateId": "we-miss-you", "next": "opened"},
            {"id": "opened", "type": "WAIT", "kind": "event", "eventType": "messaging.email.opened",
             "ofStep": "miss-you", "timeout": "3 days", "next": "end", "onTimeout": "sms"},
            {"id": "sms", "type": "SEND", "channel": "SMS", "content": {"body": "Fancy a round this weekend?"},
             "next": "wait-book"},
            {"id": "wait-book", "type": "WAIT", "kind": "duration", "duration": "14 days", "next": "end"},
            {"id": "end", "type": "END"},
        ],
    })
