"""The ai-gateway service's tables all hang off this metadata; migrations/ builds them."""
from fairway_chassis import make_metadata
from fairway_events import event_tables

metadata = make_metadata()
outbox_table, inbox_table = event_tables(metadata)
