"""journey.generate and journey.insights: registered, and answering from their fallbacks (no definition, no
insights) when no model may answer, so the journeys service uses its templates and rule-based suggestions."""

from __future__ import annotations

from fairway_schemas.ai import JourneyGenerateResult, JourneyInsightsResult


async def test_offline_journey_operations_say_no_model_answered(make_gateway, fake_provider, sql) -> None:
    gw = await make_gateway(anthropic_api_key=None)
    r = JourneyGenerateResult.model_validate(await gw.run("club-a", "journey.generate", {
        "goal": "Re-engage members who haven't booked in 60 days", "constraints": {"maxSteps": 6}}))
    # The default tenant config leaves journey optimisation off (the spec enables it per tier).
    assert (r.source, r.fallbackReason, r.definition) == ("FALLBACK", "FEATURE_DISABLED", None)
    i = JourneyInsightsResult.model_validate(await gw.run("club-a", "journey.insights", {
        "journeyName": "Lapsed golfer", "goal": "book within 14 days", "stats": {"entered": 40, "converted": 5}}))
    assert (i.source, i.insights) == ("FALLBACK", [])
    assert fake_provider.state.requests == []
    rows = await sql(gw, "SELECT operation, decision_type FROM ai_decision_log ORDER BY operation")
    assert [tuple(r) for r in rows] == [("journey.generate", "JOURNEY_GENERATION"),
                                        ("journey.insights", "JOURNEY_OPTIMIZATION")]
