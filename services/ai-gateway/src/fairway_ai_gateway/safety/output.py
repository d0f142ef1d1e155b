"""Output validation (spec section 10): parse, check against the operation's schema, screen, sanitise HTML with
nh3, and check personalisation tokens against the allowed list. Anything wrong raises `OutputInvalid`; the
gateway retries once, then answers from the fallback."""

from __future__ import annotations

import html
import json
import re
from typing import Any, TypeVar

import nh3
from pydantic import BaseModel, ValidationError

from fairway_ai_gateway.safety.injection import PromptGuard, screen

M = TypeVar("M", bound=BaseModel)
TOKEN_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
MARKUP_RE = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
EMAIL_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "span",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "blockquote",
    "hr",
}
EMAIL_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


class OutputInvalid(Exception):
    """The model's answer cannot be used; `reason` says why (it goes to the audit log, never the output)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def extract_json(text: str) -> Any:
    body = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", body, re.DOTALL)
    if fenced:
        body = fenced.group(1).strip()
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        raise OutputInvalid("no JSON object in the answer")
    try:
        return json.loads(body[start : end + 1])
    except ValueError as exc:
        raise OutputInvalid(f"malformed JSON: {exc.msg}") from None


def parse(model: type[M], text: str) -> M:
    data = extract_json(text)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise OutputInvalid(f"answer does not match the schema: {where}") from None


def screen_text(guard: PromptGuard, system_prompt: str, text: str) -> None:
    if guard.echoes(system_prompt, text):
        raise OutputInvalid("answer repeats the system prompt")
    hits = screen(text)
    if hits:
        raise OutputInvalid(f"answer contains injection patterns: {', '.join(hits)}")


def tokens_in(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def check_tokens(text: str, allowed: set[str]) -> None:
    bad = sorted({t for t in tokens_in(text) if t not in allowed})
    if bad:
        raise OutputInvalid(f"answer uses tokens that are not allowed: {', '.join(bad)}")


def sanitise_html(content: str) -> tuple[str, bool]:
    """(safe HTML, whether anything was removed)."""
    clean = nh3.clean(
        content,
        tags=EMAIL_TAGS,
        attributes=EMAIL_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return clean, _normal(clean) != _normal(content)


def plain_text(content: str) -> tuple[str, bool]:
    """Text channels carry no markup: tags (and script/style bodies) go, entities are decoded back."""
    if not MARKUP_RE.search(content):
        return content, False
    return html.unescape(nh3.clean(content, tags=set())).strip(), True


def _normal(s: str) -> str:
    # nh3 re-serialises: compare what matters, not quoting or the rel it adds to links.
    s = html.unescape(s).replace(' rel="noopener noreferrer"', "")
    return re.sub(r"\s+", " ", s.replace("'", '"')).strip()
