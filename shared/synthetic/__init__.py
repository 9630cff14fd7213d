"""Deterministic synthetic data: weather, HH meter reads, the demo customer and D+1 files.

One generator serves the demo (`meterstream up --demo`), tests, load-test
replays and benchmarks, so every consumer sees the same realistic shapes.
Everything is a pure function of its arguments (identifiers, dates, seeds):
no clocks, no I/O, no global random state.
"""
