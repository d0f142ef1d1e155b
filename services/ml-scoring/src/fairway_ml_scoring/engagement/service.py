"""One member's engagement score with its five components, from the features Feast serves."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import NotFound
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.features.engagement import WEIGHTS, combine, components
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.features.transform import NEVER_DAYS


async def engagement(session: AsyncSession, ctx: MlContext, tenant_id: str, subject: str) -> dict[str, Any]:
    repo = FeatureLogRepository.for_tenant(session, tenant_id)
    if not await repo.known_subject(subject):
        raise NotFound(f"no customer {subject!r} in this club")
    now = ctx.now()
    raw, found = await asyncio.to_thread(ctx.fs.read, tenant_id, [subject])
    if not found[0]:
        raw = (await repo.load([subject])).rows([subject], [now])
    r = raw.iloc[0]
    last = float(r["last_activity_ts"])
    days = np.nan if np.isnan(last) else max(0.0, (now.timestamp() - last) / 86400)
    consent = np.array([[r["consent_email"], r["consent_sms"], r["consent_push"], r["consent_whatsapp"]]])
    sent = float(r["email_sent_30d"] + r["sms_sent_30d"] + r["push_sent_30d"])
    opened = float(r["email_opened_30d"] + r["push_opened_30d"])
    clicked = float(r["email_clicked_30d"])
    parts = components(
        days_since_last_activity=np.array([days]),
        activity_30d=np.array([r["activity_30d"]]),
        lifetime_value_cents=np.array([r["spend_all"] * 100.0]),
        consent=np.nan_to_num(consent),
        sent_30d=np.array([sent]),
        opened_30d=np.array([opened]),
        clicked_30d=np.array([clicked]),
    )
    inputs = {
        "recency": {"daysSinceLastActivity": None if np.isnan(days) else round(min(days, NEVER_DAYS), 1)},
        "frequency": {"activities30d": int(r["activity_30d"])},
        "monetary": {"lifetimeValueCents": int(round(r["spend_all"] * 100))},
        "breadth": {"channelsOptedIn": int(np.nan_to_num(consent).sum())},
        "depth": {"sent30d": int(sent), "opened30d": int(opened), "clicked30d": int(clicked)},
    }
    return {
        "customerId": subject,
        "engagementScore": int(combine(parts)[0]),
        "components": {
            k: {
                "score": float(parts[k][0]),
                "weight": w,
                "weighted": round(float(parts[k][0]) * w, 2),
                "inputs": inputs[k],
            }
            for k, w in WEIGHTS.items()
        },
        "computedAt": now.isoformat(),
        "featureSource": "online-store" if found[0] else "event-log",
    }
