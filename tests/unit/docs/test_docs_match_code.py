"""The README documents what the code does: every setting and every command."""
from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from meterstream.cli import app
from shared.config import Settings

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", README))
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in documented]
    assert not missing, f"README configuration table lacks {missing}"


def test_every_top_level_command_is_in_the_command_table():
    commands = get_command(app).commands  # type: ignore[attr-defined]
    missing = [name for name in commands if f"`meterstream {name}" not in README]
    assert not missing, f"README command table lacks {missing}"


def test_every_topic_is_in_the_topic_table():
    from shared.contracts import TOPICS

    for topic in TOPICS:
        row = next((line for line in README.splitlines() if line.startswith(f"| `{topic.name}`")), None)
        assert row, f"README topic table lacks {topic.name}"
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == topic.key_field and cells[2] == ", ".join(topic.producers)
        assert cells[3] == (", ".join(topic.consumers) or "-"), f"{topic.name}: consumers {topic.consumers}"
