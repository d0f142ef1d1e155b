"""All SQL of dispatch: tenant settings, contents, and the ledger, whose decisions are made set-based by one
statement per batch (the policy in SQL, the timing facts computed by `policy` in Python and passed in)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.dispatch.policy import DispatchSettings
from fairway_events.contracts.dispatch import DispatchOutcomeRecorded
from fairway_events.contracts.messaging_out import SendRequested
from fairway_events.outbox import Sql, outbox

SOURCE = "campaigns"
# The input of `submit`: one array per column (asyncpg sends them binary; unnest costs next to nothing).
INPUT_COLUMNS = {
    "request_id": "text", "profile_id": "text", "channel": "text", "source_kind": "text", "source_id": "text",
    "run_id": "text", "step_id": "text", "source_version": "int", "content_id": "text", "transactional": "boolean",
    "ai": "boolean", "notify": "boolean", "due_at": "timestamptz", "planned_at": "timestamptz", "hold_reason": "text",
}
_UNNEST = ("unnest(" + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in INPUT_COLUMNS.items()) + ") AS r("
           + ", ".join(INPUT_COLUMNS) + ")")

# The policy, in order: suppression, consent, control group, lateness; then timing (held until quiet hours end,
# the best hour, or not-before) and, for what goes now, the frequency caps (per local day and week, counting
# this batch in request-id order). `candidates` is the input rows (new requests) or the held rows now due.
_DECIDE = """
timing AS (
    SELECT * FROM json_to_recordset(CAST(:timing AS json))
        AS q(tz text, channel text, hold_until timestamptz, today date, week_start date)
),
caps AS (
    SELECT * FROM json_to_recordset(CAST(:caps AS json)) AS k(channel text, per_day int, per_week int)
),
gated AS (
    SELECT c.*, z.tz,
      -- The recipient's local day and week, from `timing` (one computation per zone, not per row).
      COALESCE(q.today, CAST(CAST(:now AS timestamptz) AT TIME ZONE z.tz AS date)) AS today,
      COALESCE(q.week_start, CAST(date_trunc('week', CAST(:now AS timestamptz) AT TIME ZONE z.tz) AS date))
        AS week_start,
      CASE
        WHEN p.profile_id IS NULL THEN 'SUPPRESSED'
        WHEN p.erased THEN 'SUPPRESSED'
        WHEN p.status <> 'ACTIVE' THEN 'SUPPRESSED'
        WHEN (c.channel = 'EMAIL' AND p.email IS NULL) OR (c.channel = 'SMS' AND p.phone_number IS NULL)
             OR (c.channel = 'PUSH' AND p.messaging_contact_id IS NULL) THEN 'SUPPRESSED'
        WHEN NOT COALESCE(CASE c.channel WHEN 'EMAIL' THEN p.email_opt_in WHEN 'SMS' THEN p.sms_opt_in
                                         ELSE p.push_opt_in END, false) THEN 'NO_CONSENT'
        WHEN c.ai AND NOT COALESCE(p.ai_consent, false) THEN 'NO_CONSENT'
        WHEN cg.member THEN 'CONTROL_GROUP'
        WHEN c.due_at < CAST(:now AS timestamptz) - make_interval(secs => :lateness) THEN 'EXPIRED'
      END AS gate,
      CASE
        WHEN p.profile_id IS NULL THEN 'unknown profile'
        WHEN p.erased THEN 'profile erased'
        WHEN p.status <> 'ACTIVE' THEN 'profile ' || p.status
        WHEN c.channel = 'EMAIL' AND p.email IS NULL THEN 'no email address'
        WHEN c.channel = 'SMS' AND p.phone_number IS NULL THEN 'no phone number'
        WHEN c.channel = 'PUSH' AND p.messaging_contact_id IS NULL THEN 'no push contact'
        WHEN NOT COALESCE(CASE c.channel WHEN 'EMAIL' THEN p.email_opt_in WHEN 'SMS' THEN p.sms_opt_in
                                         ELSE p.push_opt_in END, false) THEN 'no ' || c.channel || ' opt-in'
        WHEN c.ai AND NOT COALESCE(p.ai_consent, false) THEN 'no aiMarketingConsent for AI-personalised content'
        WHEN cg.member THEN 'global control group'
        ELSE 'more than ' || CAST(:lateness_hours AS text) || ' h past its time (' || to_char(c.due_at AT TIME ZONE 'UTC',
             'YYYY-MM-DD"T"HH24:MI"Z"') || ')'
      END AS gate_reason,
      COALESCE(c.planned_at, CASE WHEN NOT c.transactional THEN q.hold_until END) AS hold_at,
      COALESCE(c.hold_reason, 'quiet hours') AS held_for
    FROM candidates c
    LEFT JOIN dispatch_profiles p ON p.tenant_id = :t AND p.profile_id = c.profile_id
    CROSS JOIN LATERAL (SELECT COALESCE(p.time_zone, CAST(:default_tz AS text)) AS tz) AS z
    -- The control group: the first 32 bits of md5("tenant:profile") below the share (policy.control_bucket).
    CROSS JOIN LATERAL (SELECT NOT c.transactional AND CAST(CAST('x' || substr(md5(CAST(:t AS text) || ':'
        || c.profile_id), 1, 8) AS bit(32)) AS bigint) < CAST(:control_cut AS bigint) AS member) AS cg
    LEFT JOIN timing q ON q.tz = z.tz AND q.channel = c.channel
),
sending AS (
    SELECT g.request_id, g.profile_id, g.channel, g.today, g.week_start,
           row_number() OVER (PARTITION BY g.profile_id, g.channel ORDER BY g.request_id) AS n
    FROM gated g
    WHERE g.gate IS NULL AND NOT g.transactional AND (g.hold_at IS NULL OR g.hold_at <= CAST(:now AS timestamptz))
),
hist AS (
    SELECT l.profile_id, l.channel, l.local_date, count(*) AS sent
    FROM dispatch_ledger l
    WHERE l.tenant_id = :t AND l.status = 'REQUESTED' AND NOT l.transactional
      AND l.local_date >= CAST(:since AS date) AND l.profile_id IN (SELECT profile_id FROM candidates)
    GROUP BY 1, 2, 3
),
used AS (
    SELECT s.request_id, s.n,
           COALESCE(sum(h.sent) FILTER (WHERE h.local_date = s.today), 0) AS day_n,
           COALESCE(sum(h.sent) FILTER (WHERE h.local_date >= s.week_start), 0) AS week_n
    FROM sending s
    LEFT JOIN hist h ON h.profile_id = s.profile_id AND h.channel = s.channel
    GROUP BY s.request_id, s.n
),
decided AS (
    SELECT g.*, x.status,
           CASE x.status WHEN 'HELD' THEN g.hold_at END AS send_at,
           CASE x.status WHEN 'REQUESTED' THEN g.today END AS local_date,
           CASE x.status
             WHEN 'HELD' THEN g.held_for || ' until ' || to_char(g.hold_at AT TIME ZONE g.tz, 'YYYY-MM-DD HH24:MI')
                              || ' ' || g.tz
             WHEN 'CAPPED' THEN CASE WHEN k.per_day IS NOT NULL AND u.day_n + u.n > k.per_day
                                     THEN g.channel || ' cap of ' || k.per_day || ' a day'
                                     ELSE g.channel || ' cap of ' || k.per_week || ' a week' END
             WHEN 'REQUESTED' THEN NULL
             ELSE g.gate_reason
           END AS reason
    FROM gated g
    LEFT JOIN used u ON u.request_id = g.request_id
    LEFT JOIN caps k ON k.channel = g.channel
    CROSS JOIN LATERAL (SELECT CASE
        WHEN g.gate IS NOT NULL THEN g.gate
        WHEN g.hold_at > CAST(:now AS timestamptz) THEN 'HELD'
        WHEN u.request_id IS NOT NULL AND ((k.per_day IS NOT NULL AND u.day_n + u.n > k.per_day)
                                           OR (k.per_week IS NOT NULL AND u.week_n + u.n > k.per_week)) THEN 'CAPPED'
        ELSE 'REQUESTED' END AS status) AS x
)
"""

_SUBMIT = text(f"""
WITH candidates AS (SELECT * FROM {_UNNEST}),
{_DECIDE}
INSERT INTO dispatch_ledger (request_id, tenant_id, profile_id, channel, source_kind, source_id, run_id, step_id,
    source_version, content_id, transactional, ai_personalised, notify, due_at, status, reason, send_at, local_date,
    batch_id, submitted_at, decided_at)
SELECT request_id, CAST(:t AS varchar), profile_id, channel, source_kind, source_id, run_id, step_id, source_version,
       content_id, transactional, ai, notify, due_at, status, reason, send_at, local_date, CAST(:batch AS uuid),
       CAST(:now AS timestamptz), CAST(:now AS timestamptz)
FROM decided
ON CONFLICT (request_id) DO NOTHING
RETURNING request_id, status, reason
""")  # noqa: S608 (constant SQL fragments)

# Held messages whose time has come go through the whole policy again: consent, suppression and caps as they are
# now. Lateness counts from the time they were held for.
_RELEASE = text(f"""
WITH candidates AS (
    SELECT request_id, profile_id, channel, source_kind, source_id, run_id, step_id, source_version, content_id,
           transactional, ai_personalised AS ai, notify, send_at AS due_at, CAST(NULL AS timestamptz) AS planned_at,
           CAST(NULL AS text) AS hold_reason
    FROM dispatch_ledger
    WHERE tenant_id = :t AND status = 'HELD' AND send_at <= CAST(:now AS timestamptz)
    ORDER BY send_at, request_id
    LIMIT :limit
),
{_DECIDE}
UPDATE dispatch_ledger l SET status = d.status, reason = d.reason, send_at = COALESCE(d.send_at, l.send_at),
    local_date = d.local_date, batch_id = CAST(:batch AS uuid), decided_at = CAST(:now AS timestamptz)
FROM decided d
WHERE l.request_id = d.request_id
""")  # noqa: S608 (constant SQL fragments)

_CONTENTS = text("""
INSERT INTO dispatch_contents (tenant_id, content_id, content)
SELECT CAST(:t AS varchar), r.content_id, r.content FROM json_to_recordset(CAST(:rows AS json)) AS r(content_id text, content jsonb)
ON CONFLICT DO NOTHING
""")

# What `append_select` turns into send requests: the recipient's addresses as the read model has them now.
_REQUESTED_ROWS = """
SELECT l.request_id, l.channel, l.profile_id, p.email, p.phone_number, p.messaging_contact_id,
       c.content->>'subject' AS subject,
       NULLIF(c.content->>'body', '') AS body, c.content->>'templateId' AS template_id,
       COALESCE(c.content->'templateData', '{}') AS template_data,
       CASE WHEN l.source_kind = 'CAMPAIGN' THEN l.source_id END AS campaign_id,
       CASE WHEN l.source_kind = 'JOURNEY' THEN l.source_id END AS journey_id,
       CASE WHEN l.source_kind = 'CAMPAIGN' THEN l.step_id END AS variant
FROM dispatch_ledger l
JOIN dispatch_profiles p ON p.tenant_id = l.tenant_id AND p.profile_id = l.profile_id
JOIN dispatch_contents c ON c.tenant_id = l.tenant_id AND c.content_id = l.content_id
WHERE l.batch_id = CAST(:batch AS uuid) AND l.status = 'REQUESTED'
"""
_NOTIFY_ROWS = """
SELECT request_id, profile_id, channel, source_kind, source_id, run_id, step_id, source_version, status, reason,
       send_at
FROM dispatch_ledger WHERE batch_id = CAST(:batch AS uuid) AND notify
"""


@dataclass(frozen=True, slots=True)
class Decision:
    request_id: str
    outcome: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class OutcomeCount:
    source_id: str
    variant: str | None
    channel: str
    outcome: str
    reason: str | None
    count: int


class DispatchRepository:
    """Dispatch's tables for one tenant."""

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def lock(self) -> None:
        """Decisions of one tenant are serialised, so two batches cannot both take a recipient's last cap slot."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('fairway-dispatch:' || :t))"),
                                   {"t": self.tenant_id})

    async def settings(self) -> DispatchSettings | None:
        row = (await self.session.execute(text("SELECT settings FROM dispatch_settings WHERE tenant_id = :t"),
                                          {"t": self.tenant_id})).first()
        return DispatchSettings.model_validate(row[0]) if row else None

    async def save_settings(self, settings: DispatchSettings, at: datetime, by: str) -> None:
        await self.session.execute(text(
            "INSERT INTO dispatch_settings (tenant_id, settings, updated_at, updated_by) "
            "VALUES (:t, CAST(:s AS jsonb), :at, :by) ON CONFLICT (tenant_id) DO UPDATE SET "
            "settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by"),
            {"t": self.tenant_id, "s": settings.model_dump_json(), "at": at, "by": by})

    async def save_contents(self, contents: dict[str, str]) -> None:
        """{content id: content JSON}."""
        if contents:
            rows = "[" + ",".join(f'{{"content_id":"{k}","content":{v}}}' for k, v in contents.items()) + "]"
            await self.session.execute(_CONTENTS, {"t": self.tenant_id, "rows": rows})

    def _policy_params(self, s: DispatchSettings, now: datetime, timing: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "t": self.tenant_id, "now": now, "default_tz": s.defaultTimeZone, "since": (now - timedelta(days=8)).date(),
            "control_cut": int(s.controlGroupShare * 2**32),
            "lateness": s.max_lateness.total_seconds(), "lateness_hours": f"{s.maxLatenessHours:g}",
            "timing": orjson.dumps(timing).decode(),
            "caps": orjson.dumps([{"channel": ch, "per_day": c.perDay, "per_week": c.perWeek}
                                  for ch, c in s.caps.items()]).decode(),
        }

    async def submit(self, columns: dict[str, list[Any]], batch: str, s: DispatchSettings, now: datetime,
                     timing: list[dict[str, Any]]) -> list[Decision]:
        """Record and decide new requests (`columns`: a list per INPUT_COLUMNS, ids unique and not yet in the ledger;
        one that a concurrent transaction recorded first is skipped). Returns the decisions recorded."""
        res = await self.session.execute(_SUBMIT, {**self._policy_params(s, now, timing), **columns, "batch": batch})
        return [Decision(r[0], r[1], r[2]) for r in res.all()]

    async def release(self, batch: str, s: DispatchSettings, now: datetime, timing: list[dict[str, Any]],
                      limit: int) -> int:
        res = await self.session.execute(_RELEASE, {**self._policy_params(s, now, timing), "batch": batch,
                                                    "limit": limit})
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def held_times(self, batch: str) -> list[datetime]:
        rows = await self.session.execute(text(
            "SELECT DISTINCT send_at FROM dispatch_ledger WHERE batch_id = CAST(:b AS uuid) AND status = 'HELD' "
            "ORDER BY send_at"), {"b": batch})
        return [r[0] for r in rows.all()]

    async def decisions(self, request_ids: Sequence[str]) -> dict[str, Decision]:
        rows = await self.session.execute(text(
            "SELECT request_id, status, reason FROM dispatch_ledger "
            "WHERE tenant_id = :t AND request_id = ANY(CAST(:ids AS text[]))"),
            {"t": self.tenant_id, "ids": list(request_ids)})
        return {r[0]: Decision(r[0], r[1], r[2]) for r in rows.all()}

    async def cancel(self, kind: str, source_id: str, batch: str, now: datetime) -> int:
        res = await self.session.execute(text(
            "UPDATE dispatch_ledger SET status = 'CANCELLED', reason = 'cancelled by its ' || lower(source_kind), "
            "batch_id = CAST(:b AS uuid), decided_at = :now "
            "WHERE tenant_id = :t AND source_kind = :k AND source_id = :s AND status = 'HELD'"),
            {"t": self.tenant_id, "k": kind, "s": source_id, "b": batch, "now": now})
        return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def outcome_counts(self, kind: str, source_id: str) -> list[OutcomeCount]:
        rows = await self.session.execute(text(
            "SELECT source_id, step_id, channel, status, reason, count(*) FROM dispatch_ledger "
            "WHERE tenant_id = :t AND source_kind = :k AND source_id = :s GROUP BY 1, 2, 3, 4, 5 ORDER BY 2, 3, 4, 5"),
            {"t": self.tenant_id, "k": kind, "s": source_id})
        return [OutcomeCount(*r) for r in rows.all()]

    # -- events ----------------------------------------------------------------------------------------------------

    async def write_send_requests(self, batch: str, now: datetime) -> int:
        """One `messaging.send.requested` per request the batch decided to send, keyed by its request id (Messaging's
        de-duplication key), built by PostgreSQL into the outbox."""
        return await outbox.append_select(
            self.session, event=SendRequested, rows=_REQUESTED_ROWS, order_by="request_id",
            payload={
                "requestId": Sql("request_id"), "channel": Sql("channel"),
                "recipient": {"profileId": Sql("profile_id"), "email": Sql("email"),
                              "phoneNumber": Sql("phone_number"), "messagingContactId": Sql("messaging_contact_id")},
                "subject": Sql("subject"), "body": Sql("body"), "templateId": Sql("template_id"),
                "templateData": Sql("template_data"),
                "campaignId": Sql("campaign_id"), "journeyId": Sql("journey_id"), "variant": Sql("variant"),
            },
            tenant_id=self.tenant_id, aggregate_id=Sql("request_id"), occurred_at=now, source=SOURCE,
            params={"batch": batch},
        )

    async def write_outcomes(self, batch: str, now: datetime) -> int:
        """`dispatch.outcome` for each request of a submitter that asked to hear back (journeys, promotions)."""
        return await outbox.append_select(
            self.session, event=DispatchOutcomeRecorded, rows=_NOTIFY_ROWS, order_by="request_id",
            payload={
                "requestId": Sql("request_id"), "profileId": Sql("profile_id"), "channel": Sql("channel"),
                "source": {"kind": Sql("source_kind"), "id": Sql("source_id"), "runId": Sql("run_id"),
                           "stepId": Sql("step_id"), "version": Sql("source_version")},
                "outcome": Sql("status"), "reason": Sql("reason"),
                "scheduledFor": Sql("CASE WHEN status = 'HELD' THEN send_at END"), "at": now,
            },
            tenant_id=self.tenant_id, aggregate_id=Sql("profile_id"), occurred_at=now, source=SOURCE,
            params={"batch": batch},
        )
