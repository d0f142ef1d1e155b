import pytest
from pydantic import ValidationError

from fairway_ai_gateway.config.schemas import TenantAIConfigPatch, apply_patch, default_config


def test_default_is_the_economy_preset_with_privacy_on() -> None:
    cfg = default_config()
    assert (cfg.qualityTier, cfg.preferredModel, cfg.maxDailyLLMCalls, cfg.maxMonthlyCost) == (
        "ECONOMY",
        "CLAUDE_HAIKU",
        100,
        25.0,
    )
    assert cfg.features.nlSegmentBuilder and not cfg.features.personalizationEngine
    assert cfg.allowLLMPersonalization is False and cfg.requireApproval is True


def test_changing_tier_applies_its_preset_except_fields_set_in_the_same_patch() -> None:
    cfg, changed = apply_patch(
        default_config(), TenantAIConfigPatch(qualityTier="PREMIUM", maxDailyLLMCalls=50)
    )
    assert (cfg.preferredModel, cfg.fallbackModel, cfg.maxMonthlyCost, cfg.maxDailyLLMCalls) == (
        "CLAUDE_SONNET",
        "CLAUDE_HAIKU",
        500.0,
        50,
    )
    assert cfg.features.personalizationEngine
    assert {"qualityTier", "preferredModel", "maxMonthlyCost", "features.personalizationEngine"} <= set(
        changed
    )


def test_features_merge_and_cross_field_rules_hold() -> None:
    cfg, changed = apply_patch(
        default_config(),
        TenantAIConfigPatch.model_validate(
            {"features": {"contentGeneration": False}, "avoidWords": ["free"]}
        ),
    )
    assert not cfg.features.contentGeneration and cfg.features.nlSegmentBuilder
    assert changed == ["features.contentGeneration", "avoidWords"]
    with pytest.raises(ValidationError) as err:
        apply_patch(default_config(), TenantAIConfigPatch(dailyCostWarning=9, dailyCostCritical=3))
    assert "dailyCostWarning" in str(err.value)
    with pytest.raises(ValidationError) as err:
        apply_patch(default_config(), TenantAIConfigPatch(timezone="Mars/Olympus"))
    assert err.value.errors()[0]["loc"] == ("timezone",)
