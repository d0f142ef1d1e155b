"""Template copy for content.generate when no LLM answers: plain, on-brand-neutral, within every length limit,
and honest about being a template (the reply says source FALLBACK)."""

from __future__ import annotations

import re

DEFAULT_CTA = {
    "EMAIL_SUBJECT": "Book your tee time",
    "EMAIL_BODY": "Book your tee time",
    "SMS": "Book your tee time in the club app",
    "SOCIAL_POST": "Book your tee time today",
    "PUSH": "Book your tee time",
}

GREETING = {
    "FORMAL": "Dear {name}",
    "FRIENDLY": "Hi {name}",
    "URGENT": "{name}, don't miss out",
    "PLAYFUL": "Fore, {name}!",
}

# (approach, template); {name} is the {{firstName}} token where allowed, {cta} the call to action.
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "EMAIL_SUBJECT": [
        ("benefit", "{name_comma}your next round is waiting"),
        ("urgency", "Last chance: {cta}"),
        ("curiosity", "Something new at the club this week"),
        ("social-proof", "Fellow members are already booking"),
        ("personal", "{name_comma}a note from your club"),
    ],
    "SMS": [
        ("benefit", "{greeting}. The course is in great shape: {cta}."),
        ("urgency", "{greeting}. Tee times are filling up fast. {cta} today."),
        ("curiosity", "{greeting}. There's something new at the club. {cta}."),
        ("social-proof", "{greeting}. Members are booking their rounds now. {cta}."),
        ("personal", "{greeting}. We'd love to see you back on the course. {cta}."),
    ],
    "PUSH": [
        ("benefit", "{cta}"),
        ("urgency", "Tee times going fast"),
        ("curiosity", "New at your club this week"),
        ("social-proof", "Members are booking now"),
        ("personal", "We miss you on the course"),
    ],
    "SOCIAL_POST": [
        ("benefit", "The course is in superb condition this week. {cta}! #golf #clublife"),
        ("urgency", "Tee times are filling up fast. {cta} before they're gone. #golf"),
        ("curiosity", "Something new is happening at the club... {cta} and find out. #golf"),
        ("social-proof", "Our members are out on the course in numbers. Join them: {cta}. #golf #clublife"),
        ("personal", "Whatever your handicap, there's a tee time with your name on it. {cta}. #golf"),
    ],
    "EMAIL_BODY": [
        (
            "benefit",
            "<p>{greeting},</p><p>The course is in superb condition and there's never been a better "
            "time to get a round in.</p><p><strong>{cta}</strong></p><p>See you on the course,<br>"
            "The club team</p>",
        ),
        (
            "urgency",
            "<p>{greeting},</p><p>Tee times are filling up quickly this week.</p><p><strong>{cta}"
            "</strong> while there's still a slot for you.</p><p>The club team</p>",
        ),
        (
            "curiosity",
            "<p>{greeting},</p><p>Something new is happening at the club this month, and we think "
            "you'll like it.</p><p><strong>{cta}</strong> to find out more.</p><p>The club team</p>",
        ),
        (
            "social-proof",
            "<p>{greeting},</p><p>Members have been out on the course in numbers this season.</p>"
            "<p><strong>{cta}</strong> and join them.</p><p>The club team</p>",
        ),
        (
            "personal",
            "<p>{greeting},</p><p>We'd love to see you back at the club.</p><p><strong>{cta}</strong>"
            "</p><p>The club team</p>",
        ),
    ],
}


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    # never cut through a {{token}}, and prefer a word boundary
    open_at = cut.rfind("{{")
    if open_at > cut.rfind("}}"):
        cut = cut[:open_at]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-")


def template_variants(
    *, content_type: str, tone: str, count: int, cta: str | None, use_name: bool, limit: int, avoid: list[str]
) -> list[tuple[str, str]]:
    cta_text = (cta or DEFAULT_CTA[content_type]).strip().rstrip(".!")
    name = "{{firstName}}" if use_name else ""
    greeting = (
        GREETING[tone].format(name=name).replace(" ,", ",").strip(" ,")
        if use_name
        else {
            "FORMAL": "Dear member",
            "FRIENDLY": "Hi there",
            "URGENT": "Don't miss out",
            "PLAYFUL": "Fore!",
        }[tone]
    )
    avoid_re = (
        re.compile(r"\b(" + "|".join(re.escape(w) for w in avoid) + r")\b", re.IGNORECASE) if avoid else None
    )
    out: list[tuple[str, str]] = []
    for approach, tpl in TEMPLATES[content_type]:
        text = tpl.format(name_comma=f"{name}, " if use_name else "", greeting=greeting, cta=cta_text)
        text = text[0].upper() + text[1:] if text and not text.startswith("{{") else text
        text = _fit(text, limit)
        if avoid_re and avoid_re.search(text):
            continue
        out.append((approach, text))
        if len(out) == count:
            break
    return out or [("plain", _fit(cta_text, limit))]
