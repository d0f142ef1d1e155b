"""Simulators of the systems Fairway listens to: SCL, TeeTime and Messaging, speaking their Kafka contract.

They feed a demo club: a few hundred members with realistic bookings, rounds, renewals, lapses, email
engagement and consent changes over the last six months, then live activity. The Messaging simulator answers
Fairway's send requests with sent/delivered/opened/clicked events at plausible rates.

History uses deterministic event ids (uuid5), so running it twice changes nothing: every consumer's inbox
absorbs the repeats.
"""
from __future__ import annotations

import asyncio
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from fairway_cli.competitions import COMPETITIONS, competition
from fairway_events.catalogue import TopicNames
from fairway_events.contracts.messaging_out import SendRequested
from fairway_events.envelope import decode_raw, new_event_id, upstream_wire
from fairway_events.kafka import make_producer
from fairway_events.registry import registry

NS = uuid.UUID("6f3a4c6e-2b1d-4f57-9a57-6a2f3b9c1d00")
FIRST = ["Thabo", "Sipho", "Lerato", "Anele", "Johan", "Pieter", "Sarah", "Emma", "David", "Michael", "Naledi",
         "Zanele", "Ruan", "Chloe", "Liam", "Ayesha", "Priya", "Kagiso", "Megan", "Jacques", "Nomsa", "Ethan"]
LAST = ["Nkosi", "van der Merwe", "Botha", "Dlamini", "Smith", "Naidoo", "Pillay", "Mokoena", "Ndlovu", "Pretorius",
        "Jacobs", "Williams", "Khumalo", "Venter", "Mahlangu", "Coetzee", "Adams", "Petersen"]
TIERS = [("Bronze", 0.35), ("Silver", 0.35), ("Gold", 0.22), ("Platinum", 0.08)]
ARCHETYPES = [("regular", 0.33), ("occasional", 0.32), ("lapsing", 0.25), ("new", 0.10)]
COURSES = ["Championship Course", "Lakes Nine", "Highveld Links"]


@dataclass
class Member:
    n: int
    first: str
    last: str
    email: str
    phone: str  # in one of the formats people really type
    scl_id: int
    teetime_id: str
    contact_id: str
    tier: str
    archetype: str
    member_since: date
    handicap: float

    def identity(self, system: str) -> dict[str, Any]:
        # Each system knows the person by its own key plus what it holds of email and phone.
        if system == "scl":
            return {"sclMemberId": self.scl_id, "email": self.email, "phoneNumber": self.phone}
        if system == "teetime":
            return {"teetimePlayerId": self.teetime_id, "email": self.email.upper() if self.n % 7 == 0 else self.email}
        return {"messagingContactId": self.contact_id, "email": self.email}

    def key(self, system: str) -> bytes:
        return {"scl": str(self.scl_id), "teetime": self.teetime_id, "messaging": self.contact_id}[system].encode()


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def make_club(tenant: str, members: int, seed: int = 7) -> list[Member]:
    rng = random.Random(f"{tenant}:{seed}")
    out = []
    today = datetime.now(UTC).date()
    for n in range(members):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        digits = f"8{rng.randint(10000000, 99999999)}"
        phone = rng.choice([f"0{digits[:2]} {digits[2:5]} {digits[5:]}", f"+27 {digits[:2]} {digits[2:5]} {digits[5:]}",
                            f"27{digits}"])
        archetype = _pick(rng, ARCHETYPES)
        since = today - timedelta(days=rng.randint(20, 120) if archetype == "new" else rng.randint(200, 4000))
        out.append(Member(
            n=n, first=first, last=last, email=f"{first}.{last}.{n}@example.co.za".lower().replace(" ", ""),
            phone=phone, scl_id=100000 + n, teetime_id=f"TT-{5000 + n}", contact_id=f"MC-{9000 + n}",
            tier=_pick(rng, TIERS), archetype=archetype, member_since=since, handicap=round(rng.uniform(2, 28), 1),
        ))
    return out


class Feed:
    """Collects upstream events (in the upstream contract v1) and publishes them per system topic."""

    def __init__(self, tenant: str, topics: TopicNames) -> None:
        self.tenant = tenant
        self.topics = topics
        self.items: list[tuple[datetime, str, bytes, bytes]] = []

    def add(self, system: str, event_type: str, m: Member | None, at: datetime, payload: dict[str, Any],
            event_key: str | None) -> None:
        event_id = str(uuid.uuid5(NS, f"{self.tenant}:{event_key}")) if event_key else new_event_id()
        identity = m.identity(system) if m else {}
        body = upstream_wire(event_id=event_id, event_type=event_type, tenant_id=self.tenant, timestamp=at,
                             identity=identity, payload=payload)
        topic = {"scl": "scl.events", "teetime": "teetime.events", "messaging": "messaging.events"}[system]
        self.items.append((at, self.topics(topic), m.key(system) if m else event_id.encode(), body))

    async def flush(self, producer: AIOKafkaProducer) -> int:
        self.items.sort(key=lambda x: x[0])  # upstream systems publish in time order
        futures = [await producer.send(t, v, key=k) for _, t, k, v in self.items]
        await asyncio.gather(*futures)
        n = len(self.items)
        self.items.clear()
        return n


def history(club: list[Member], feed: Feed, days: int = 180) -> None:
    """Six months of club life, deterministic for a given club."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=days)
    rng = random.Random(f"{feed.tenant}:history")
    for m in club:
        created = max(start, datetime.combine(m.member_since, datetime.min.time(), UTC))
        expiry = date(now.year + (1 if now.month > 6 else 0), 6, 30)
        member = {"firstName": m.first, "lastName": m.last, "membershipNumber": f"M{m.scl_id}",
                  "membershipTier": m.tier, "membershipStatus": "ACTIVE", "memberSince": m.member_since.isoformat(),
                  "membershipExpiry": expiry.isoformat(), "homeClub": "Fairway Demo Golf Club",
                  "dateOfBirth": date(1950 + m.n % 50, 1 + m.n % 12, 1 + m.n % 28).isoformat()}
        feed.add("scl", "scl.member.created", m, created, member, f"scl-created:{m.n}")
        feed.add("teetime", "teetime.player.created", m, created + timedelta(minutes=5),
                 {"firstName": m.first, "lastName": m.last, "handicap": m.handicap, "homeClub": "Fairway Demo Golf Club"},
                 f"tt-created:{m.n}")
        feed.add("messaging", "contactPreference.updated", m, created + timedelta(minutes=10),
                 {"emailOptIn": True, "smsOptIn": rng.random() < 0.6, "pushOptIn": rng.random() < 0.4,
                  "aiMarketingConsent": rng.random() < 0.8, "doNotProfile": False}, f"consent-initial:{m.n}")
        per_week = {"regular": 1.6, "occasional": 0.4, "lapsing": 0.7, "new": 0.9}[m.archetype]
        # Lapsing members stop at any time in the period (the last one a month ago), so every point of the history
        # has recent leavers and stayers side by side: what a churn model learns from (the demo trains one).
        active_until = now - timedelta(days=rng.randint(30, max(31, days - 20))) if m.archetype == "lapsing" else now
        day = created
        k = 0
        handicap = m.handicap
        while day < active_until:
            day += timedelta(days=rng.expovariate(per_week / 7))
            if day >= active_until:
                break
            k += 1
            tee = day.replace(hour=rng.choice([6, 7, 8, 9, 13, 14, 15]), minute=rng.choice([0, 10, 20, 30]))
            booking_at = tee - timedelta(days=rng.randint(1, 6))
            feed.add("teetime", "teetime.booking.created", m, booking_at,
                     {"bookingId": f"B{m.n}-{k}", "teeTime": tee.isoformat(), "courseName": rng.choice(COURSES),
                      "players": rng.choice([1, 2, 3, 4]), "amount": rng.choice([350, 450, 550])}, f"booking:{m.n}:{k}")
            if rng.random() < 0.08:
                feed.add("teetime", "teetime.booking.cancelled", m, booking_at + timedelta(hours=20),
                         {"bookingId": f"B{m.n}-{k}", "reason": "weather"}, f"cancel:{m.n}:{k}")
                continue
            if tee < now:
                feed.add("teetime", "teetime.round.played", m, tee + timedelta(hours=4),
                         {"roundId": f"R{m.n}-{k}", "courseName": rng.choice(COURSES), "holes": 18,
                          "score": int(72 + handicap + rng.randint(-4, 6))}, f"round:{m.n}:{k}")
                if rng.random() < 0.35:
                    feed.add("teetime", "teetime.purchase.completed", m, tee + timedelta(hours=5),
                             {"purchaseId": f"P{m.n}-{k}", "amount": rng.choice([85, 120, 240, 560]),
                              "quantity": rng.randint(1, 3), "category": rng.choice(["halfway", "proshop", "bar"])},
                             f"purchase:{m.n}:{k}")
                if k % 5 == 0:
                    previous, handicap = handicap, round(max(0.0, handicap + rng.uniform(-1.2, 0.8)), 1)
                    feed.add("teetime", "teetime.handicap.updated", m, tee + timedelta(hours=6),
                             {"handicap": handicap, "previousHandicap": previous}, f"hcp:{m.n}:{k}")
        if m.archetype == "lapsing" and rng.random() < 0.35:
            feed.add("scl", "scl.membership.cancelled", m, active_until + timedelta(days=20),
                     {"reason": rng.choice(["moved away", "cost", "not playing enough"]),
                      "effectiveDate": (active_until + timedelta(days=30)).date().isoformat()}, f"cancelled:{m.n}")
        elif m.archetype != "new":
            renewed = now - timedelta(days=rng.randint(5, 150))
            if m.archetype == "lapsing":  # they renewed while still playing, not after they stopped
                renewed = max(created, active_until - timedelta(days=rng.randint(0, 60)))
            feed.add("scl", "scl.membership.renewed", m, renewed,
                     {"membershipTier": m.tier, "membershipExpiry": date(renewed.year + 1, 6, 30).isoformat(),
                      "amount": {"Bronze": 4500, "Silver": 7800, "Gold": 12500, "Platinum": 19800}[m.tier]},
                     f"renewed:{m.n}")
            feed.add("scl", "scl.payment.received", m, renewed + timedelta(hours=1),
                     {"paymentId": f"PAY-{m.n}", "amount": {"Bronze": 4500, "Silver": 7800, "Gold": 12500,
                                                             "Platinum": 19800}[m.tier], "description": "annual subs"},
                     f"payment:{m.n}")
        if rng.random() < 0.06:  # some people opt out of email along the way
            feed.add("messaging", "contactPreference.updated", m, created + timedelta(days=rng.randint(5, 60)),
                     {"emailOptIn": False}, f"consent-optout:{m.n}")
            feed.add("messaging", "messaging.unsubscribed", m, created + timedelta(days=61),
                     {"channel": "EMAIL", "reason": "too many emails"}, f"unsub:{m.n}")
    # A weekly newsletter: engagement depends on the archetype.
    open_rate = {"regular": 0.55, "occasional": 0.35, "lapsing": 0.15, "new": 0.6}
    for week in range(days // 7):
        sent_at = start + timedelta(days=7 * week, hours=9)
        for m in club:
            if datetime.combine(m.member_since, datetime.min.time(), UTC) > sent_at:
                continue
            mid = f"NL{week}-{m.n}"
            base = {"messageId": mid, "campaignId": f"newsletter-{week}", "subject": f"Club news, week {week}"}
            feed.add("messaging", "messaging.email.sent", m, sent_at, base, f"sent:{mid}")
            if rng.random() < 0.01:
                feed.add("messaging", "messaging.email.bounced", m, sent_at + timedelta(minutes=2),
                         {**base, "bounceType": "SOFT"}, f"bounce:{mid}")
                continue
            feed.add("messaging", "messaging.email.delivered", m, sent_at + timedelta(minutes=1), base, f"dlv:{mid}")
            if rng.random() < open_rate[m.archetype]:
                opened = sent_at + timedelta(hours=rng.choice([0, 1, 2, 8, 10, 11, 12]), minutes=rng.randint(0, 59))
                feed.add("messaging", "messaging.email.opened", m, opened, base, f"open:{mid}")
                if rng.random() < 0.25:
                    feed.add("messaging", "messaging.email.clicked", m, opened + timedelta(minutes=3),
                             {**base, "url": "https://club.example/bookings"}, f"click:{mid}")
    for c in range(len(COMPETITIONS)):  # competitions on the calendar, entries coming in since they opened
        published = now - timedelta(days=20 - 5 * c)
        details = competition(c, now)
        feed.add("teetime", "teetime.competition.published", None, published,
                 {k: v for k, v in details.items() if k != "capacity"}, f"comp:{c}")
        # TeeTime's published event predates capacities; the club sets one right after publishing.
        feed.add("teetime", "teetime.competition.updated", None, published + timedelta(hours=1),
                 {**details, "changed": ["capacity"]}, f"comp-capacity:{c}")
        entrants = history_entrants(club, feed.tenant, c)
        for i, m in enumerate(entrants):
            at = published + (now - published) * (i + 1) / (len(entrants) + 1)
            feed.add("teetime", "teetime.competition.entry_created", m, at,
                     {"competitionId": f"COMP-{c}", "entryId": f"E{c}-{m.n}", "entries": i + 1,
                      "capacity": details["capacity"]}, f"entry:{c}:{m.n}")


def history_entrants(club: list[Member], tenant: str, c: int) -> list[Member]:
    """Who entered competition `c` before the live feed started (the same players every run)."""
    players = [m for m in club if m.archetype != "lapsing"]
    return random.Random(f"{tenant}:entries:{c}").sample(players, k=min(COMPETITIONS[c][2], len(players)))


@dataclass
class Entries:
    """TeeTime's live entry book for the demo club's competitions: players keep entering until one is full."""

    entered: dict[int, set[int]]

    @classmethod
    def after_history(cls, club: list[Member], tenant: str) -> Entries:
        return cls({c: {m.n for m in history_entrants(club, tenant, c)} for c in range(len(COMPETITIONS))})

    def tick(self, club: list[Member], feed: Feed, rng: random.Random, now: datetime) -> None:
        open_ = [c for c, (_, cap, _) in enumerate(COMPETITIONS) if len(self.entered[c]) < cap]
        if not open_ or rng.random() > 0.3:
            return
        c = rng.choice(open_)
        m = rng.choice(club)
        if m.n in self.entered[c] or m.archetype == "lapsing":
            return
        self.entered[c].add(m.n)
        cap = COMPETITIONS[c][1]
        n = len(self.entered[c])
        # Deterministic ids: a restarted simulator dealing the same player again changes nothing downstream.
        feed.add("teetime", "teetime.competition.entry_created", m, now,
                 {"competitionId": f"COMP-{c}", "entryId": f"E{c}-{m.n}", "entries": n, "capacity": cap},
                 f"entry:{c}:{m.n}")
        if n >= cap:
            feed.add("teetime", "teetime.competition.full", None, now,
                     {"competitionId": f"COMP-{c}", "capacity": cap, "entries": n, "waitingList": True}, f"full:{c}")


def live_tick(club: list[Member], feed: Feed, rng: random.Random) -> None:
    now = datetime.now(UTC)
    for m in rng.sample(club, k=min(3, len(club))):
        if m.archetype == "lapsing":
            continue
        tee = now + timedelta(days=rng.randint(1, 7))
        bid = f"B{m.n}-live-{uuid.uuid4().hex[:6]}"
        feed.add("teetime", "teetime.booking.created", m, now,
                 {"bookingId": bid, "teeTime": tee.isoformat(), "courseName": rng.choice(COURSES), "players": 2},
                 None)
        if rng.random() < 0.3:
            feed.add("teetime", "teetime.round.played", m, now,
                     {"roundId": f"R{bid}", "courseName": rng.choice(COURSES), "holes": 18,
                      "score": int(72 + m.handicap + rng.randint(-4, 6))}, None)


def rendered(req: SendRequested) -> str:
    """What Messaging would deliver: the written body, or its template filled with the recipient's merge data."""
    if req.body:
        return req.body
    fields = ", ".join(f"{k}={v}" for k, v in sorted(req.templateData.items()))
    return f"[{req.templateId}] {fields}".rstrip()


def messaging_answers(tenant_id: str, req: SendRequested, rng: random.Random, now: datetime
                      ) -> list[tuple[str, bytes]]:
    """Messaging's events for one send request (event type, wire bytes): sent, delivered, then engagement at
    plausible rates. A request of any published version arrives here upcast to the latest."""
    identity = {"messagingContactId": req.recipient.messagingContactId, "email": req.recipient.email,
                "phoneNumber": req.recipient.phoneNumber}
    channel = req.channel.lower()
    base = {"messageId": f"msg-{req.requestId}", "sendRequestId": req.requestId, "campaignId": req.campaignId,
            "journeyId": req.journeyId, "variant": req.variant}
    steps = [("sent", 1.0), ("delivered", 0.97)]
    if channel == "email":
        # Members like variant A's subject better, so the demo's A/B test finds a winner.
        opened = {"A": 0.6, "B": 0.3}.get(req.variant or "", 0.45)
        steps += [("opened", opened), ("clicked", 0.25)]
    elif channel == "push":
        steps = [("sent", 1.0), ("opened", 0.2)]
    known = {s.event_type for s in registry.specs()}
    out = []
    for i, (what, p) in enumerate(steps):
        if rng.random() > p:
            break
        event_type = f"messaging.{channel}.{what}"
        if event_type not in known:
            continue
        out.append((event_type, upstream_wire(
            event_id=str(uuid.uuid5(NS, f"{tenant_id}:{req.requestId}:{what}")), event_type=event_type,
            tenant_id=tenant_id, timestamp=now + timedelta(minutes=i * 7), identity=identity, payload=base)))
    return out


async def messaging_responder(bootstrap: str, topics: TopicNames, producer: AIOKafkaProducer,
                              rng: random.Random) -> None:
    """Messaging: delivers what Fairway asks, and reports delivery and engagement back as Messaging events."""
    consumer = AIOKafkaConsumer(topics("crm.messaging.send_requests"), bootstrap_servers=bootstrap,
                                group_id=topics.group("messaging-simulator"), auto_offset_reset="earliest")
    await consumer.start()
    try:
        async for record in consumer:
            try:
                env = registry.validate(decode_raw(record.value))
            except ValueError:
                continue  # Messaging would reject it; Fairway's own DLQ is the place to look
            for _, body in messaging_answers(env.tenant_id, env.payload, rng, datetime.now(UTC)):
                await producer.send_and_wait(topics("messaging.events"), body,
                                             key=env.payload.recipient.profileId.encode())
    finally:
        await consumer.stop()


async def run_simulators(*, bootstrap: str, prefix: str, tenant: str, members: int, live: bool,
                         state_dir: Path, tick_seconds: float = 5.0) -> None:
    topics = TopicNames(prefix)
    club = make_club(tenant, members)
    producer = make_producer(bootstrap, client_id="simulators")
    await producer.start()
    state_dir.mkdir(parents=True, exist_ok=True)
    marker = state_dir / f"{tenant}.json"
    try:
        if not marker.exists():
            feed = Feed(tenant, topics)
            history(club, feed)
            n = await feed.flush(producer)
            marker.write_text(json.dumps({"tenant": tenant, "members": members, "events": n,
                                          "at": datetime.now(UTC).isoformat()}))
            print(f"simulators: published {n} historic events for {members} members of '{tenant}'", flush=True)
        else:
            print(f"simulators: history of '{tenant}' already published ({marker})", flush=True)
        if not live:
            return
        rng = random.Random()
        entries = Entries.after_history(club, tenant)
        responder = asyncio.create_task(messaging_responder(bootstrap, topics, producer, rng))
        marketer = asyncio.create_task(_demo_marketer(tenant, members, state_dir))
        scientist = asyncio.create_task(_demo_scientist(tenant, bootstrap, topics, state_dir))
        try:
            feed = Feed(tenant, topics)
            while True:
                live_tick(club, feed, rng)
                entries.tick(club, feed, rng, datetime.now(UTC))
                await feed.flush(producer)
                await asyncio.sleep(tick_seconds)
        finally:
            responder.cancel()
            marketer.cancel()
            scientist.cancel()
    finally:
        await producer.stop()


async def _demo_marketer(tenant: str, members: int, state_dir: Path) -> None:
    """Plan the demo club's campaigns once (the platform's secret signs the marketer's token)."""
    import os

    from fairway_cli import demo_campaigns
    from fairway_cli.platform import service_url

    secret = os.environ.get("FAIRWAY_JWT_SECRET")
    if not secret:
        print("simulators: no FAIRWAY_JWT_SECRET; the demo campaigns are not planned", flush=True)
        return
    try:
        await demo_campaigns.plan(tenant=tenant, secret=secret, members=members, state_dir=state_dir,
                                  segmentation_url=service_url("segmentation"),
                                  campaigns_url=service_url("campaigns"))
    except Exception as exc:  # the demo's marketer failing must not stop the club's simulators
        print(f"simulators: planning the demo campaigns failed: {exc!r}", flush=True)


async def _demo_scientist(tenant: str, bootstrap: str, topics: TopicNames, state_dir: Path) -> None:
    """Train and promote the demo club's churn and CLV models once ml-scoring has its history."""
    from fairway_cli import demo_models

    try:
        done = await demo_models.train(tenant, bootstrap=bootstrap, names=topics, state_dir=state_dir)
    except Exception as exc:  # the models failing must not stop the club's simulators; rules keep answering
        print(f"simulators: training the demo models failed: {exc!r}", flush=True)
        return
    if done and not done["churn"]["promoted"]:
        print(f"simulators: the demo churn model did not pass the gate: {done['churn']['gate']}", flush=True)
