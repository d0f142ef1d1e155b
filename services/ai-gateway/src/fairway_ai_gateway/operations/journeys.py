"""journey.generate (a journey definition from a goal) and journey.insights (recommendations from a journey's
analytics). The journeys service validates a generated definition like any other and saves it as a draft; when
no model answers, these fallbacks say so and journeys uses its own templates and rule-based suggestions."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fairway_ai_gateway.operations.base import Context, Operation, Prompt, register
from fairway_ai_gateway.safety.injection import as_data, limit, screen
from fairway_ai_gateway.safety.output import OutputInvalid, parse, plain_text, screen_text
from fairway_schemas.ai import (
    JourneyGenerateRequest,
    JourneyGenerateResult,
    JourneyInsightsRequest,
    JourneyInsightsResult,
)
from fairway_schemas.criteria import STANDARD_CATALOGUE

STEP_TYPES = {"SEND", "WAIT", "CONDITION", "UPDATE", "SPLIT", "END"}


class JourneyAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=200)
    definition: dict[str, Any]
    rationale: str = Field(default="", max_length=3000)


class InsightsAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    insights: list[str] = Field(min_length=1, max_length=8)


class JourneyGenerate(Operation):
    name = "journey.generate"
    decision_type = "JOURNEY_GENERATION"
    feature = "journeyOptimization"
    request_model = JourneyGenerateRequest
    result_model = JourneyGenerateResult
    output_model = JourneyAnswer
    tier_models = {"ECONOMY": None, "STANDARD": "CLAUDE_SONNET", "PREMIUM": "CLAUDE_SONNET"}

    def prepare(self, ctx: Context) -> Prompt:
        req: JourneyGenerateRequest = ctx.request
        goal = limit(req.goal, ctx.max_caller_text)
        ctx.injection += screen(goal)
        scrubbed = ctx.scrubber.scrub(goal)
        ctx.redactions.update(scrubbed.redactions)
        fields = req.fields or list(STANDARD_CATALOGUE.values())
        c = req.constraints
        system = (
            "You are a marketing automation architect designing customer journeys for golf clubs.\n\n"
            "Step types (each step has a unique id):\n"
            '- SEND {"channel": EMAIL|SMS|PUSH, "templateId" or "content": {"subject", "body"}, "next"}\n'
            '- WAIT {"kind": "duration", "duration": "3 days", "next"} or {"kind": "event", "eventType", '
            '"ofStep": a SEND id, "timeout": "3 days", "next", "onTimeout"}\n'
            '- CONDITION {"criteria": {"combinator": "AND", "rules": [{"field", "operator", "value"}]}, "yes", "no"}\n'
            '- UPDATE {"addTags": [...], "next"}\n- SPLIT {"branches": [{"name", "weight", "next"}]}\n- END\n'
            f"CONDITION fields: {', '.join(f.name for f in fields)}.\n"
            f"Triggers: {', '.join(req.triggerEvents) or 'profile.created, segment.member_entered'} as "
            '{"type": "event", "eventType": ...}, or {"type": "manual"}.\n'
            "Every path must end at an END step; a loop must pass through a WAIT.\n\n"
            'Answer JSON only: {"name": "...", "definition": {"trigger": {...}, "goal": {"eventType": ..., '
            '"withinDays": N} or null, "steps": [...]}, "rationale": "..."}\n\n' + ctx.guard.rules()
        )
        user = (f"Design a journey of at most {c.maxSteps} steps, channels {', '.join(c.channels)}, lasting at most "
                f"{c.maxDurationDays} days, for this goal.\n" + as_data("goal", scrubbed.text))
        return Prompt(system=system, user=user, max_tokens=2500)

    def accept(self, ctx: Context, prompt: Prompt, text: str) -> JourneyAnswer:
        answer = parse(JourneyAnswer, text)
        screen_text(ctx.guard, prompt.system, answer.rationale + "\n" + json.dumps(answer.definition))
        steps = answer.definition.get("steps")
        if not isinstance(steps, list) or not steps:
            raise OutputInvalid("the definition has no steps")
        if len(steps) > ctx.request.constraints.maxSteps:
            raise OutputInvalid(f"{len(steps)} steps, more than the {ctx.request.constraints.maxSteps} allowed")
        if any(not isinstance(s, dict) or s.get("type") not in STEP_TYPES for s in steps):
            raise OutputInvalid("a step has no known type")
        return answer.model_copy(update={"rationale": plain_text(answer.rationale)[0],
                                         "name": plain_text(answer.name)[0]})

    def result(self, ctx: Context, output: BaseModel) -> dict[str, Any]:
        assert isinstance(output, JourneyAnswer)
        return {"name": output.name, "definition": output.definition, "rationale": output.rationale,
                "warnings": list(ctx.warnings)}

    def fallback(self, ctx: Context) -> dict[str, Any]:
        return {"name": None, "definition": None, "rationale": "no model answered", "warnings": list(ctx.warnings)}

    def input_summary(self, ctx: Context) -> dict[str, Any]:
        req: JourneyGenerateRequest = ctx.request
        return {"goalChars": len(req.goal), "maxSteps": req.constraints.maxSteps, "channels": req.constraints.channels}

    def output_summary(self, body: dict[str, Any]) -> dict[str, Any]:
        steps = (body.get("definition") or {}).get("steps") or []
        return {"generated": body.get("definition") is not None, "stepCount": len(steps),
                "stepTypes": sorted({s.get("type") for s in steps if isinstance(s, dict)})}


class JourneyInsights(Operation):
    name = "journey.insights"
    decision_type = "JOURNEY_OPTIMIZATION"
    feature = "journeyOptimization"
    request_model = JourneyInsightsRequest
    result_model = JourneyInsightsResult
    output_model = InsightsAnswer

    def prepare(self, ctx: Context) -> Prompt:
        req: JourneyInsightsRequest = ctx.request
        name, goal = limit(req.journeyName, 200), limit(req.goal or "", ctx.max_caller_text)
        for t in (name, goal):
            ctx.injection += screen(t)
        stats = json.dumps(req.stats, default=str)[:8000]
        system = ("You are a marketing automation expert. Analyse journey performance data and give 3 to 5 "
                  'specific, actionable recommendations. Answer JSON only: {"insights": ["...", ...]}\n\n'
                  + ctx.guard.rules())
        user = ("Journey performance follows.\n" + as_data("journey", ctx.scrubber.scrub(name).text)
                + as_data("goal", ctx.scrubber.scrub(goal).text) + as_data("stats", stats))
        return Prompt(system=system, user=user, max_tokens=1200)

    def accept(self, ctx: Context, prompt: Prompt, text: str) -> InsightsAnswer:
        answer = parse(InsightsAnswer, text)
        screen_text(ctx.guard, prompt.system, "\n".join(answer.insights))
        return answer.model_copy(update={"insights": [plain_text(i)[0][:1000] for i in answer.insights]})

    def result(self, ctx: Context, output: BaseModel) -> dict[str, Any]:
        assert isinstance(output, InsightsAnswer)
        return {"insights": output.insights, "warnings": list(ctx.warnings)}

    def fallback(self, ctx: Context) -> dict[str, Any]:
        return {"insights": [], "warnings": list(ctx.warnings)}

    def input_summary(self, ctx: Context) -> dict[str, Any]:
        return {"statKeys": sorted(ctx.request.stats)[:50]}

    def output_summary(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"insightCount": len(body.get("insights") or [])}


register(JourneyGenerate())
register(JourneyInsights())
