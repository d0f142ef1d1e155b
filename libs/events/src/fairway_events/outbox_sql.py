"""The outbox's set-based statements: many envelopes in one JSON parameter, and envelopes built by PostgreSQL from
the rows of a SELECT. Both write exactly what `Outbox.row` writes for one envelope (topic, key, wire body, routing
and trace headers), so the relay and every consumer see no difference.

Used through `Outbox.append_many`, `Outbox.insert_json_sql` and `Outbox.append_select`; this module only builds SQL.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic_core
import uuid_utils
from pydantic import BaseModel

from fairway_events.registry import EventRegistry, EventSpec

_COLUMNS = "event_id, tenant_id, topic, key, event_type, version, occurred_at, body, headers"


def insert_from_json(table: str, param: str) -> str:
    """INSERT of the rows in the JSON array bound to `:param` (each one `Outbox.row`), in array order. One plan
    whatever the batch size (a multi-row VALUES costs a new plan per size), and usable as a CTE."""
    return (
        f"INSERT INTO {table} ({_COLUMNS}) "  # noqa: S608 (constant table name)
        f"SELECT x.event_id, x.tenant_id, x.topic, x.key, x.event_type, x.version, x.occurred_at, x.body, x.headers "
        f"FROM ROWS FROM (json_to_recordset(CAST(:{param} AS json)) AS (event_id text, tenant_id text, topic text, "
        "key text, event_type text, version int, occurred_at timestamptz, body text, headers jsonb)) "
        "WITH ORDINALITY AS x(event_id, tenant_id, topic, key, event_type, version, occurred_at, body, headers, n) "
        "ORDER BY x.n"
    )


@dataclass(frozen=True)
class Sql:
    """A per-row SQL expression over the rows given to `Outbox.append_select` (their columns by name).

    In a payload its value is JSON-encoded by PostgreSQL (`to_json`, NULL becomes null); with `json=True` the
    expression already yields JSON text (an array assembled with string_agg, say) and is spliced in as it is.
    """

    expr: str
    json: bool = False

    def as_json(self) -> str:
        return f"({self.expr})" if self.json else f"COALESCE(to_json({self.expr})::text, 'null')"


# A hole in a JSON template: a string value no real document holds (the control characters are escaped in JSON,
# and the pattern needs the quotes on both sides, so only a whole value equal to it matches).
_HOLE = "\x01fairway-hole-{}\x01"
_HOLE_RE = re.compile(r'"\\u0001fairway-hole-(\d+)\\u0001"')


def _render(doc: Any, holes: list[Sql]) -> Any:
    if isinstance(doc, Sql):
        holes.append(doc)
        return _HOLE.format(len(holes) - 1)
    if isinstance(doc, Mapping):
        return {k: _render(v, holes) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [_render(v, holes) for v in doc]
    return doc


def json_template(doc: Any) -> tuple[list[str], list[Sql]]:
    """`doc` as JSON text (serialised as pydantic serialises, so datetimes read as in `Envelope.to_wire`) split
    around its `Sql` values: (the n+1 constant parts, the n expressions between them, in text order)."""
    holes: list[Sql] = []
    rendered = pydantic_core.to_json(_render(doc, holes)).decode()
    parts: list[str] = []
    order: list[Sql] = []
    last = 0
    for m in _HOLE_RE.finditer(rendered):
        parts.append(rendered[last : m.start()])
        order.append(holes[int(m.group(1))])
        last = m.end()
    parts.append(rendered[last:])
    return parts, order


def uuid7_base() -> tuple[str, int]:
    """A fresh UUIDv7's time, version and variant bits, and a random start for a counter in its last 48 bits:
    ids `prefix || lpad(to_hex(start + n), 12, '0')` are UUIDv7s, ordered by n (RFC 9562, method 1)."""
    u = str(uuid_utils.uuid7())
    variant = 0x8000 | secrets.randbits(14)
    return f"{u[:19]}{variant:04x}-", secrets.randbits(46)


def specs_of(reg: EventRegistry, event: type[BaseModel] | Mapping[str, type[BaseModel]]) -> dict[str, EventSpec]:
    """{SQL condition: spec} of the event types an `append_select` writes; one type has the condition 'true'."""
    chosen = {"true": reg.spec_for(event)} if isinstance(event, type) else {c: reg.spec_for(m) for c, m in event.items()}
    if not chosen:
        raise ValueError("append_select needs at least one event type")
    first = next(iter(chosen.values()))
    if any(s.topic != first.topic or s.version != first.version for s in chosen.values()):
        raise ValueError("the event types of one append_select must share their topic and version")
    return chosen


def insert_from_select(
    table: str,
    *,
    rows: str,
    order_by: str,
    specs: dict[str, EventSpec],
    tenant_id: str,
    aggregate_id: str | Sql,
    occurred_at: datetime,
    source: str,
    payload: Mapping[str, Any],
    headers: dict[str, str],
) -> tuple[str, dict[str, Any]]:
    """The INSERT … SELECT behind `Outbox.append_select` and its parameters (named `_ob_*`, beside the caller's)."""
    first = next(iter(specs.values()))
    one_type = len(specs) == 1
    event_type: str | Sql = first.event_type if one_type else Sql("e._ob_event_type")
    key: str | Sql = aggregate_id if isinstance(aggregate_id, str) else Sql("e._ob_key")
    parts, holes = json_template(
        {
            "event_id": Sql("e._ob_event_id"),
            "event_type": event_type,
            "version": first.version,
            "tenant_id": tenant_id,
            "occurred_at": occurred_at,
            "aggregate_id": key,
            "source": source,
            "payload": payload,
        }
    )
    params: dict[str, Any] = {f"_ob_p{i}": p for i, p in enumerate(parts)}
    body = " || ".join(
        ["CAST(:_ob_p0 AS text)"]
        + [f"{h.as_json()} || CAST(:_ob_p{i + 1} AS text)" for i, h in enumerate(holes)]
    )
    if one_type:
        type_expr = "CAST(:_ob_type AS text)"
        params["_ob_type"] = first.event_type
        headers_expr = "CAST(:_ob_headers AS jsonb)"
    else:
        whens = " ".join(f"WHEN {cond} THEN CAST(:_ob_type{i} AS text)" for i, cond in enumerate(specs))
        type_expr = f"CASE {whens} END"
        params.update({f"_ob_type{i}": s.event_type for i, s in enumerate(specs.values())})
        headers_expr = "CAST(:_ob_headers AS jsonb) || jsonb_build_object('event_type', e._ob_event_type)"
    if isinstance(aggregate_id, str):
        key_expr = "CAST(:_ob_key AS text)"
        params["_ob_key"] = aggregate_id
    else:
        key_expr = f"({aggregate_id.expr})::text"
    prefix, start = uuid7_base()
    params.update(
        _ob_tenant=tenant_id,
        _ob_topic=first.topic,
        _ob_version=first.version,
        _ob_at=occurred_at,
        _ob_prefix=prefix,
        _ob_start=start,
        # What `Envelope.wire_headers` and the trace put in `Outbox.row`'s headers.
        _ob_headers=pydantic_core.to_json(
            {"event_type": first.event_type, "version": str(first.version), "tenant_id": tenant_id, **headers}
        ).decode(),
    )
    sql = (
        f"INSERT INTO {table} ({_COLUMNS}) "  # noqa: S608 (constant table; expressions are the caller's code)
        "SELECT e._ob_event_id, CAST(:_ob_tenant AS text), CAST(:_ob_topic AS text), e._ob_key, e._ob_event_type, "
        f"CAST(:_ob_version AS int), CAST(:_ob_at AS timestamptz), {body}, {headers_expr} "
        "FROM (SELECT CAST(:_ob_prefix AS text) || lpad(to_hex(CAST(:_ob_start AS bigint) "
        f"+ row_number() OVER (ORDER BY {order_by})), 12, '0') AS _ob_event_id, "
        f"{type_expr} AS _ob_event_type, {key_expr} AS _ob_key, r.* FROM ({rows}) AS r) AS e "
        "ORDER BY e._ob_event_id"
    )
    return sql, params
