"""Fairway identity service: One CustomerProfile per person: identity resolution, merge/unmerge, consent mirror, erasure."""
