"""Alerts service: consumption trackers and High Bill Alerts (issue 6)."""
