"""segment.parse: a marketer's description of a segment -> criteria of the shared criteria language.

LLM path: the field catalogue and operators go in the system prompt, the (scrubbed) query goes in as data, and
the answer must be criteria that `validate_criteria` accepts against that catalogue. Fallback: the
deterministic rule parser.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fairway_ai_gateway.operations.base import Context, Operation, Prompt, register
from fairway_ai_gateway.operations.rule_parser import RuleParser
from fairway_ai_gateway.safety.injection import as_data, limit, screen
from fairway_ai_gateway.safety.output import OutputInvalid, parse, plain_text, screen_text
from fairway_schemas.ai import SegmentParseRequest, SegmentParseResult
from fairway_schemas.criteria import (
    OPERATORS_BY_TYPE,
    STANDARD_CATALOGUE,
    FieldSpec,
    Group,
    validate_criteria,
)
from fairway_schemas.criteria_text import describe


class SegmentAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    criteria: Group
    interpretation: str = Field(min_length=1, max_length=2000)
    assumptions: list[str] = Field(default_factory=list, max_length=20)


def catalogue_of(req: SegmentParseRequest) -> dict[str, FieldSpec]:
    return {f.name: f for f in req.fields} if req.fields else STANDARD_CATALOGUE


def count_rules(group: dict[str, Any]) -> int:
    return sum(count_rules(r) if "rules" in r else 1 for r in group.get("rules", []))


class SegmentParse(Operation):
    name = "segment.parse"
    decision_type = "SEGMENT_PARSING"
    feature = "nlSegmentBuilder"
    request_model = SegmentParseRequest
    result_model = SegmentParseResult
    output_model = SegmentAnswer
    # The spec picks Sonnet for parsing ("better reasoning"); an ECONOMY tenant gets its preferred model.
    tier_models = {"ECONOMY": None, "STANDARD": "CLAUDE_SONNET", "PREMIUM": "CLAUDE_SONNET"}

    def system_prompt(self, ctx: Context, catalogue: dict[str, FieldSpec]) -> str:
        fields = "\n".join(
            f"- {f.name} ({f.type.value}{': ' + ', '.join(f.values) if f.values else ''}): {f.description}"
            for f in catalogue.values()
        )
        ops = "\n".join(
            f"- {t.value}: {', '.join(sorted(o.value for o in ops))}" for t, ops in OPERATORS_BY_TYPE.items()
        )
        return (
            "You are a segment rule generator for a golf club CRM.\n\n"
            f"AVAILABLE FIELDS:\n{fields}\n\n"
            f"OPERATORS BY FIELD TYPE:\n{ops}\n"
            "in/notIn take a list; between takes [low, high]; isNull/isNotNull take no value.\n\n"
            'RELATIVE DATES:\nUse {"relative": "-7 days"} for dates relative to now ("+30 days" for the '
            'future; units: days, weeks, months, years). \'Now\' is {"relative": "+0 days"}.\n\n'
            "OUTPUT FORMAT (JSON only):\n"
            '{"criteria": {"combinator": "AND" | "OR", "rules": [{"field": "...", "operator": '
            '"...", "value": ...}]}, "interpretation": "How the query was understood", '
            '"assumptions": ["Each assumption made"]}\n\n'
            "RULES:\n- Use exact field names from the list above, and only those.\n"
            "- Default to AND unless OR is clearly meant; nest groups for mixed logic.\n"
            "- For ambiguous terms, make a reasonable assumption and list it.\n"
            "- 'active' usually means status ACTIVE; 'recent' the last 30 days; 'high value' the top band of "
            "lifetimeValue.\n\n" + ctx.guard.rules()
        )

    def prepare(self, ctx: Context) -> Prompt:
        req: SegmentParseRequest = ctx.request
        catalogue = catalogue_of(req)
        query = limit(req.query, ctx.max_caller_text)
        ctx.injection += screen(query)
        scrubbed = ctx.scrubber.scrub(query)
        ctx.redactions.update(scrubbed.redactions)
        names = []
        for seg in req.existingSegments[:50]:
            ctx.injection += screen(seg)
            s = ctx.scrubber.scrub(limit(seg, 100))
            ctx.redactions.update(s.redactions)
            names.append(s.text)
        user = "Turn this segment description into criteria.\n" + as_data("query", scrubbed.text)
        if names:
            user += "\nExisting segments (for reference only):\n" + as_data("segments", "; ".join(names))
        ctx.state["catalogue"] = catalogue
        ctx.state["query"] = query
        return Prompt(system=self.system_prompt(ctx, catalogue), user=user, max_tokens=1000)

    def accept(self, ctx: Context, prompt: Prompt, text: str) -> SegmentAnswer:
        answer = parse(SegmentAnswer, text)
        screen_text(ctx.guard, prompt.system, answer.interpretation + "\n" + "\n".join(answer.assumptions))
        if not answer.criteria.rules:
            raise OutputInvalid("answer has no rules")
        errors = validate_criteria(answer.criteria, ctx.state["catalogue"])
        if errors:
            raise OutputInvalid(
                "criteria invalid: " + "; ".join(f"{e.path}: {e.message}" for e in errors[:5])
            )
        # Explanations are shown to staff: text only, whatever the model wrote.
        return answer.model_copy(
            update={
                "interpretation": plain_text(answer.interpretation)[0],
                "assumptions": [plain_text(a)[0] for a in answer.assumptions],
            }
        )

    def result(self, ctx: Context, output: BaseModel) -> dict[str, Any]:
        assert isinstance(output, SegmentAnswer)
        # The model's own interpretation is its word; the reading is ours, from the criteria it produced.
        return {
            "criteria": output.criteria.dump(),
            "interpretation": output.interpretation,
            "assumptions": output.assumptions,
            "warnings": list(ctx.warnings),
            "reading": describe(output.criteria, ctx.state["catalogue"]),
            "partial": False,
            "unparsed": [],
        }

    def fallback(self, ctx: Context) -> dict[str, Any]:
        # Runs here, on the caller's own words: nothing leaves, so the unscrubbed query is fine to read.
        parsed = RuleParser(ctx.state["catalogue"]).parse(ctx.state["query"])
        return {
            "criteria": parsed.criteria.dump(),
            "interpretation": parsed.interpretation,
            "assumptions": parsed.assumptions,
            "warnings": [*ctx.warnings, *parsed.warnings],
            "reading": parsed.reading,
            "partial": parsed.partial,
            "unparsed": parsed.unparsed,
        }

    def input_summary(self, ctx: Context) -> dict[str, Any]:
        req: SegmentParseRequest = ctx.request
        return {
            "queryChars": len(req.query),
            "queryWords": len(req.query.split()),
            "customCatalogue": req.fields is not None,
            "catalogueFields": len(ctx.state["catalogue"]),
            "existingSegments": len(req.existingSegments),
        }

    def output_summary(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ruleCount": count_rules(body["criteria"]),
            "criteria": body["criteria"],
            "interpretation": body["interpretation"][:500],
            "assumptions": body["assumptions"][:20],
            "partial": body.get("partial", False),
        }

    def confidence(self, body: dict[str, Any]) -> float | None:
        # Fewer assumptions, more trust: a plain heuristic the quality dashboard can trend.
        if not body["criteria"].get("rules"):
            return 0.0
        if body.get("partial"):
            return 0.2
        return round(max(0.2, 1.0 - 0.15 * len(body["assumptions"])), 2)


register(SegmentParse())
