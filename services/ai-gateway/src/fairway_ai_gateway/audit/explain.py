"""The human explanation of one AI decision (spec section 11.2, GDPR art. 22 / POPIA s71): what produced the
answer, why, what happened to personal data on the way, what it cost, and how a person opts out."""

from __future__ import annotations

from typing import Any

from fairway_ai_gateway.budget.pricing import usd

WHAT = {"content.generate": "marketing copy", "segment.parse": "segment definition",
        "journey.generate": "journey definition", "journey.insights": "journey recommendations"}
WHY_FALLBACK = {
    "OFFLINE": "no AI provider is configured for Fairway",
    "FEATURE_DISABLED": "the club has switched this AI feature off",
    "INJECTION_SUSPECTED": "part of the input looked like an attempt to give the AI instructions, so nothing was "
    "sent to it",
    "BUDGET_EXCEEDED": "the call could have taken the club past its AI spending cap",
    "CALL_LIMIT": "the club's limit on the number of AI calls was reached",
    "THROTTLED": "AI use was slowed down after the club's AI spend passed a threshold",
    "RATE_LIMITED": "the club's normal rate of AI calls was used up at that moment",
    "DISABLED": "AI was switched off for the rest of the day after the club's spend reached its critical "
    "threshold",
    "CIRCUIT_OPEN": "the AI provider was failing, so calls to it were paused",
    "PROVIDER_ERROR": "the AI provider answered with errors",
    "TIMEOUT": "the AI provider did not answer in time",
    "INVALID_OUTPUT": "the AI's answers failed Fairway's safety and format checks twice",
    "NO_MODEL": "no AI model is configured for this club's tier",
}
WITHHELD = {
    "TENANT_DISALLOWS_LLM_PERSONALIZATION": "the club does not allow AI personalisation",
    "NO_AI_MARKETING_CONSENT": "the person has not consented to AI-assisted marketing",
    "DO_NOT_PROFILE": "the person asked not to be profiled",
}
OPT_OUT = {
    "aiPersonalization": "A member can withdraw consent to AI-assisted marketing (aiMarketingConsent) or ask not to "
    "be profiled (doNotProfile) in their preferences; AI then never sees anything about them.",
    "emailPreferences": "/preferences/email",
    "aiPreferences": "/preferences/ai",
}


def explain(row: dict[str, Any]) -> dict[str, Any]:
    op, source, model = row["operation"], row["source"], row["model"]
    what = WHAT.get(op, "answer")
    inp = row["input_summary"] or {}
    profile = inp.get("profile") or {}
    redactions = inp.get("redactions") or {}
    if source == "LLM":
        text = f"This {what} was written by the AI model {model}."
    elif source == "CACHE":
        text = (
            f"This {what} was reused from an answer the AI model {model} wrote earlier for the same anonymised "
            f"request, so nothing was sent to an AI provider this time."
        )
    else:
        how = (
            "Fairway's templates"
            if model == "templates"
            else "Fairway's rule-based parser"
            if model == "rules"
            else "Fairway's own rules"
        )
        text = (
            f"This {what} was produced without AI, by {how}, because "
            f"{WHY_FALLBACK.get(row['fallback_reason'] or '', 'the AI path was not available')}."
        )
    parts = [text]
    if redactions:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(redactions.items()))
        parts.append(
            f"Before anything could leave Fairway, personal data was removed from the request text ({kinds})."
        )
    if profile.get("personalisation") == "ALLOWED":
        sent = ", ".join(profile.get("fieldsSent") or []) or "nothing"
        parts.append(
            f"It was tailored to one person using only these non-identifying facts: {sent}. Names and "
            f"member numbers went as placeholders and were filled in by Fairway afterwards; "
            f"{', '.join(profile.get('fieldsExcluded') or []) or 'no other personal data'} never left "
            f"Fairway."
        )
    elif profile.get("personalisation") == "WITHHELD":
        parts.append(
            "It was not personalised by AI because "
            f"{WITHHELD.get(profile.get('reason') or '', 'personalisation was not allowed')}; nothing "
            f"about the person was sent."
        )
    if row["cost_micros"]:
        parts.append(
            f"The AI calls cost ${usd(row['cost_micros']):.6f} and were counted against the club's budget."
        )
    steps = []
    for a in row["attempts"] or []:
        step = f"{a.get('model')}: {a.get('outcome')}"
        if a.get("detail"):
            step += f" ({a['detail']})"
        steps.append(step)
    return {
        "decisionId": row["id"],
        "operation": op,
        "decisionType": row["decision_type"],
        "createdAt": row["created_at"].isoformat(),
        "source": source,
        "model": model,
        "fallbackReason": row["fallback_reason"],
        "wasUsed": row["was_used"],
        "origin": row["origin"],
        "customerId": row["customer_id"],
        "explanation": " ".join(parts),
        "steps": steps,
        "privacy": {
            "redactions": redactions,
            "injectionPatterns": inp.get("injectionPatterns", []),
            **({"profile": profile} if profile else {}),
        },
        "output": row["output_summary"],
        "confidence": row["confidence"],
        "cost": {
            "usd": usd(row["cost_micros"]),
            "inputTokens": row["input_tokens"],
            "outputTokens": row["output_tokens"],
            "llmCalls": row["llm_calls"],
        },
        "latencyMs": row["latency_ms"],
        "howToOptOut": OPT_OUT,
    }
