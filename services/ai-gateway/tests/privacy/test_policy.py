from datetime import date

from fairway_ai_gateway.privacy.policy import (
    age_band,
    personalisation_allowed,
    sanitise_profile,
    value_segment,
)
from fairway_ai_gateway.privacy.scrub import Scrubber
from fairway_schemas.ai import ProfileContext

PROFILE = ProfileContext(
    profileId="p-1",
    firstName="Thandi",
    lastName="Nkosi",
    memberNumber="M-1001",
    email="thandi@example.com",
    phoneNumber="+27825551234",
    dateOfBirth=date(1985, 6, 1),
    address="14 Oak Lane, Durbanville",
    idNumber="8001015009087",
    passportNumber="A1234567",
    lifetimeValue=250000,
    engagementScore=82,
    membershipTier="Gold",
    handicap=12.4,
    tags=["junior-coach", "Thandi fan club"],
    aiMarketingConsent=True,
    attributes={
        "favouriteCourse": "Old Course",
        "mobileAlt": "0821112222",
        "Notes about Thandi": "x",
        "clubNickname": "Thandi",
    },
)


def test_field_policy_excludes_tokenises_and_aggregates() -> None:
    sp = sanitise_profile(
        PROFILE, extra_exclusions=["handicap"], scrubber=Scrubber(), today=date(2025, 6, 15)
    )
    assert sp.context == {
        "firstName": "{{firstName}}",
        "lastName": "{{lastName}}",
        "memberNumber": "{{memberNumber}}",
        "valueSegment": "high-value",
        "ageGroup": "35-44",
        "engagementLevel": "HIGH",
        "membershipTier": "Gold",
        "tags": ["junior-coach", "{{firstName}} fan club"],
        "favouriteCourse": "Old Course",
        "clubNickname": "{{firstName}}",
    }
    assert sp.tokens == {"firstName": "Thandi", "lastName": "Nkosi", "memberNumber": "M-1001"}
    assert set(sp.excluded) >= {
        "email",
        "phoneNumber",
        "dateOfBirth",
        "address",
        "idNumber",
        "passportNumber",
        "handicap",
    }
    assert sorted(sp.dropped_attributes) == ["Notes about Thandi", "mobileAlt"]


def test_ranges() -> None:
    assert [value_segment(v) for v in (500, 50_000, 150_000)] == ["standard", "medium-value", "high-value"]
    assert [age_band(a) for a in (16, 18, 44, 45, 70)] == ["under-18", "18-24", "35-44", "45-54", "65+"]


def test_consent_flags_and_tenant_switch_decide_personalisation() -> None:
    assert personalisation_allowed(True, PROFILE) == (True, None)
    assert personalisation_allowed(False, PROFILE) == (False, "TENANT_DISALLOWS_LLM_PERSONALIZATION")
    no_consent = PROFILE.model_copy(update={"aiMarketingConsent": False})
    assert personalisation_allowed(True, no_consent) == (False, "NO_AI_MARKETING_CONSENT")
    opted_out = PROFILE.model_copy(update={"doNotProfile": True})
    assert personalisation_allowed(True, opted_out) == (False, "DO_NOT_PROFILE")
