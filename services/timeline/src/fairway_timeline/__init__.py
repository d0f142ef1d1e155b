"""Fairway timeline service: The activity timeline of each profile, and staff notes."""
