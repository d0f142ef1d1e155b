"""content.generate: marketing copy variants (EMAIL_SUBJECT, EMAIL_BODY, SMS, SOCIAL_POST, PUSH), each with
the approach it takes, for A/B tests. Prompts follow the AI spec (section 1.2); fallback: templates.

Personal data: caller text is scrubbed; a profile in context goes through the field policy, and only when the
tenant allows LLM personalisation and the person consented and did not ask not to be profiled. Placeholders in
the answer are filled with the profile's values only when the caller asked to personalise (`personalize`) for
that person; otherwise they stay for Messaging's own merge.
"""

from __future__ import annotations

import html
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fairway_ai_gateway.operations.base import Context, Operation, Prompt, register
from fairway_ai_gateway.operations.content_templates import template_variants
from fairway_ai_gateway.privacy.policy import (
    personalisation_allowed,
    profile_exact,
    profile_names,
    sanitise_profile,
)
from fairway_ai_gateway.safety.injection import as_data, limit, screen
from fairway_ai_gateway.safety.output import (
    OutputInvalid,
    check_tokens,
    parse,
    plain_text,
    sanitise_html,
    screen_text,
)
from fairway_schemas.ai import ContentGenerateRequest, ContentGenerateResult

EMOJI_RE = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
SOCIAL_LIMITS = {"X": 280, "INSTAGRAM": 2200, "FACEBOOK": 2000, "LINKEDIN": 3000}


def length_limit(req: ContentGenerateRequest) -> int:
    if req.type == "EMAIL_SUBJECT":
        return min(60, req.maxLength or 60)
    if req.type == "SMS":
        return req.maxLength or 160
    if req.type == "PUSH":
        return min(50, req.maxLength or 50)
    if req.type == "SOCIAL_POST":
        return req.maxLength or SOCIAL_LIMITS.get(req.platform or "", 2000)
    return req.maxLength or 10000


class Variant(BaseModel):
    model_config = ConfigDict(extra="ignore")
    content: str = Field(min_length=1, max_length=20000)
    approach: str = Field(min_length=1, max_length=60)


class ContentAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    variants: list[Variant] = Field(min_length=1, max_length=10)


TASKS = {
    "EMAIL_SUBJECT": "Generate {n} email subject lines. Max {limit} characters each. Make them compelling and "
    "varied in approach (curiosity, urgency, benefit-focused, etc.)",
    "EMAIL_BODY": "Generate {n} versions of the email body copy. Use simple HTML (p, strong, em, ul, li, a). "
    "Include a clear call to action. Max {limit} characters each.",
    "SMS": "Generate {n} SMS messages. Max {limit} characters each. Include the call to action.",
    "SOCIAL_POST": "Generate {n} social media posts{platform}. Max {limit} characters each, with fitting hashtags.",
    "PUSH": "Generate {n} push notification texts. Max {limit} characters each. Urgent and actionable.",
}


class ContentGenerate(Operation):
    name = "content.generate"
    decision_type = "CONTENT_GENERATION"
    feature = "contentGeneration"
    request_model = ContentGenerateRequest
    result_model = ContentGenerateResult
    output_model = ContentAnswer
    cacheable = True
    fallback_model_name = "templates"

    # -- input ---------------------------------------------------------------------------------------------
    def _clean(self, ctx: Context, text: str | None, *, max_chars: int | None = None) -> str | None:
        if not text:
            return None
        text = limit(text, max_chars or ctx.max_caller_text)
        ctx.injection += screen(text)
        s = ctx.scrubber.scrub(text, names=ctx.state["names"], exact=ctx.state["exact"])
        ctx.redactions.update(s.redactions)
        return s.text

    def prepare(self, ctx: Context) -> Prompt:
        req: ContentGenerateRequest = ctx.request
        cfg = ctx.cfg
        ctx.state["names"], ctx.state["exact"] = profile_names(req.profile), profile_exact(req.profile)
        customer: dict[str, Any] | None = None
        if req.profile is not None:
            ctx.customer_id = req.profile.profileId
            allowed, why = personalisation_allowed(cfg.allowLLMPersonalization, req.profile)
            if allowed:
                sp = sanitise_profile(
                    req.profile,
                    extra_exclusions=cfg.piiExclusions,
                    scrubber=ctx.scrubber,
                    today=ctx.now.date(),
                )
                customer = sp.context
                ctx.tokens = sp.tokens
                ctx.personalised = True
                ctx.redactions.update(sp.redactions)
                ctx.privacy = {
                    "personalisation": "ALLOWED",
                    "fieldsExcluded": sp.excluded,
                    "fieldsTokenised": sp.tokenised,
                    "fieldsAggregated": sp.aggregated,
                    "attributesDropped": sp.dropped_attributes,
                    "fieldsSent": sorted(sp.context),
                }
            else:
                ctx.personalisation_withheld = why
                ctx.privacy = {"personalisation": "WITHHELD", "reason": why, "fieldsSent": []}
                ctx.warnings.append(
                    f"No LLM personalisation for this profile ({why}); generic copy was written."
                )
        lim = length_limit(req)
        ctx.state["limit"] = lim
        ctx.allowed_tokens = set(req.availableTokens) | (set(ctx.tokens) if ctx.personalised else set())
        goal = self._clean(ctx, req.campaignGoal)
        cta = self._clean(ctx, req.callToAction, max_chars=100)
        notes = self._clean(ctx, req.notes)
        voice_parts = [self._clean(ctx, v, max_chars=300) for v in (cfg.brandVoice, req.brandVoice)]
        voice = " ".join(v for v in voice_parts if v) or "Professional, warm, and golf-enthusiast friendly"
        avoid = list(dict.fromkeys([*cfg.avoidWords, *req.avoidWords]))
        ctx.state["avoid"] = avoid
        ctx.state["cta"] = cta if cta and not screen(req.callToAction or "") else None
        avoid_clean = [self._clean(ctx, w, max_chars=100) or "" for w in avoid]
        system = (
            "You are a marketing copywriter for a golf club management platform.\n\n"
            f"BRAND VOICE: {as_data('brand_voice', voice)}\n\n"
            "RULES:\n"
            "- Never use placeholder text like [Name]; use the exact token format: {{firstName}}\n"
            "- Keep copy concise and action-oriented\n"
            f"- {'Use relevant emojis sparingly' if req.includeEmoji else 'Do not use emojis'}\n"
            f"- Avoid: {as_data('avoid', ', '.join(avoid_clean)) if avoid_clean else 'spam trigger words, ALL CAPS'}\n"
            f"- Available personalisation tokens (use no others): "
            f"{', '.join('{{' + t + '}}' for t in sorted(ctx.allowed_tokens)) or 'none'}\n\n"
            "OUTPUT FORMAT: Return valid JSON.\n\n" + ctx.guard.rules()
        )
        lines = [f"CAMPAIGN GOAL: {as_data('goal', goal or '')}", ""]
        if req.audience:
            a, c = req.audience, req.audience.characteristics
            seg = ctx.state["segment"] = self._clean(ctx, a.segmentName, max_chars=200)
            lines += [
                "AUDIENCE:",
                f"- Segment: {as_data('segment', seg or '')} ({a.segmentSize} members)",
                f"- Engagement: {c.engagementLevel}",
            ]
            if c.primaryMembershipTier:
                lines.append(
                    f"- Primary tier: {as_data('tier', self._clean(ctx, c.primaryMembershipTier) or '')}"
                )
            if c.avgHandicap is not None:
                lines.append(f"- Avg handicap: {c.avgHandicap:g}")
            if c.avgAge is not None:
                lines.append(f"- Avg age: {round(c.avgAge)}")
            if c.topActivities:
                acts = [self._clean(ctx, x, max_chars=50) or "" for x in c.topActivities]
                lines.append(f"- Top activities: {as_data('activities', ', '.join(acts))}")
            lines.append("")
        if customer is not None:
            fields = "; ".join(
                f"{k}: {v if not isinstance(v, list) else ', '.join(map(str, v))}"
                for k, v in customer.items()
            )
            lines += [
                "CUSTOMER (write for this one person; keep their placeholders):",
                as_data("customer", fields),
                "",
            ]
        lines.append(f"TONE: {req.tone}")
        if cta:
            lines.append(f"REQUIRED CTA: {as_data('cta', cta)}")
        if notes:
            lines.append(f"NOTES: {as_data('notes', notes)}")
        platform = f" for {req.platform.title()}" if req.platform else ""
        lines += [
            "",
            "TASK: " + TASKS[req.type].format(n=req.variantCount, limit=lim, platform=platform),
            "",
            'Return as JSON: { "variants": [{ "content": "...", "approach": "..." }] }',
        ]
        ctx.state["material"] = {
            "type": req.type,
            "goal": goal,
            "tone": req.tone,
            "n": req.variantCount,
            "limit": lim,
            "emoji": req.includeEmoji,
            "cta": cta,
            "tokens": sorted(ctx.allowed_tokens),
            "voice": voice,
            "avoid": avoid_clean,
            "platform": req.platform,
            "notes": notes,
            "customer": customer,
            "audience": None
            if not req.audience
            else {
                "segment": ctx.state.get("segment"),
                "size": req.audience.segmentSize,
                "traits": req.audience.characteristics.model_dump(mode="json"),
            },
        }
        max_tokens = 3000 if req.type == "EMAIL_BODY" else min(1500, 200 + req.variantCount * (lim // 2 + 40))
        return Prompt(system=system, user="\n".join(lines), max_tokens=max_tokens)

    # -- output --------------------------------------------------------------------------------------------
    def accept(self, ctx: Context, prompt: Prompt, text: str) -> ContentAnswer:
        req: ContentGenerateRequest = ctx.request
        answer = parse(ContentAnswer, text)
        if len(answer.variants) < req.variantCount:
            raise OutputInvalid(
                f"answer has {len(answer.variants)} variants, {req.variantCount} were asked for"
            )
        lim = ctx.state["limit"]
        avoid = ctx.state["avoid"]
        avoid_re = (
            re.compile(r"\b(" + "|".join(re.escape(w) for w in avoid) + r")\b", re.IGNORECASE)
            if avoid
            else None
        )
        out = []
        for i, v in enumerate(answer.variants[: req.variantCount]):
            screen_text(ctx.guard, prompt.system, v.content + "\n" + v.approach)
            if req.type == "EMAIL_BODY":
                content, changed = sanitise_html(v.content)
            else:
                content, changed = plain_text(v.content)
            if changed:
                ctx.warnings.append(f"Unsafe or unexpected markup was removed from variant {i + 1}.")
            content = content.strip()
            approach = plain_text(v.approach)[0].strip()[:60] or "general"
            if not content:
                raise OutputInvalid(f"variant {i + 1} is empty after sanitising")
            if len(content) > lim:
                raise OutputInvalid(f"variant {i + 1} has {len(content)} characters; the limit is {lim}")
            check_tokens(content, ctx.allowed_tokens)
            if avoid_re and (m := avoid_re.search(content)):
                raise OutputInvalid(f"variant {i + 1} uses the avoided word {m.group(0)!r}")
            if not req.includeEmoji and EMOJI_RE.search(content):
                ctx.warnings.append(f"Variant {i + 1} has emoji although none were asked for.")
            out.append(Variant(content=content, approach=approach))
        return ContentAnswer(variants=out)

    def result(self, ctx: Context, output: BaseModel) -> dict[str, Any]:
        assert isinstance(output, ContentAnswer)
        req: ContentGenerateRequest = ctx.request
        return {
            "type": req.type,
            "variants": [
                {"id": f"v{i + 1}", "content": v.content, "approach": v.approach}
                for i, v in enumerate(output.variants)
            ],
            "personalized": False,
            "requiresApproval": ctx.cfg.requireApproval,
            "warnings": list(ctx.warnings),
        }

    def fallback(self, ctx: Context) -> dict[str, Any]:
        req: ContentGenerateRequest = ctx.request
        use_name = "firstName" in ctx.allowed_tokens
        variants = template_variants(
            content_type=req.type,
            tone=req.tone,
            count=req.variantCount,
            cta=ctx.state.get("cta"),
            use_name=use_name,
            limit=ctx.state["limit"],
            avoid=ctx.state["avoid"],
        )
        return {
            "type": req.type,
            "variants": [
                {"id": f"v{i + 1}", "content": c, "approach": a} for i, (a, c) in enumerate(variants)
            ],
            "personalized": False,
            "requiresApproval": ctx.cfg.requireApproval,
            "warnings": list(ctx.warnings),
        }

    def restore(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        req: ContentGenerateRequest = ctx.request
        if not (req.personalize and ctx.personalised and ctx.tokens):
            return body
        escape = html.escape if req.type == "EMAIL_BODY" else (lambda s: s)
        variants = []
        for v in body["variants"]:
            content = v["content"]
            for token, value in ctx.tokens.items():
                content = re.sub(
                    r"\{\{\s*" + re.escape(token) + r"\s*\}\}", lambda _m, val=value: escape(val), content
                )
            variants.append({**v, "content": content})
        return {**body, "variants": variants, "personalized": True}

    # -- audit and cache -----------------------------------------------------------------------------------
    def cache_material(self, ctx: Context, prompt: Prompt) -> dict[str, Any] | None:
        if not ctx.cfg.cacheContentVariants or ctx.cfg.cacheTTLHours <= 0:
            return None
        return ctx.state["material"]

    def input_summary(self, ctx: Context) -> dict[str, Any]:
        req: ContentGenerateRequest = ctx.request
        return {
            "type": req.type,
            "tone": req.tone,
            "variantCount": req.variantCount,
            "lengthLimit": ctx.state["limit"],
            "includeEmoji": req.includeEmoji,
            "availableTokens": sorted(req.availableTokens),
            "goalChars": len(req.campaignGoal),
            "hasCallToAction": req.callToAction is not None,
            "hasNotes": req.notes is not None,
            "platform": req.platform,
            "audience": None
            if req.audience is None
            else {
                "segmentSize": req.audience.segmentSize,
                "engagementLevel": req.audience.characteristics.engagementLevel,
            },
            "profile": ctx.privacy or None,
            "personalizeRequested": req.personalize,
        }

    def output_summary(self, body: dict[str, Any]) -> dict[str, Any]:
        # Variants as generated, placeholders unfilled: the copy itself, never a person's data.
        return {
            "variantCount": len(body["variants"]),
            "variants": [
                {"approach": v["approach"], "chars": len(v["content"]), "content": v["content"][:500]}
                for v in body["variants"]
            ],
        }


register(ContentGenerate())
