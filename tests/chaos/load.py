"""A steady upstream load for one club of its own: SCL, TeeTime and Messaging events at a fixed rate, each one
remembered, so what every service holds afterwards can be compared with what was sent.

Each person joins through SCL (member created), TeeTime (player created) and Messaging (consent), then books,
plays and opens e-mails; new people keep joining for the whole run, so profiles, timelines, segment memberships,
features and welcome sends are all being made while a fault hits. Like a real upstream producer the load retries
a send until the broker acknowledges it (same event id: the consumers' inboxes absorb a repeat).
"""
from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka.errors import KafkaError

from fairway_events.catalogue import TopicNames
from fairway_events.envelope import upstream_wire
from fairway_events.kafka import make_producer

FIRST = ["Thabo", "Lerato", "Johan", "Naledi", "Pieter", "Ayesha", "Kagiso", "Megan", "Ruan", "Zanele", "Priya",
         "Sipho", "Chloe", "Jacques", "Nomsa", "Liam"]
LAST = ["Nkosi", "Botha", "Dlamini", "Naidoo", "Pillay", "Mokoena", "Venter", "Khumalo", "Coetzee", "Petersen"]
DOMAINS = ["gmail.com", "outlook.com", "mweb.co.za", "icloud.com", "telkomsa.net", "vodamail.co.za"]
TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
TOPIC = {"scl": "scl.events", "teetime": "teetime.events", "messaging": "messaging.events"}


@dataclass(frozen=True)
class Person:
    n: int
    first: str
    last: str
    email: str
    tier: str

    @property
    def scl_id(self) -> int:
        return 700000 + self.n

    @property
    def teetime_id(self) -> str:
        return f"TT-CH-{self.n}"

    @property
    def contact_id(self) -> str:
        return f"MC-CH-{self.n}"

    def identity(self, system: str) -> dict[str, Any]:
        if system == "scl":
            return {"sclMemberId": self.scl_id, "email": self.email}
        if system == "teetime":
            return {"teetimePlayerId": self.teetime_id, "email": self.email}
        return {"messagingContactId": self.contact_id, "email": self.email}

    def key(self, system: str) -> bytes:
        return {"scl": str(self.scl_id), "teetime": self.teetime_id, "messaging": self.contact_id}[system].encode()


@dataclass(frozen=True)
class Sent:
    event_id: str
    event_type: str
    person: int
    system: str
    topic: str
    key: bytes
    value: bytes


@dataclass
class Load:
    """Events for `tenant` at `rate` per second; `people` join over the run (ids unique per scenario)."""

    tenant: str
    bootstrap: str
    scenario: str
    rate: float = 20.0
    first_person: int = 0  # scenarios of one tenant number their people apart
    topics: TopicNames = field(default_factory=TopicNames)
    sent: dict[str, Sent] = field(default_factory=dict)  # acknowledged by the broker, by event id
    people: list[Person] = field(default_factory=list)
    retries: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def person(self, n: int) -> Person:
        rng = random.Random(f"{self.tenant}:{self.scenario}:{n}")
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}.{n}@{rng.choice(DOMAINS)}".lower()
        return Person(n=n, first=first, last=last, email=email, tier=rng.choice(TIERS))

    def _events(self) -> Any:
        """Endless: a person joins (three systems), then three things happen to people who already joined."""
        rng = random.Random(f"{self.tenant}:{self.scenario}")
        now = datetime.now(UTC)
        n = 0
        while True:
            p = self.person(self.first_person + n)
            self.people.append(p)
            n += 1
            yield p, "scl", "scl.member.created", {
                "firstName": p.first, "lastName": p.last, "membershipNumber": f"M{p.scl_id}",
                "membershipTier": p.tier, "membershipStatus": "ACTIVE",
                "memberSince": (now - timedelta(days=3)).date().isoformat(), "homeClub": "Royal Highveld Golf Club"}
            yield p, "teetime", "teetime.player.created", {"firstName": p.first, "lastName": p.last,
                                                          "handicap": round(rng.uniform(2, 28), 1)}
            yield p, "messaging", "contactPreference.updated", {"emailOptIn": True, "smsOptIn": False,
                                                                "pushOptIn": False, "aiMarketingConsent": True,
                                                                "doNotProfile": False}
            for _ in range(3):
                q = rng.choice(self.people)
                kind = rng.random()
                if kind < 0.5:
                    yield q, "teetime", "teetime.booking.created", {
                        "bookingId": f"BK-{uuid.uuid4().hex[:10]}", "players": rng.randint(1, 4),
                        "teeTime": (now + timedelta(days=rng.randint(1, 10))).isoformat(),
                        "courseName": "Championship Course", "amount": "450.00"}
                elif kind < 0.8:
                    yield q, "teetime", "teetime.round.played", {
                        "roundId": f"RD-{uuid.uuid4().hex[:10]}", "holes": 18, "score": rng.randint(70, 105),
                        "courseName": "Championship Course"}
                else:
                    yield q, "messaging", "messaging.email.opened", {
                        "messageId": f"m-{uuid.uuid4().hex[:10]}", "campaignId": "club-news"}

    async def run(self, duration: float) -> None:
        """Send at `rate` for `duration` seconds (or until `stop()`), every event retried until acknowledged."""
        producer = make_producer(self.bootstrap, client_id=f"chaos-load-{self.scenario}")
        await self._start(producer)
        try:
            events = self._events()
            started = time.monotonic()
            i = 0
            while not self._stop.is_set() and time.monotonic() - started < duration:
                p, system, event_type, payload = next(events)
                event_id = str(uuid.uuid4())
                value = upstream_wire(event_id=event_id, event_type=event_type, tenant_id=self.tenant,
                                      timestamp=datetime.now(UTC), identity=p.identity(system), payload=payload)
                s = Sent(event_id, event_type, p.n, system, self.topics(TOPIC[system]), p.key(system), value)
                await self._send(producer, s)
                self.sent[event_id] = s
                i += 1
                delay = started + i / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            await producer.stop()

    async def _start(self, producer: Any) -> None:
        while True:
            try:
                await producer.start()
                return
            except (KafkaError, OSError):
                self.retries += 1
                await asyncio.sleep(1)

    async def _send(self, producer: Any, s: Sent) -> None:
        while True:
            try:
                await asyncio.wait_for(await producer.send(s.topic, s.value, key=s.key), timeout=30)
                return
            except (KafkaError, OSError, TimeoutError):
                self.retries += 1  # the broker is away: an upstream producer keeps trying
                await asyncio.sleep(1)

    async def resend(self) -> int:
        """Publish every event sent so far again, in order: what an upstream replays after the broker lost
        what it held (Tansu keeps nothing across a restart). Consumers must take none of them twice."""
        producer = make_producer(self.bootstrap, client_id=f"chaos-replay-{self.scenario}")
        await self._start(producer)
        try:
            for s in list(self.sent.values()):
                await self._send(producer, s)
        finally:
            await producer.stop()
        return len(self.sent)

    def stop(self) -> None:
        self._stop.set()
