"""Fairway journeys service: Multi-step automations started by events."""
