"""The deterministic natural-language segment parser (segment.parse's fallback)."""
