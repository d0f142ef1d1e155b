"""The topic catalogue as code: every topic Fairway reads or writes, its key, partitions, retention and DLQ.

Topic names can carry a prefix (`FAIRWAY_TOPIC_PREFIX`), so several environments, or several tests,
share one cluster without seeing each other's events.
"""
from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 3600 * 1000
KIB = 1024
# An event is a fact about one aggregate, a few KB at most; a larger message on a topic is an upstream bug (or an
# attack) and is dead-lettered instead of being handled. Topics whose events carry more (a segment's member
# delta, an AI prompt) say so in the catalogue.
DEFAULT_MAX_EVENT_BYTES = 256 * KIB


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    key: str
    retention_days: int
    description: str
    owner: str
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    # "compact" for state topics: the broker keeps the latest record per key (a null value deletes the key), so a
    # new reader rebuilds a read model from the beginning, however old the entity.
    cleanup_policy: str = "delete"

    @property
    def compacted(self) -> bool:
        return self.cleanup_policy == "compact"

    @property
    def retention_ms(self) -> int:
        return -1 if self.compacted else self.retention_days * DAY_MS

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


TOPICS: tuple[Topic, ...] = (
    # Upstream systems: Fairway only reads these.
    Topic("scl.events", 6, "person key", 30, "SCL memberships, tiers and payments (upstream contract v1)", "scl"),
    Topic("teetime.events", 6, "person key", 30, "TeeTime players, bookings, rounds, handicaps, competitions", "teetime"),
    Topic("messaging.events", 6, "person key", 30, "Messaging delivery events and consent changes", "messaging"),
    # Fairway's own domain events, one topic per owning service.
    Topic("crm.identity", 6, "profile id", 30, "profile lifecycle, links, merges, consent mirror, erasure", "identity"),
    Topic("crm.timeline", 6, "profile id", 30, "activity counters per profile", "timeline"),
    Topic("crm.segmentation", 6, "segment id", 30, "segment membership changes", "segmentation"),
    Topic("crm.scoring", 6, "profile id", 30, "scores, churn risk, model lifecycle, drift", "ml-scoring"),
    Topic("crm.campaigns", 3, "campaign id", 30, "campaign lifecycle", "campaigns"),
    Topic("crm.journeys", 3, "journey id", 30, "journey lifecycle and enrolments", "journeys"),
    Topic("crm.social", 3, "post id", 30, "social publishing", "social"),
    Topic("crm.ai", 3, "tenant id", 30, "AI cost, throttling, circuit breaker and fallback events", "ai-gateway"),
    # Requests to Messaging: Fairway never delivers a message itself.
    Topic("crm.messaging.send_requests", 6, "profile id", 30, "send requests for Messaging to deliver", "campaigns"),
    Topic("crm.messaging.segment_sync", 3, "segment id", 30, "segment membership deltas for Messaging", "segmentation",
          max_event_bytes=768 * KIB),
    # Commands and requests between Fairway services.
    Topic("crm.dispatch.requests", 6, "profile id", 30, "sends journeys and promotions ask dispatch to make", "campaigns"),
    Topic("crm.dispatch.outcomes", 6, "profile id", 30, "what dispatch did with each send request", "campaigns"),
    Topic("crm.social.requests", 3, "request id", 30, "posts other services ask social to publish", "social"),
    Topic("crm.identity.commands", 6, "profile id", 30, "profile changes other services ask identity to make", "identity"),
    # Request/reply.
    Topic("crm.ai.requests", 3, "tenant id", 1, "requests to the AI gateway (request/reply)", "ai-gateway",
          max_event_bytes=768 * KIB),
    Topic("fairway.replies", 3, "correlation id", 1, "replies to request/reply calls", "libs/events",
          max_event_bytes=768 * KIB),
)

# State topics: the latest full snapshot of each entity others mirror, keyed by its id. Owners republish every
# snapshot from their own database on `fairway reannounce` (Tansu neither compacts nor keeps anything on restart).
STATE_TOPICS: tuple[Topic, ...] = (
    Topic("crm.identity.state", 6, "profile id", 0, "each profile's current snapshot; tombstone on erasure", "identity",
          cleanup_policy="compact"),
    Topic("crm.timeline.state", 6, "profile id", 0, "each profile's current activity counters", "timeline",
          cleanup_policy="compact"),
    Topic("crm.scoring.state", 6, "profile id", 0, "each profile's current scores", "ml-scoring",
          cleanup_policy="compact"),
    Topic("crm.segmentation.state", 6, "segment id:profile id", 0,
          "each current segment membership; tombstone when the member leaves", "segmentation",
          cleanup_policy="compact"),
)
TOPICS = TOPICS + STATE_TOPICS
BY_NAME = {t.name: t for t in TOPICS}


@dataclass(frozen=True)
class ConsumerGroup:
    """A service's consumer group and the topics it reads (a test checks each service's app against this)."""

    name: str
    service: str
    topics: tuple[str, ...]


UPSTREAM = ("scl.events", "teetime.events", "messaging.events")
CONSUMER_GROUPS: tuple[ConsumerGroup, ...] = (
    ConsumerGroup("identity.resolution", "identity", UPSTREAM),
    ConsumerGroup("identity.commands", "identity", ("crm.identity.commands",)),
    ConsumerGroup("timeline.activities", "timeline", (*UPSTREAM, "crm.identity")),
    ConsumerGroup("timeline.state", "timeline", ("crm.identity.state",)),
    ConsumerGroup("ml-scoring.features", "ml-scoring", (*UPSTREAM, "crm.identity", "crm.timeline")),
    ConsumerGroup("ml-scoring.state", "ml-scoring", ("crm.identity.state", "crm.timeline.state")),
    ConsumerGroup("segmentation.read-model", "segmentation", ("crm.identity", "crm.timeline", "crm.scoring")),
    ConsumerGroup("segmentation.state", "segmentation", ("crm.identity.state", "crm.timeline.state", "crm.scoring.state")),
    ConsumerGroup("campaigns.results", "campaigns",
                  ("messaging.events", "crm.dispatch.outcomes", "teetime.events", "scl.events", "crm.identity")),
    ConsumerGroup("campaigns.audience", "campaigns", ("crm.identity", "crm.segmentation", "crm.scoring")),
    ConsumerGroup("campaigns.state", "campaigns", ("crm.identity.state", "crm.segmentation.state")),
    ConsumerGroup("campaigns.dispatch.requests", "campaigns", ("crm.dispatch.requests",)),
    ConsumerGroup("campaigns.promotions", "campaigns", ("teetime.events", "crm.social")),
    ConsumerGroup("social.requests", "social", ("crm.social.requests",)),
    ConsumerGroup("social.calendar", "social", ("crm.campaigns", "teetime.events")),
    ConsumerGroup("journeys.events", "journeys", (*UPSTREAM, "crm.identity", "crm.timeline", "crm.scoring",
                                                  "crm.segmentation", "crm.dispatch.outcomes")),
    ConsumerGroup("journeys.state", "journeys", ("crm.identity.state", "crm.timeline.state", "crm.scoring.state",
                                                 "crm.segmentation.state")),
)


def downstream(topics: list[str]) -> list[str]:
    """The topics, and every topic a service reading one of them publishes (transitively): where the effects of
    events on `topics` travel."""
    out = list(dict.fromkeys(topics))
    for name in out:  # grows while it is walked
        for group in CONSUMER_GROUPS:
            if name in group.topics:
                out += [t.name for t in TOPICS if t.owner == group.service and t.name not in out]
    return out


def readers(topic: str) -> list[ConsumerGroup]:
    return [g for g in CONSUMER_GROUPS if topic in g.topics]


class TopicNames:
    """Resolves catalogue names to the prefixed names used on the cluster."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def __call__(self, name: str) -> str:
        if name not in BY_NAME and not name.endswith(".dlq"):
            raise KeyError(f"{name!r} is not in the topic catalogue")
        return f"{self.prefix}{name}"

    def dlq(self, name: str) -> str:
        return f"{self(name)}.dlq"

    def group(self, name: str) -> str:
        """A consumer group id in the same namespace: installations (and tests) sharing a cluster never share a
        group, which would split one's partitions with the other's members and tie their rebalances together."""
        return f"{self.prefix}{name}"

    def max_event_bytes(self, physical: str) -> int:
        """The size limit of events on a topic of the cluster (prefixed name); the default for a topic unknown."""
        topic = BY_NAME.get(self.unprefixed(physical))
        return topic.max_event_bytes if topic else DEFAULT_MAX_EVENT_BYTES

    def compacted(self, physical: str) -> bool:
        topic = BY_NAME.get(self.unprefixed(physical))
        return topic is not None and topic.compacted

    def unprefixed(self, physical: str) -> str:
        return physical[len(self.prefix):] if self.prefix and physical.startswith(self.prefix) else physical

    def all_physical(self) -> list[tuple[str, int, int]]:
        """(name, partitions, retention_ms) of every topic and its DLQ (-1: kept, compacted)."""
        out: list[tuple[str, int, int]] = []
        for t in TOPICS:
            out.append((self(t.name), t.partitions, t.retention_ms))
            out.append((self.dlq(t.name), 1, 90 * DAY_MS))
        return out

    def configs(self, physical: str) -> dict[str, str]:
        """Broker settings of a topic of the cluster: retention, and compaction for state topics."""
        name = self.unprefixed(physical)
        if name.endswith(".dlq"):
            return {"retention.ms": str(90 * DAY_MS), "cleanup.policy": "delete"}
        topic = BY_NAME[name]
        return {"retention.ms": str(topic.retention_ms), "cleanup.policy": topic.cleanup_policy}
