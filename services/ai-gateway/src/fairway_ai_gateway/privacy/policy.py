"""The LLM data policy of the AI spec (section 9): what of a profile may leave, and in what form.

- excluded fields never leave (email, phone, date of birth, address, SA ID number, passport), nor any field the
  tenant lists in piiExclusions, nor attributes whose names look like personal data;
- tokenised fields (first and last name, member number) leave as {{placeholders}}; their values stay here and are
  put back only into output the caller may personalise;
- aggregated fields leave as ranges: lifetime value as a value segment, age as an age band, engagement score as
  an engagement level;
- the rest (tier, handicap, channel, club, tags) leaves as it is, scrubbed like free text.
A profile whose owner gave no AI consent, or asked not to be profiled, leaves nothing at all (section 9.2).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fairway_ai_gateway.privacy.scrub import Scrubber
from fairway_schemas.ai import ProfileContext

EXCLUDED_FIELDS = ("email", "phoneNumber", "dateOfBirth", "address", "idNumber", "passportNumber")
TOKENISED_FIELDS = ("firstName", "lastName", "memberNumber")
AGGREGATED_FIELDS = ("lifetimeValue", "age", "engagementScore")
SAFE_FIELDS = ("membershipTier", "handicap", "preferredChannel", "homeClub", "tags")
FIELD_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,59}")  # attribute names must be identifiers, not prose
# Attribute names that say "personal data" whatever the tenant configured.
PII_NAME_RE = re.compile(
    r"e-?mail|phone|mobile|cell|birth|dob|address|street|postal|zip|id_?number|identity|passport|surname|"
    r"first_?name|last_?name|full_?name|^name$|ssn|tax|iban|account|card",
    re.IGNORECASE,
)


def value_segment(ltv_cents: float) -> str:
    if ltv_cents > 100_000:
        return "high-value"
    if ltv_cents > 30_000:
        return "medium-value"
    return "standard"


def age_band(age: int) -> str:
    if age < 18:
        return "under-18"
    for low, high in ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64)):
        if low <= age <= high:
            return f"{low}-{high}"
    return "65+"


def engagement_level(score: float) -> str:
    return "HIGH" if score > 70 else "MEDIUM" if score > 40 else "LOW"


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass
class SanitisedProfile:
    context: dict[str, Any]  # what may go into a prompt
    tokens: dict[str, str]  # placeholder name -> real value, kept here
    excluded: list[str] = field(default_factory=list)  # names of fields present and withheld
    tokenised: list[str] = field(default_factory=list)
    aggregated: list[str] = field(default_factory=list)
    dropped_attributes: list[str] = field(default_factory=list)
    redactions: Counter[str] = field(default_factory=Counter)


def personalisation_allowed(
    allow_llm_personalization: bool, profile: ProfileContext
) -> tuple[bool, str | None]:
    if not allow_llm_personalization:
        return False, "TENANT_DISALLOWS_LLM_PERSONALIZATION"
    if profile.doNotProfile:
        return False, "DO_NOT_PROFILE"
    if not profile.aiMarketingConsent:
        return False, "NO_AI_MARKETING_CONSENT"
    return True, None


def profile_names(profile: ProfileContext | None) -> dict[str, str]:
    if profile is None:
        return {}
    return {k: v for k in TOKENISED_FIELDS if (v := getattr(profile, k))}


def profile_exact(profile: ProfileContext | None) -> dict[str, str]:
    """Excluded values of the profile, to be cut from free text wherever they appear verbatim."""
    if profile is None:
        return {}
    out = {k: str(v) for k in EXCLUDED_FIELDS if (v := getattr(profile, k)) and k != "dateOfBirth"}
    if profile.dateOfBirth:
        out["dateOfBirth"] = profile.dateOfBirth.isoformat()
    return out


def sanitise_profile(
    profile: ProfileContext, *, extra_exclusions: list[str], scrubber: Scrubber, today: date
) -> SanitisedProfile:
    excl = {x.lower() for x in extra_exclusions}
    names, exact = profile_names(profile), profile_exact(profile)
    out = SanitisedProfile(context={}, tokens={})

    def allowed(name: str) -> bool:
        return name.lower() not in excl

    def clean(text: str) -> str:
        s = scrubber.scrub(text, names=names, exact=exact)
        out.redactions.update(s.redactions)
        return s.text

    out.excluded = [f for f in EXCLUDED_FIELDS if getattr(profile, f) not in (None, "")]
    for f in TOKENISED_FIELDS:
        value = getattr(profile, f)
        if value and allowed(f):
            out.context[f] = "{{" + f + "}}"
            out.tokens[f] = value
            out.tokenised.append(f)
        elif value:
            out.excluded.append(f)
    if profile.lifetimeValue is not None and allowed("lifetimeValue"):
        out.context["valueSegment"] = value_segment(profile.lifetimeValue)
        out.aggregated.append("lifetimeValue")
    age = (
        profile.age
        if profile.age is not None
        else (age_on(profile.dateOfBirth, today) if profile.dateOfBirth else None)
    )
    if age is not None and allowed("age") and allowed("dateOfBirth"):
        out.context["ageGroup"] = age_band(age)
        out.aggregated.append("age")
    if profile.engagementScore is not None and allowed("engagementScore"):
        out.context["engagementLevel"] = engagement_level(profile.engagementScore)
        out.aggregated.append("engagementScore")
    for f in SAFE_FIELDS:
        value = getattr(profile, f)
        if value in (None, "", []) or not allowed(f):
            if value not in (None, "", []):
                out.excluded.append(f)
            continue
        if isinstance(value, str):
            value = clean(value)
        elif isinstance(value, list):
            value = [clean(v) for v in value]
        out.context[f] = value
    for key, value in profile.attributes.items():
        if (
            not allowed(key)
            or not FIELD_NAME_RE.fullmatch(key)
            or PII_NAME_RE.search(key)
            or key in EXCLUDED_FIELDS
            or key in TOKENISED_FIELDS
        ):
            out.dropped_attributes.append(key)
            continue
        out.context[key] = clean(value) if isinstance(value, str) else value
    return out
