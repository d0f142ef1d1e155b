"""Resolution policy refuses to start on bad configuration."""

import pytest
from pydantic import ValidationError

from fairway_identity.settings import ResolutionPolicy, Settings

SECRET = "s" * 40


def test_per_tenant_policy_overrides_the_installations() -> None:
    s = Settings(jwt_secret=SECRET, tenant_policies={"club-uk": {"default_region": "gb", "currency": "GBP"}})
    assert s.policy_for("club-uk").default_region == "GB" and s.policy_for("club-uk").currency == "GBP"
    assert s.policy_for("club-uk").auto_merge_min_confidence == 100
    assert s.policy_for("club-za") == ResolutionPolicy()


@pytest.mark.parametrize(
    "overrides,match",
    [
        ({"policy": {"default_region": "XX"}}, "phone region"),
        ({"tenant_policies": {"club-a": {"default_region": "ZZ"}}}, "phone region"),
        ({"tenant_policies": {"club-a": {"auto_merge": True}}}, "auto_merge"),
        ({"policy": {"unique_ids": ["email"]}}, "unique_ids"),
        ({"policy": {"blocked_values": ["a@x.com"]}}, "keyType:value"),
        ({"policy": {"auto_merge_min_confidence": 150}}, "auto_merge_min_confidence"),
    ],
)
def test_bad_policy_stops_the_service(overrides: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        Settings(jwt_secret=SECRET, **overrides)
