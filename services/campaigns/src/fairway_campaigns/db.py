"""The campaigns service's tables all hang off this metadata; migrations/ builds them."""
from sqlalchemy import String

from fairway_chassis import make_metadata
from fairway_events import event_tables

metadata = make_metadata()
outbox_table, inbox_table = event_tables(metadata)

TENANT = String(64)
PROFILE = String(64)
