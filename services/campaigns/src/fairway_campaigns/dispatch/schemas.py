"""The settings API speaks the policy's own model (`DispatchSettings`): quiet hours per channel as local times,
caps per channel per day and week, the control group's share, the maximum lateness and the default time zone."""
from fairway_campaigns.dispatch.policy import Cap, DispatchSettings, QuietHours

__all__ = ["Cap", "DispatchSettings", "QuietHours"]
