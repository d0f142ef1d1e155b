"""`fairway backfill`: a club's legacy CRM export becomes upstream events with their historic times.

`records` reads and validates a whole export folder (nothing is published until every file has been read),
`events` turns the valid records into upstream messages with deterministic ids, `importer` publishes them and
keeps the import's manifest, `report` asks the platform (identity's HTTP API) what became of them. The format is
documented in `docs/backfill.md`.
"""
