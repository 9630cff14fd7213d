"""Fixtures for the ingest domain tests: fixture files live in tests/fixtures/ingest/."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from services.ingest.domain.parsing import ParseResult, parse_file
from services.ingest.domain.profiles import FeedProfile

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"

Parsed = tuple[ParseResult, list]


@pytest.fixture
def parse_fixture() -> Callable[..., Parsed]:
    """Parse a fixture file and drain it: (result, items)."""
    def parse(name: str, profile: FeedProfile | None = None, mpxn: str | None = None) -> Parsed:
        result = parse_file((FIXTURES / name).read_bytes(), name, profile, mpxn=mpxn)
        return result, list(result)
    return parse


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    return lambda name: (FIXTURES / name).read_bytes()
