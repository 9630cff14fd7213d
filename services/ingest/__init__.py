"""Ingest service: takes HH meter files in, validates and publishes meter-day reads."""
