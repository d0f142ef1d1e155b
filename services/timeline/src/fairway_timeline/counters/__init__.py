"""Per-profile counters published on crm.timeline, kept right as events arrive and as time passes."""
