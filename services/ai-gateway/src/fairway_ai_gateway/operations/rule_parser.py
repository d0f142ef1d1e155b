"""segment.parse's deterministic fallback; the parser itself lives in `fairway_ai_gateway.segment_parser`."""

from fairway_ai_gateway.segment_parser.parser import ParsedSegment, RuleParser

__all__ = ["ParsedSegment", "RuleParser"]
