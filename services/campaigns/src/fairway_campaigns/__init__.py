"""Fairway campaigns service: Campaigns, scheduling, A/B tests, send-time optimisation, event promotion, content approval."""
