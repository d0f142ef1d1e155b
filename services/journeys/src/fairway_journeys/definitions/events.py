"""The events a journey can start on, wait for or take as its goal, and how each finds its member."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fairway_events.registry import registry

# How an event names its member: identity hints (upstream), a profileId in the payload (Fairway's own events),
# or nobody (a competition is published for everyone: the journey's audience enters).
Addressing = Literal["hints", "profile", "broadcast"]


@dataclass(frozen=True)
class ReactiveEvent:
    event_type: str
    addressing: Addressing
    message: bool = False  # a Messaging event about one message (sendRequestId): WAIT ofStep can match it

    @property
    def topic(self) -> str:
        return registry.latest(self.event_type).topic


_EVENTS = [
    ReactiveEvent("teetime.booking.created", "hints"),
    ReactiveEvent("teetime.booking.cancelled", "hints"),
    ReactiveEvent("teetime.round.played", "hints"),
    ReactiveEvent("teetime.purchase.completed", "hints"),
    ReactiveEvent("teetime.player.created", "hints"),
    ReactiveEvent("teetime.competition.published", "broadcast"),
    ReactiveEvent("scl.member.created", "hints"),
    ReactiveEvent("scl.membership.renewed", "hints"),
    ReactiveEvent("scl.membership.cancelled", "hints"),
    ReactiveEvent("scl.payment.received", "hints"),
    ReactiveEvent("messaging.email.opened", "hints", message=True),
    ReactiveEvent("messaging.email.clicked", "hints", message=True),
    ReactiveEvent("messaging.push.opened", "hints", message=True),
    ReactiveEvent("messaging.unsubscribed", "hints"),
    ReactiveEvent("profile.created", "profile"),
    ReactiveEvent("segment.member_entered", "profile"),
    ReactiveEvent("segment.member_exited", "profile"),
    ReactiveEvent("score.updated", "profile"),
    ReactiveEvent("ml.churn.high_risk_detected", "profile"),
]
REACTIVE: dict[str, ReactiveEvent] = {e.event_type: e for e in _EVENTS}
