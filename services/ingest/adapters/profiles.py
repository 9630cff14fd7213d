"""Feed profiles from YAML: the shipped ones plus an operator's own file."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from services.ingest.domain.profiles import FeedProfile, load_profiles


@lru_cache
def feed_profiles(extra_file: Path | None = None) -> dict[str, FeedProfile]:
    shipped = yaml.safe_load((resources.files("services.ingest") / "profiles.yaml").read_text()) or {}
    profiles = load_profiles(shipped)
    if extra_file is not None:
        profiles.update(load_profiles(yaml.safe_load(Path(extra_file).read_text()) or {}))
    return profiles
