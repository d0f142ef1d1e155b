"""Fairway ai-gateway service: The only way out to an LLM: cost caps, PII sanitisation, injection defence, validation, fallbacks, audit."""
