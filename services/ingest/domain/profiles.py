"""Named feed profiles: config that pins a supplier's format where detection is not enough."""
from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field

from services.ingest.domain.model import Labelling, Layout, SourceUnit
from services.ingest.domain.units import DEFAULT_CALORIFIC_VALUE

ColumnRole = Literal[
    "mpxn", "date", "time", "timestamp", "value", "quality", "unit", "period",
]


class FeedProfile(BaseModel):
    """Everything optional: unset fields fall back to automatic detection.

    ``columns`` maps a role to a header name (case-insensitive); ``header`` gives the
    column names of a file that has no header row; ``period_order='positional'``
    reads value columns in file order instead of by their time labels (for suppliers
    who shift clock-change days into the first 46 / last 50 columns).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    layout: Layout | None = None
    labelling: Labelling | None = None
    unit: SourceUnit | None = None
    day_first: bool = Field(True, description="Numeric dates are DD/MM/YYYY (UK) unless false.")
    decimal_comma: bool = Field(False, description="Numbers use ',' as decimal mark.")
    calorific_value: float = Field(DEFAULT_CALORIFIC_VALUE, gt=0, le=100, description="MJ/m3 for m3 -> kWh.")
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    columns: dict[ColumnRole, str] = Field(default_factory=dict)
    header: list[str] | None = None
    period_order: Literal["by_label", "positional"] = "by_label"
    sheet: str | None = None


def load_profiles(config: Mapping[str, Any]) -> dict[str, FeedProfile]:
    """Profiles from a parsed YAML/JSON document.

    Accepts ``{"profiles": [{"name": ...}, ...]}`` or ``{name: {...}, ...}``.
    """
    if "profiles" in config:
        items = [FeedProfile.model_validate(p) for p in config["profiles"]]
    else:
        items = [FeedProfile.model_validate({"name": name, **body}) for name, body in config.items()]
    return {p.name: p for p in items}
