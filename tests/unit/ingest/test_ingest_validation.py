"""Validation and onboarding rules, table-driven at their boundaries."""
from __future__ import annotations

from datetime import date

import pytest

from services.ingest.domain.model import ParsedMeterDay, ParsedRegisterRead, Problem, RowRejection
from services.ingest.domain.validation import (
    NOT_ONBOARDED_HH, AcceptedMeterDay, MeterHistory, SupplyPointInfo, ValidationRules, onboarding_decision,
    validate_meter_day, validate_register_read,
)

TODAY = date(2019, 11, 14)
DAY = date(2019, 11, 13)
SMART_POWER = SupplyPointInfo("2000000000001", "electricity", "smart", "03")
HISTORY = MeterHistory(days=30, p95_period_kwh=1.0)


def meter_day(values=None, quality=None, day=DAY, problems=()) -> ParsedMeterDay:
    values = [0.5] * 48 if values is None else values
    quality = quality or "".join("-" if v is None else "A" for v in values)
    return ParsedMeterDay(2, "2000000000001", day, values, quality, problems=tuple(problems))


@pytest.mark.parametrize(("fuel", "meter", "pc", "settlement", "onboarded", "reason"), [
    ("gas", "amr", None, "nhh", True, "amr gas is onboarded"),
    ("gas", "smart", None, "nhh", True, "smart gas is onboarded"),
    ("electricity", "smart", "01", "nhh", True, "smart power is onboarded"),
    ("electricity", "smart", None, "nhh", True, "smart power is onboarded"),
    ("electricity", "amr", "01", "nhh", True, "NHH AMR power in profile class 01 is onboarded"),
    ("electricity", "amr", "8", "nhh", True, "NHH AMR power in profile class 08 is onboarded"),
    ("electricity", "amr", "08", "nhh", True, "NHH AMR power in profile class 08 is onboarded"),
    ("electricity", "amr", "09", "nhh", False, "AMR power needs profile class 01-08, got 09"),
    ("electricity", "amr", None, "nhh", False, "AMR power needs profile class 01-08, got none"),
    ("electricity", "amr", "00", "nhh", False, NOT_ONBOARDED_HH),
    ("electricity", "amr", "03", "hh", False, NOT_ONBOARDED_HH),
    ("electricity", "smart", "00", "hh", False, NOT_ONBOARDED_HH),
])
def test_onboarding_decision(fuel, meter, pc, settlement, onboarded, reason):
    sp = SupplyPointInfo("x", fuel, meter, pc, settlement)
    assert onboarding_decision(sp) == (onboarded, reason)


@pytest.mark.parametrize(("change", "code"), [
    ({"sp": None}, "unknown_mpxn"),
    ({"sp": SMART_POWER._replace(settlement="hh", profile_class="00")}, "not_onboarded"),
    ({"sp": SMART_POWER._replace(enrolment_status="opted_out")}, "opted_out"),
    ({"day": meter_day(day=date(2019, 11, 15))}, "future_date"),
    ({"day": meter_day(values=[0.5] * 47)}, "period_count"),
    ({"day": meter_day(values=[0.5] * 50)}, "period_count"),
    ({"day": meter_day(values=[0.5] * 48, day=date(2019, 3, 31))}, "period_count"),
    ({"day": meter_day(problems=[Problem("conflicting_duplicate", "x")])}, "conflicting_duplicate"),
    ({"day": meter_day(problems=[Problem("non_numeric", "'abc' at 05:00 is not a number")])}, "non_numeric"),
    ({"day": meter_day(values=[0.5] * 47 + [-0.001])}, "negative_value"),
])
def test_rejections(change, code):
    day = change.get("day", meter_day())
    sp = change.get("sp", SMART_POWER)
    out = validate_meter_day(day, sp, TODAY, HISTORY)
    assert isinstance(out, RowRejection) and out.reason_code == code
    assert (out.row_number, out.mpxn, out.settlement_date) == (2, day.mpxn, day.settlement_date)
    assert out.reason


def test_first_failing_rule_wins_and_reasons_are_readable():
    out = validate_meter_day(meter_day(values=[-1.0] * 47), SMART_POWER._replace(settlement="hh"), TODAY)
    assert (out.reason_code, out.reason) == ("not_onboarded", "import/export sites not supported yet")
    out = validate_meter_day(meter_day(values=[-1.0] + [0.5] * 47), SMART_POWER, TODAY)
    assert out.reason == "negative consumption in period(s) 1"


@pytest.mark.parametrize(("day", "accepted"), [(DAY, True), (TODAY, True), (date(2019, 11, 15), False)])
def test_future_date_boundary(day, accepted):
    out = validate_meter_day(meter_day(day=day), SMART_POWER, TODAY)
    assert isinstance(out, AcceptedMeterDay) is accepted


def test_opt_out_window_still_open_is_accepted_and_held_downstream():
    sp = SMART_POWER._replace(enrolment_status="pending_opt_out")
    assert isinstance(validate_meter_day(meter_day(), sp, TODAY), AcceptedMeterDay)


@pytest.mark.parametrize(("values", "history", "flags"), [
    ([0.5] * 48, HISTORY, ()),
    ([0.5] * 47 + [10.0], HISTORY, ()),                  # exactly 10 x p95: not a spike
    ([0.5] * 47 + [10.01], HISTORY, ("spike",)),
    ([0.5] * 47 + [4.9], MeterHistory(30, 0.1), ()),     # under the absolute floor
    ([0.5] * 47 + [5.1], MeterHistory(30, 0.1), ("spike",)),
    ([0.5] * 47 + [50.0], MeterHistory(6, 0.1), ()),     # too little history to judge
    ([0.5] * 47 + [50.0], None, ()),
    ([0.0] * 48, HISTORY, ("zero_on_active",)),
    ([0.0] * 46 + [None, None], HISTORY, ("zero_on_active",)),
    ([None] * 48, HISTORY, ()),
])
def test_flags_keep_the_data(values, history, flags):
    out = validate_meter_day(meter_day(values=values), SMART_POWER, TODAY, history)
    assert isinstance(out, AcceptedMeterDay) and out.flags == flags
    assert out.day.values == values  # missing stays missing


def test_zero_on_inactive_meter_is_not_flagged_and_estimates_are():
    out = validate_meter_day(meter_day(values=[0.0] * 48), SMART_POWER._replace(active=False), TODAY)
    assert out.flags == ()
    out = validate_meter_day(meter_day(quality="E" + "A" * 47), SMART_POWER, TODAY)
    assert out.flags == ("estimated",)


def test_spike_rule_is_configurable():
    rules = ValidationRules(spike_factor=2.0, spike_floor_kwh=0.0, min_history_days=1)
    out = validate_meter_day(meter_day(values=[0.5] * 47 + [2.5]), SMART_POWER, TODAY, HISTORY, rules)
    assert out.flags == ("spike",)


@pytest.mark.parametrize(("read", "sp", "code"), [
    (ParsedRegisterRead(2, "1234567", DAY, 100.0), SupplyPointInfo("1234567", "gas", "amr"), None),
    (ParsedRegisterRead(2, "1234567", DAY, 100.0), None, "unknown_mpxn"),
    (ParsedRegisterRead(2, "1234567", date(2019, 11, 15), 100.0), SupplyPointInfo("1234567", "gas", "amr"), "future_date"),
    (ParsedRegisterRead(2, "1234567", DAY, -1.0), SupplyPointInfo("1234567", "gas", "amr"), "negative_value"),
    (ParsedRegisterRead(2, "1234567", DAY, 1.0),
     SupplyPointInfo("1234567", "gas", "amr", enrolment_status="opted_out"), "opted_out"),
])
def test_register_read_validation(read, sp, code):
    out = validate_register_read(read, sp, TODAY)
    assert (out.reason_code if isinstance(out, RowRejection) else None) == code
