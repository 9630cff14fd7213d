"""Pure alert rules: thresholds, bill projection, trackers and message text.

Nothing here does I/O or reads a clock; adapters pass dates and data in and
deliver what comes out (de-duplicating on the idempotency keys produced here).
"""
