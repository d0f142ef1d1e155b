"""Each profile's current scores on the compacted `crm.scoring.state` topic (a tombstone when erased)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairway_events.contracts.state import ScoresState
from fairway_events.state_topics import StateSource


def snapshot(row: Mapping[str, Any]) -> ScoresState:
    return ScoresState(profileId=row["_key"], engagementScore=row["engagement_score"],
                       churnRiskScore=round(row["churn_probability"] * 100, 2), riskLevel=row["risk_level"],
                       predictedClv=row["predicted_clv"], updatedAt=row["scored_at"])


SCORES_STATE = StateSource(topic="crm.scoring.state", table="ml_scores", key="subject_id",
                           columns="engagement_score, churn_probability, risk_level, predicted_clv, scored_at",
                           build=snapshot, source="ml-scoring", deletes=True)
