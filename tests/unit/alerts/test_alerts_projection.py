"""Bill periods, projection, data sufficiency and the High Bill Alert decision."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.alerts.domain.projection import (
    BillPeriod,
    DayUsage,
    ProjectionConfig,
    Reason,
    bill_period,
    evaluate_high_bill,
    idempotency_key,
    possible_reads,
    WeatherNote,
    same_period_last_year,
    weather_adjustment,
    weather_factor,
)
from services.alerts.domain.thresholds import Account, EffectiveThreshold
from shared.hh import periods_in_day

PRICED = Account("ACC-1", "electricity", has_modelled_rates=True)
BUDGET = Account("ACC-3", "gas", has_modelled_rates=True, budget_billing=True)
UNPRICED = Account("ACC-2", "electricity", has_modelled_rates=False)

# June 2024 bill period (cycle day 1) evaluated on the 21st: 20 elapsed days x 48 = 960 possible reads.
CYCLE = 1
AS_OF = date(2024, 6, 21)
PERIOD = BillPeriod(date(2024, 6, 1), date(2024, 7, 1))
LAST_YEAR = BillPeriod(date(2023, 6, 1), date(2023, 7, 1))
LONG_HISTORY = date(2022, 1, 1)


def _threshold(source: str, kind: str, value: str) -> EffectiveThreshold:
    return EffectiveThreshold(source, kind, Decimal(value), "GBP", "", "/preferences/high-bill-alerts")  # type: ignore[arg-type]


DEFAULT_30 = _threshold("utility_default", "combined", "30")


def _days(start: date, end: date, per_read: float, price: float = 0.5, reads: int | None = None) -> list[DayUsage]:
    """Full days of constant use (kWh per half-hour) priced at ``price`` per kWh."""
    out = []
    day = start
    while day < end:
        n = periods_in_day(day) if reads is None else reads
        out.append(DayUsage(day, per_read * n, n, per_read * n * price, n))
        day += timedelta(days=1)
    return out


def _year_on_year(now_per_read: float, last_per_read: float = 1.0, now_price: float = 0.5, last_price: float = 0.5) -> list[DayUsage]:
    return _days(date(2023, 5, 1), date(2023, 7, 1), last_per_read, last_price) + _days(
        date(2024, 5, 1), AS_OF, now_per_read, now_price
    )


def _evaluate(days: list[DayUsage], threshold: EffectiveThreshold | None = DEFAULT_30, account: Account = PRICED, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("history_start", LONG_HISTORY)
    return evaluate_high_bill(account, CYCLE, AS_OF, days, threshold=threshold, **kw)


@pytest.mark.parametrize(
    ("cycle_day", "on", "start", "end"),
    [
        pytest.param(15, date(2024, 3, 14), date(2024, 2, 15), date(2024, 3, 15), id="day-before-cycle"),
        pytest.param(15, date(2024, 3, 15), date(2024, 3, 15), date(2024, 4, 15), id="on-cycle-day"),
        pytest.param(15, date(2024, 3, 16), date(2024, 3, 15), date(2024, 4, 15), id="day-after-cycle"),
        pytest.param(1, date(2024, 12, 31), date(2024, 12, 1), date(2025, 1, 1), id="year-end"),
        pytest.param(10, date(2025, 1, 5), date(2024, 12, 10), date(2025, 1, 10), id="wraps-back-a-year"),
        pytest.param(31, date(2024, 2, 29), date(2024, 2, 29), date(2024, 3, 31), id="day-31-clamped-leap-feb"),
        pytest.param(31, date(2024, 2, 28), date(2024, 1, 31), date(2024, 2, 29), id="day-31-before-clamp"),
        pytest.param(30, date(2023, 3, 1), date(2023, 2, 28), date(2023, 3, 30), id="day-30-feb"),
    ],
)
def test_bill_period(cycle_day: int, on: date, start: date, end: date) -> None:
    assert bill_period(cycle_day, on) == BillPeriod(start, end)


@pytest.mark.parametrize("cycle_day", [0, 32])
def test_bill_cycle_day_must_be_a_day_of_month(cycle_day: int) -> None:
    with pytest.raises(ValueError):
        bill_period(cycle_day, date(2024, 1, 1))


def test_same_period_last_year() -> None:
    assert same_period_last_year(CYCLE, PERIOD) == LAST_YEAR
    leap = bill_period(29, date(2024, 3, 1))
    assert same_period_last_year(29, leap) == BillPeriod(date(2023, 2, 28), date(2023, 3, 29))


@pytest.mark.parametrize(
    ("day", "reads"),
    [
        pytest.param(date(2024, 3, 31), 46, id="spring-clock-change"),
        pytest.param(date(2024, 10, 27), 50, id="autumn-clock-change"),
        pytest.param(date(2024, 6, 1), 48, id="normal"),
    ],
)
def test_possible_reads_follow_settlement_days(day: date, reads: int) -> None:
    assert possible_reads([day]) == reads


# --- data sufficiency (Opower): reads since cycle start, rate-modelled reads, history ------------


@pytest.mark.parametrize(
    ("reads", "reason"),
    [
        pytest.param(719, Reason.INSUFFICIENT_READS, id="74.9%"),
        pytest.param(720, Reason.ALERT, id="75%"),
    ],
)
def test_read_coverage_boundary(reads: int, reason: Reason) -> None:
    current = [d for d in _year_on_year(2.0) if d.day < PERIOD.start or d.day >= AS_OF]
    elapsed = _days(PERIOD.start, AS_OF, 2.0, reads=36)  # 20 x 36 = 720 of 960
    if reads == 719:
        elapsed[0] = DayUsage(elapsed[0].day, 2.0 * 35, 35, 0.5 * 2.0 * 35, 35)
    decision = _evaluate(current + elapsed)
    assert decision.reason is reason
    assert decision.alert is (reason is Reason.ALERT)
    assert decision.read_coverage == pytest.approx(reads / 960)


@pytest.mark.parametrize(
    ("modelled", "reason"),
    [
        pytest.param(911, Reason.INSUFFICIENT_RATE_MODELLED, id="94.9%"),
        pytest.param(912, Reason.ALERT, id="95%"),
    ],
)
def test_rate_modelled_boundary_for_cost(modelled: int, reason: Reason) -> None:
    days = [d for d in _days(date(2024, 5, 1), AS_OF, 1.0) if d.day < PERIOD.start]
    elapsed = _days(PERIOD.start, AS_OF, 1.0)  # 960 reads, all priced
    short = 960 - modelled  # take the shortfall off the first day
    first = elapsed[0]
    elapsed[0] = DayUsage(first.day, first.kwh, first.reads, first.cost * (48 - short) / 48, 48 - short)
    decision = _evaluate(days + elapsed, _threshold("personal", "cost", "100"))
    assert decision.reason is reason
    assert decision.rate_modelled_coverage == pytest.approx(modelled / 960)
    assert (decision.projected_cost is None) is (reason is Reason.INSUFFICIENT_RATE_MODELLED)


@pytest.mark.parametrize(
    ("history_days", "reason"),
    [
        pytest.param(364, Reason.INSUFFICIENT_HISTORY, id="364-days"),
        pytest.param(365, Reason.ALERT, id="365-days"),
    ],
)
def test_history_boundary_for_same_period_comparison(history_days: int, reason: Reason) -> None:
    decision = _evaluate(_year_on_year(2.0), history_start=PERIOD.start - timedelta(days=history_days))
    assert decision.reason is reason


def test_no_history_at_all_is_insufficient() -> None:
    assert _evaluate(_year_on_year(2.0), history_start=None).reason is Reason.INSUFFICIENT_HISTORY


def test_personal_cost_threshold_needs_no_history() -> None:
    decision = _evaluate(_year_on_year(2.0), _threshold("personal", "cost", "10"), history_start=None)
    assert decision.reason is Reason.ALERT


def test_patchy_last_year_gives_no_baseline() -> None:
    days = _days(date(2023, 6, 1), date(2023, 6, 20), 1.0) + _days(date(2024, 5, 1), AS_OF, 2.0)
    decision = _evaluate(days)
    assert decision.reason is Reason.NO_BASELINE
    assert not decision.alert


def test_zero_usage_last_year_gives_no_baseline() -> None:
    decision = _evaluate(_year_on_year(2.0, last_per_read=0.0))
    assert decision.reason is Reason.NO_BASELINE


def test_unpriced_last_year_falls_back_to_usage_comparison() -> None:
    days = [replace(d, rate_modelled_reads=0, cost=0.0) if d.day.year == 2023 else d for d in _year_on_year(1.0, now_price=5.0)]
    decision = _evaluate(days)
    assert decision.baseline is not None and decision.baseline.cost is None
    assert decision.projected_cost is not None
    assert decision.reason is Reason.BELOW_THRESHOLD


def test_first_day_of_period_has_no_reads_yet() -> None:
    decision = evaluate_high_bill(PRICED, CYCLE, PERIOD.start, _year_on_year(2.0), LONG_HISTORY, DEFAULT_30)
    assert decision.reason is Reason.INSUFFICIENT_READS


def test_water_without_threshold_records_reason() -> None:
    decision = _evaluate(_year_on_year(5.0), threshold=None)
    assert (decision.alert, decision.reason) == (False, Reason.NO_THRESHOLD)


# --- the comparison itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "now_per_read", "alert"),
    [
        # "alert triggers only when cost or usage is greater than the set threshold"
        pytest.param("0", 1.0, False, id="0%-equal-usage"),
        pytest.param("0", 1.0625, True, id="0%-any-increase"),
        pytest.param("25", 1.25, False, id="25%-exactly"),
        pytest.param("25", 1.3125, True, id="25%-above"),
        pytest.param("1000", 11.0, False, id="1000%-exactly"),
        pytest.param("1000", 11.5, True, id="1000%-above"),
    ],
)
def test_usage_threshold_is_strictly_greater(threshold: str, now_per_read: float, alert: bool) -> None:
    decision = _evaluate(_year_on_year(now_per_read), _threshold("personal", "usage", threshold), account=UNPRICED)
    assert decision.alert is alert
    assert decision.projected_usage == pytest.approx(now_per_read * 1440)
    assert decision.baseline is not None and decision.baseline.usage == pytest.approx(1440)
    assert decision.projected_cost is None  # no modelled rates


@pytest.mark.parametrize(
    ("amount", "alert"),
    [
        # 1 kWh per read at 0.5 per kWh over 1440 reads: projected bill 720
        pytest.param("720", False, id="equal-to-threshold"),
        pytest.param("719.99", True, id="just-above-threshold"),
        pytest.param("1", True, id="minimum-1"),
        pytest.param("100000000", False, id="maximum"),
    ],
)
def test_cost_threshold_is_absolute(amount: str, alert: bool) -> None:
    decision = _evaluate(_year_on_year(1.0), _threshold("personal", "cost", amount))
    assert decision.projected_cost == pytest.approx(720)
    assert decision.alert is alert
    assert decision.baseline is None


@pytest.mark.parametrize(
    ("account", "now_price", "alert"),
    [
        # same usage, price up 50 %: the default's cost leg fires only when cost can be projected
        pytest.param(PRICED, 0.75, True, id="priced-cost-leg"),
        pytest.param(UNPRICED, 0.75, False, id="unpriced-usage-only"),
        pytest.param(PRICED, 0.6, False, id="priced-cost-up-20%"),
        pytest.param(BUDGET, 0.75, False, id="budget-billing-usage-only"),
    ],
)
def test_utility_default_combines_usage_and_cost(account: Account, now_price: float, alert: bool) -> None:
    decision = _evaluate(_year_on_year(1.0, now_price=now_price), DEFAULT_30, account=account)
    assert decision.alert is alert


def test_missing_reads_so_far_are_projected_at_the_recent_rate() -> None:
    full = _evaluate(_year_on_year(2.0))
    gappy = [d for d in _year_on_year(2.0) if d.day not in (date(2024, 6, 2), date(2024, 6, 3))]
    decision = _evaluate(gappy)
    assert decision.projected_usage == pytest.approx(full.projected_usage)


def test_revised_data_reevaluates_under_the_same_key() -> None:
    before = _evaluate(_year_on_year(1.0))
    after = _evaluate(_year_on_year(2.0))
    assert (before.alert, after.alert) == (False, True)
    assert before.idempotency_key == after.idempotency_key == idempotency_key("ACC-1", PERIOD)
    assert after.idempotency_key == "high_bill:ACC-1:2024-06-01/2024-07-01"


def test_next_period_has_a_new_key() -> None:
    assert idempotency_key("ACC-1", PERIOD) != idempotency_key("ACC-1", bill_period(CYCLE, PERIOD.end))


# --- weather adjustment ------------------------------------------------------------------------

RECENT = [AS_OF - timedelta(days=i) for i in range(14, 0, -1)]
REST = PERIOD.days()[20:]


def _temps(recent: float, rest: float) -> dict[date, float]:
    return {**{d: recent for d in RECENT}, **{d: rest for d in REST}}


@pytest.mark.parametrize(
    ("temperatures", "factor"),
    [
        pytest.param(None, 1.0, id="no-temperatures"),
        pytest.param(_temps(10.5, 5.5), 2.0, id="colder-ahead"),  # 5 -> 10 degree-days
        pytest.param(_temps(5.5, 10.5), 0.5, id="milder-ahead"),
        pytest.param(_temps(11.5, -4.5), 2.0, id="clamped-high"),  # 4 -> 20
        pytest.param(_temps(10.5, 15.5), 0.5, id="clamped-low"),  # 5 -> 0
        pytest.param(_temps(15.0, 5.0), 1.0, id="recent-warm-no-adjustment"),  # 0.5 dd
        pytest.param({d: 5.0 for d in RECENT}, 1.0, id="missing-forecast"),
    ],
)
def test_weather_factor(temperatures: dict[date, float] | None, factor: float) -> None:
    assert weather_factor(RECENT, REST, temperatures, ProjectionConfig()) == pytest.approx(factor)


def test_weather_adjusts_only_the_days_ahead() -> None:
    plain = _evaluate(_year_on_year(1.0))
    colder = _evaluate(_year_on_year(1.0), temperatures=_temps(10.5, 5.5))
    assert plain.projected_usage == pytest.approx(1440)
    assert colder.projected_usage == pytest.approx(960 + 2 * 480)


@pytest.mark.parametrize(
    ("temperatures", "note"),
    [
        pytest.param(None, WeatherNote.NO_TEMPERATURES, id="none"),
        pytest.param({d: t for d, t in _temps(10.5, 5.5).items() if d != REST[-1]}, WeatherNote.MISSING_TEMPERATURES,
                     id="a-day-missing"),
        pytest.param(_temps(15.0, 5.0), WeatherNote.MILD_RECENT, id="mild-recent"),
        pytest.param(_temps(10.5, 5.5), WeatherNote.ADJUSTED, id="adjusted"),
    ],
)
def test_weather_adjustment_says_why(temperatures: dict[date, float] | None, note: WeatherNote) -> None:
    adjustment = weather_adjustment(RECENT, REST, temperatures, ProjectionConfig())
    assert adjustment.note is note
    assert (adjustment.factor == 1.0) is (note is not WeatherNote.ADJUSTED)


def test_a_colder_rest_of_period_tips_the_projection_into_an_alert() -> None:
    # 20% above last June so far: within the 30% default unless the days ahead need twice the heating.
    plain = _evaluate(_year_on_year(1.2))
    colder = _evaluate(_year_on_year(1.2), temperatures=_temps(10.5, 5.5))
    assert plain.reason is Reason.BELOW_THRESHOLD and plain.projected_usage == pytest.approx(1.2 * 1440)
    assert colder.reason is Reason.ALERT and colder.projected_usage == pytest.approx(1.2 * (960 + 2 * 480))
    assert colder.projected_usage > plain.projected_usage
    assert (colder.weather.factor, colder.weather.note) == (pytest.approx(2.0), WeatherNote.ADJUSTED)
    assert plain.weather.note is WeatherNote.NO_TEMPERATURES


def test_a_missing_temperature_projects_unadjusted_and_says_so() -> None:
    gappy = {d: t for d, t in _temps(10.5, 5.5).items() if d != REST[3]}
    decision = _evaluate(_year_on_year(1.2), temperatures=gappy)
    assert decision.reason is Reason.BELOW_THRESHOLD and decision.projected_usage == pytest.approx(1.2 * 1440)
    assert (decision.weather.factor, decision.weather.note) == (1.0, WeatherNote.MISSING_TEMPERATURES)


def test_no_projection_no_weather_record() -> None:
    assert _evaluate(_days(date(2024, 6, 1), AS_OF, 1.0, reads=20)).weather is None  # insufficient reads
