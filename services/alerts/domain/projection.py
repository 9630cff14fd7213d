"""Bill-period projection and the High Bill Alert decision.

The projected bill is what has been used so far in the bill period plus the
rest of the period projected from recent behaviour (kWh per half-hour read
over the last ``recent_days``, optionally scaled by a heating degree-day
ratio), compared with the same bill period last year. Reads missing so far
are projected too, because the bill will cover them.

Opower-style data sufficiency guards every decision: no alert, with a
recorded reason, without enough reads since the cycle started, enough
rate-modelled reads for a cost projection, or a year of history for a
comparison with last year. A decision is a pure function of the data, so late
or revised reads simply re-evaluate; the idempotency key keeps delivery to
at most one High Bill Alert per account and bill period.
"""
from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from shared.hh import periods_in_day
from services.alerts.domain.thresholds import Account, EffectiveThreshold

HIGH_BILL_RULE = "high_bill"


class Reason(StrEnum):
    """Why a High Bill Alert decision came out the way it did (recorded)."""

    ALERT = "alert"
    BELOW_THRESHOLD = "below_threshold"
    NO_THRESHOLD = "no_threshold"
    INSUFFICIENT_READS = "insufficient_reads"
    INSUFFICIENT_RATE_MODELLED = "insufficient_rate_modelled"
    INSUFFICIENT_HISTORY = "insufficient_history"
    NO_BASELINE = "no_baseline"


class WeatherNote(StrEnum):
    """Whether the days ahead were weather-adjusted, and if not why (recorded)."""

    ADJUSTED = "adjusted"
    NO_TEMPERATURES = "no_temperatures"
    MISSING_TEMPERATURES = "missing_temperatures"
    MILD_RECENT = "mild_recent"


@dataclass(frozen=True)
class WeatherAdjustment:
    factor: float
    note: WeatherNote


@dataclass(frozen=True)
class ProjectionConfig:
    """Tunable reference values; the defaults follow the Opower rules."""

    min_read_coverage: float = 0.75
    min_rate_modelled: float = 0.95
    min_history_days: int = 365
    recent_days: int = 14
    base_temperature_c: float = 15.5
    min_recent_degree_days: float = 1.0
    weather_factor_bounds: tuple[float, float] = (0.5, 2.0)


@dataclass(frozen=True)
class BillPeriod:
    """A bill period of local days, ``start`` inclusive and ``end`` exclusive."""

    start: date
    end: date

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


@dataclass(frozen=True)
class DayUsage:
    """One account's local day: kWh and cost of the reads present.

    ``reads`` counts half-hour values present; ``rate_modelled_reads`` those
    that could be priced with the account's modelled rates (``cost`` is their
    cost).
    """

    day: date
    kwh: float
    reads: int
    cost: float = 0.0
    rate_modelled_reads: int = 0


@dataclass(frozen=True)
class Baseline:
    """The same bill period last year, scaled up to all its possible reads."""

    period: BillPeriod
    usage: float
    cost: float | None


@dataclass(frozen=True)
class Decision:
    alert: bool
    reason: Reason
    period: BillPeriod
    projected_usage: float | None
    projected_cost: float | None
    baseline: Baseline | None
    threshold: EffectiveThreshold | None
    idempotency_key: str
    read_coverage: float
    rate_modelled_coverage: float
    weather: WeatherAdjustment | None = None
    """Set whenever the rest of the period was projected."""


def _cycle_date(year: int, month: int, cycle_day: int) -> date:
    """The cycle day in a month, clamped to the month's last day (e.g. 31 Feb)."""
    return date(year, month, min(cycle_day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def bill_period(cycle_day: int, on: date) -> BillPeriod:
    """The bill period containing ``on`` for an account billed on ``cycle_day``."""
    if not 1 <= cycle_day <= 31:
        raise ValueError(f"bill cycle day must be 1-31, got {cycle_day}")
    year, month = on.year, on.month
    if on < _cycle_date(year, month, cycle_day):
        year, month = _add_months(year, month, -1)
    next_year, next_month = _add_months(year, month, 1)
    return BillPeriod(
        start=_cycle_date(year, month, cycle_day),
        end=_cycle_date(next_year, next_month, cycle_day),
    )


def same_period_last_year(cycle_day: int, period: BillPeriod) -> BillPeriod:
    start = period.start
    return bill_period(cycle_day, _cycle_date(start.year - 1, start.month, cycle_day))


def possible_reads(days: Iterable[date]) -> int:
    """Half-hour reads a meter can produce on these days (46/48/50 each)."""
    return sum(periods_in_day(d) for d in days)


def idempotency_key(account_id: str, period: BillPeriod, rule: str = HIGH_BILL_RULE) -> str:
    """At most one notification per (account, bill period, rule)."""
    return f"{rule}:{account_id}:{period.label}"


def _heating_degree_days(temps: Sequence[float], base: float) -> float:
    return sum(max(0.0, base - t) for t in temps) / len(temps)


def weather_adjustment(
    recent: Sequence[date],
    remaining: Sequence[date],
    temperatures: Mapping[date, float] | None,
    config: ProjectionConfig,
) -> WeatherAdjustment:
    """Ratio of expected to recent mean heating degree-days, clamped.

    ``temperatures`` holds daily mean temperatures (observed for the recent
    window, forecast or seasonal normal for the rest). Without a full set, or
    when the recent window needed hardly any heating (the ratio would be
    noise), use is projected unadjusted (factor 1) and the note says why.
    """
    if not temperatures:
        return WeatherAdjustment(1.0, WeatherNote.NO_TEMPERATURES)
    if not recent or not remaining or any(d not in temperatures for d in (*recent, *remaining)):
        return WeatherAdjustment(1.0, WeatherNote.MISSING_TEMPERATURES)
    base = config.base_temperature_c
    recent_hdd = _heating_degree_days([temperatures[d] for d in recent], base)
    if recent_hdd < config.min_recent_degree_days:
        return WeatherAdjustment(1.0, WeatherNote.MILD_RECENT)
    expected_hdd = _heating_degree_days([temperatures[d] for d in remaining], base)
    low, high = config.weather_factor_bounds
    return WeatherAdjustment(min(high, max(low, expected_hdd / recent_hdd)), WeatherNote.ADJUSTED)


def weather_factor(
    recent: Sequence[date],
    remaining: Sequence[date],
    temperatures: Mapping[date, float] | None,
    config: ProjectionConfig,
) -> float:
    """The factor of :func:`weather_adjustment` alone."""
    return weather_adjustment(recent, remaining, temperatures, config).factor


@dataclass(frozen=True)
class _Window:
    kwh: float
    cost: float
    reads: int
    modelled: int
    possible: int


def _window(by_day: Mapping[date, DayUsage], days: Sequence[date]) -> _Window:
    rows = [by_day[d] for d in days if d in by_day]
    return _Window(
        kwh=sum(r.kwh for r in rows),
        cost=sum(r.cost for r in rows),
        reads=sum(r.reads for r in rows),
        modelled=sum(r.rate_modelled_reads for r in rows),
        possible=possible_reads(days),
    )


def _baseline(
    by_day: Mapping[date, DayUsage], period: BillPeriod, config: ProjectionConfig
) -> Baseline | None:
    """Last year's bill, or ``None`` when too patchy to compare with."""
    w = _window(by_day, period.days())
    if w.reads / w.possible < config.min_read_coverage or w.kwh <= 0:
        return None
    scale = w.possible / w.reads
    cost = w.cost * scale if w.modelled / w.reads >= config.min_rate_modelled else None
    return Baseline(period=period, usage=w.kwh * scale, cost=cost)


def evaluate_high_bill(
    account: Account,
    cycle_day: int,
    as_of: date,
    days: Iterable[DayUsage],
    history_start: date | None,
    threshold: EffectiveThreshold | None,
    temperatures: Mapping[date, float] | None = None,
    config: ProjectionConfig = ProjectionConfig(),
) -> Decision:
    """Decide whether the account's projected bill deserves a High Bill Alert.

    ``as_of`` is the first local day with no data expected yet (today, for
    D+1 data); the bill period is the one containing it. ``days`` holds any
    of the account's days: at least the period to date, the ``recent_days``
    before ``as_of`` and the same period last year. ``history_start`` is the
    first day the account has data for.

    The rule depends on the threshold: a personal cost threshold is an
    absolute amount (no history needed); a usage threshold is a percentage
    above last year's usage; the utility default alerts when usage, or cost
    where both bills can be priced, is more than the percentage above last year.
    """
    by_day = {d.day: d for d in days}
    period = bill_period(cycle_day, as_of)
    elapsed = [d for d in period.days() if d < as_of]
    remaining = [d for d in period.days() if d >= as_of]
    so_far = _window(by_day, elapsed)
    coverage = so_far.reads / so_far.possible if so_far.possible else 0.0
    modelled = so_far.modelled / so_far.reads if so_far.reads else 0.0

    def decide(
        reason: Reason,
        usage: float | None = None,
        cost: float | None = None,
        baseline: Baseline | None = None,
        weather: WeatherAdjustment | None = None,
    ) -> Decision:
        return Decision(
            alert=reason is Reason.ALERT,
            reason=reason,
            period=period,
            projected_usage=usage,
            projected_cost=cost,
            baseline=baseline,
            threshold=threshold,
            idempotency_key=idempotency_key(account.account_id, period),
            read_coverage=coverage,
            rate_modelled_coverage=modelled,
            weather=weather,
        )

    if threshold is None:
        return decide(Reason.NO_THRESHOLD)
    if coverage < config.min_read_coverage:
        return decide(Reason.INSUFFICIENT_READS)

    recent_days = [as_of - timedelta(days=i) for i in range(config.recent_days, 0, -1)]
    recent = _window(by_day, recent_days)
    weather = weather_adjustment(recent_days, remaining, temperatures, config)
    # Gaps so far are projected at the recent rate; only the days ahead get the weather factor.
    to_project = so_far.possible - so_far.reads + possible_reads(remaining) * weather.factor
    usage = so_far.kwh + (recent.kwh / recent.reads * to_project if recent.reads else 0.0)
    cost: float | None = None
    # A budget-billed bill is levelised, so only its usage says anything.
    if account.has_modelled_rates and not account.budget_billing and modelled >= config.min_rate_modelled:
        cost_to_date = so_far.cost * so_far.reads / so_far.modelled
        cost = cost_to_date + (recent.cost / recent.modelled * to_project if recent.modelled else 0.0)

    if threshold.kind == "cost":
        if cost is None:
            return decide(Reason.INSUFFICIENT_RATE_MODELLED, usage, weather=weather)
        return decide(_verdict(cost > float(threshold.value)), usage, cost, weather=weather)

    if history_start is None or (period.start - history_start).days < config.min_history_days:
        return decide(Reason.INSUFFICIENT_HISTORY, usage, cost, weather=weather)
    baseline = _baseline(by_day, same_period_last_year(cycle_day, period), config)
    if baseline is None:
        return decide(Reason.NO_BASELINE, usage, cost, weather=weather)
    ratio = 1 + float(threshold.value) / 100
    exceeded = usage > baseline.usage * ratio
    if threshold.kind == "combined" and cost is not None and baseline.cost is not None:
        exceeded = exceeded or cost > baseline.cost * ratio
    return decide(_verdict(exceeded), usage, cost, baseline, weather)


def _verdict(exceeded: bool) -> Reason:
    return Reason.ALERT if exceeded else Reason.BELOW_THRESHOLD
