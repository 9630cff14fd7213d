"""What a portfolio holds and why a site is missing from its figures (pure)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

ALL_SITES = "all"
"""Id of the implicit portfolio of every site the user can see (offered when there is more than one)."""

MissingReason = Literal["not_onboarded", "opted_out", "opt_out_window", "no_data", "incomplete_data"]

REASON_TEXT: dict[str, str] = {
    "not_onboarded": "not onboarded: half-hourly settled power (profile class 00) is not yet available in the portal",
    "opted_out": "the customer opted out of half-hourly data",
    "opt_out_window": "in the micro-business opt-out window: data is held until the window closes",
    "no_data": "no data received for the period",
    "incomplete_data": "data received for part of the period only",
}


class PointFacts(Protocol):
    fuel: str
    settlement: str
    profile_class: str | None
    enrolment_status: str


def onboarded(point: PointFacts) -> bool:
    """The portal onboards all gas, NHH power (profile classes 01-08) and smart; HH-settled power waits."""
    return not (point.fuel == "electricity" and (point.settlement == "hh" or point.profile_class == "00"))


def shows_data(point: PointFacts) -> bool:
    return onboarded(point) and point.enrolment_status == "active"


def fuels(points: Iterable[PointFacts]) -> list[str]:
    return sorted({p.fuel for p in points})


class FuelChoiceError(ValueError):
    pass


def choose_fuel(held: Sequence[str], requested: str | None) -> str | None:
    """The fuel to report: required only when the portfolio holds both."""
    if requested is not None:
        if requested not in ("electricity", "gas"):
            raise FuelChoiceError("fuel must be electricity or gas")
        if held and requested not in held:
            raise FuelChoiceError(f"this portfolio holds no {requested} supply points (it holds {', '.join(held)})")
        return requested
    if len(held) > 1:
        raise FuelChoiceError("this portfolio holds both electricity and gas: choose one with fuel=electricity or fuel=gas")
    return held[0] if held else None


@dataclass(frozen=True)
class Missing:
    reason: MissingReason
    coverage: float


def missing_reason(point: PointFacts, coverage: float) -> Missing | None:
    """Why a supply point has no or incomplete data in a range (None when complete)."""
    if not onboarded(point):
        return Missing("not_onboarded", 0.0)
    if point.enrolment_status == "opted_out":
        return Missing("opted_out", 0.0)
    if point.enrolment_status == "opt_out_window":
        return Missing("opt_out_window", 0.0)
    if coverage <= 0:
        return Missing("no_data", 0.0)
    if coverage < 1:
        return Missing("incomplete_data", coverage)
    return None
