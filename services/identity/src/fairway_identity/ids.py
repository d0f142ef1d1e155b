"""What an id in a path, query or body looks like: profiles and merge candidates are UUIDs, stored as such in
PostgreSQL, so anything else is refused as a 422 before it reaches a query (36 hex-or-dash characters that are
not a UUID used to reach PostgreSQL and come back as a 500)."""

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
