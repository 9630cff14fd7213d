"""Pure ingest domain: parsing, validation and versioning of meter data (no I/O)."""
