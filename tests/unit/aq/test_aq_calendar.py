"""The business calendar: a full gas year, corrections, the snapshot window, winter consumption, NRL export."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.aq.domain.calculation import FailureReason
from services.aq.domain.calendar import (
    AqCalculated,
    AqFailureNotice,
    Confirmation,
    Correction,
    CorrectionDecision,
    CorrectionReason,
    FormulaYearSnapshot,
    NrlRow,
    OfferAddendum,
    Read,
    SupplyMeterPoint,
    TrfRow,
    WinterConsumptionFailure,
    WinterConsumptionSuccess,
    correction_rejection,
    in_snapshot_window,
    nrl_csv,
    step,
)
from services.aq.domain.dates import add_months, date_range

M3_PER_MONTH = 3_000.0  # ~34,000 kWh a month: an AQ around 400,000 kWh, EUC 03B


def _read(day: date) -> Read:
    months = (day.year - 2022) * 12 + day.month - 9
    return Read(day, M3_PER_MONTH * months)


def _point(**changes) -> SupplyMeterPoint:
    """A class 4 point with monthly reads on the 5th from Sep 2022 to Sep 2023, filed in the wrong EUC."""
    history = tuple(_read(add_months(date(2022, 9, 5), m)) for m in range(13))
    base = SupplyMeterPoint(
        mprn="1234567890",
        confirmation=Confirmation.CO,
        meter_class=4,
        ldz="EA",
        euc="02B",
        registered_on=date(2015, 1, 1),
        aq_kwh=400_000.0,
        formula_year_aq_kwh=400_000.0,
        outstanding_offer=True,
        confirmed_on=date(2015, 1, 1),
        reads=history,
    )
    return replace(base, **changes)


def _run(point, reference, start: date, end: date, corrections=None, reads=True):
    """Step day by day over [start, end); reads arrive on the 5th, corrections on their given day."""
    outputs = []
    for day in date_range(start, end):
        received = [_read(day)] if reads and day.day == 5 else []
        point, out = step(point, day, reference, received, (corrections or {}).get(day, ()))
        outputs.extend(out)
    return point, outputs


def _dates(outputs, kind) -> list[date]:
    return [getattr(o, "issued_on", None) or getattr(o, "calculated_on", None) or o.taken_on for o in outputs if type(o) is kind]


M5_DATES = [
    date(2023, 10, 27), date(2023, 11, 26), date(2023, 12, 27), date(2024, 1, 27),
    date(2024, 2, 25),  # leap year: 1 March - 5 days
    date(2024, 3, 27), date(2024, 4, 26), date(2024, 5, 27), date(2024, 6, 26),
    date(2024, 7, 27), date(2024, 8, 27), date(2024, 9, 26),
]  # fmt: skip


def test_a_full_gas_year(synthetic) -> None:
    point, outputs = _run(_point(), synthetic, date(2023, 10, 1), date(2024, 10, 2))

    calculated = [o for o in outputs if isinstance(o, AqCalculated)]
    assert [o.calculated_on for o in calculated] == [date(y, m, 10) for y, m in [(2023, 10), (2023, 11), (2023, 12)]] + [
        date(2024, m, 10) for m in range(1, 10)
    ]
    assert all(o.effective_from == add_months(o.calculated_on.replace(day=1), 1) for o in calculated)
    assert all(add_months(o.read_start, 12) <= o.read_end for o in calculated)
    assert _dates(outputs, NrlRow) == M5_DATES
    nrl = [o for o in outputs if isinstance(o, NrlRow)]
    assert [r.aq_kwh for r in nrl] == [o.aq_kwh for o in calculated]
    assert all(r.soq_kwh is not None and r.effective_from == add_months(r.issued_on.replace(day=1), 1) for r in nrl)

    (snapshot,) = [o for o in outputs if isinstance(o, FormulaYearSnapshot)]
    assert snapshot.taken_on == date(2023, 12, 1) and snapshot.effective_from == date(2024, 4, 1)
    assert snapshot.aq_kwh == calculated[1].aq_kwh  # the AQ live on 1 December, calculated 10 November
    assert [r.formula_year_aq_kwh for r in nrl[:5]] == [400_000.0] * 5
    assert all(r.formula_year_aq_kwh == snapshot.aq_kwh for r in nrl[5:])  # from the NRL for 1 April

    addenda = [o for o in outputs if isinstance(o, OfferAddendum)]
    assert [(a.issued_on, a.reason) for a in addenda] == [(date(2024, 3, 27), "formula_year_aq"), (date(2024, 9, 26), "euc")]
    assert [r.euc for r in nrl] == ["02B"] * 11 + ["03B"]  # new EUCs only in the September NRL

    assert _dates(outputs, WinterConsumptionSuccess) == [date(2024, 5, 27), date(2024, 9, 26)]
    assert [r.winter_consumption_kwh is not None for r in nrl] == [m in (5, 9) for m in range(10, 13)] + [
        m in (5, 9) for m in range(1, 10)
    ]
    assert not [o for o in outputs if isinstance(o, (AqFailureNotice, WinterConsumptionFailure, CorrectionDecision))]

    assert point.euc == "03B" and point.formula_year_aq_kwh == snapshot.aq_kwh
    assert point.aq_kwh == calculated[-1].aq_kwh
    assert point.winter_consumption_kwh == nrl[-1].winter_consumption_kwh
    assert point.soq_kwh == pytest.approx(point.aq_kwh / (365 * 0.39))


def test_no_read_no_calculation_and_rq_goes_to_transfer(synthetic) -> None:
    point, outputs = _run(_point(confirmation=Confirmation.RQ), synthetic, date(2023, 10, 1), date(2023, 11, 1))
    assert [type(o) for o in outputs] == [AqCalculated, TrfRow]
    _, outputs = _run(point, synthetic, date(2023, 11, 1), date(2023, 12, 1), reads=False)
    assert outputs == []


def test_failure_keeps_previous_aq_and_is_notified_at_m5(synthetic) -> None:
    point = _point(registered_on=date(2023, 5, 1))  # new point: ineligible until 1 Feb 2024
    point, outputs = _run(point, synthetic, date(2023, 10, 1), date(2023, 11, 2))
    (notice,) = outputs
    assert isinstance(notice, AqFailureNotice)
    assert (notice.issued_on, notice.reason, notice.previous_aq_kwh) == (date(2023, 10, 27), FailureReason.NEW_POINT, 400_000.0)
    assert point.aq_kwh == 400_000.0


@pytest.mark.parametrize(("gap", "expected"), [(date(2023, 3, 14), FailureReason.CONSUMPTION_GAP),
                                               (None, FailureReason.PERIOD_TOO_SHORT)])
def test_an_hh_gap_that_restarted_the_index_fails_as_a_consumption_gap(synthetic, gap, expected) -> None:
    """The HH index restarted after the gap, so its 7 months are all there is: the operator is told why."""
    hh = (Read(date(2023, 3, 15), 0.0, "kWh"), Read(date(2023, 10, 10), 230_000.0, "kWh"))
    point = _point(reads=hh, consumption_gap=gap, read_since_close_out=True)
    point, outputs = _run(point, synthetic, date(2023, 10, 1), date(2023, 11, 2), reads=False)
    (notice,) = [o for o in outputs if isinstance(o, AqFailureNotice)]
    assert (notice.issued_on, notice.reason, notice.previous_aq_kwh) == (date(2023, 10, 27), expected, 400_000.0)
    assert (notice.read_start, notice.read_end) == (date(2023, 3, 15), date(2023, 10, 10))
    assert not [o for o in outputs if isinstance(o, AqCalculated)] and point.aq_kwh == 400_000.0


@pytest.mark.parametrize(
    ("changes", "correction", "day", "expected"),
    [
        ({}, Correction("c", "1234567890", CorrectionReason.CONFIRMED_THEFT, 1.0), date(2024, 1, 15), None),
        ({}, Correction("c", "999", CorrectionReason.CONFIRMED_THEFT, 1.0), date(2024, 1, 15), "unknown_mprn"),
        ({}, Correction("c", "1234567890", "looked_too_high", 1.0), date(2024, 1, 15), "unknown_reason"),
        ({}, Correction("c", "1234567890", CorrectionReason.CHANGE_IN_CONSUMER_PLANT, 0.0), date(2024, 1, 15), "invalid_aq"),
        ({}, Correction("c", "1234567890", CorrectionReason.READ_TOLERANCE_FAILURE, float("nan")), date(2024, 1, 15), "invalid_aq"),
        ({"isolated": True}, Correction("c", "1234567890", CorrectionReason.CONFIRMED_THEFT, 1.0), date(2024, 1, 15), "isolated"),
        ({"confirmed_on": date(2023, 10, 15)}, Correction("c", "1234567890", CorrectionReason.NEW_BUSINESS, 1.0), date(2024, 1, 15), None),
        ({"confirmed_on": date(2023, 10, 14)}, Correction("c", "1234567890", CorrectionReason.NEW_BUSINESS, 1.0), date(2024, 1, 15), "new_business_window_expired"),
        ({"confirmed_on": None}, Correction("c", "1234567890", CorrectionReason.NEW_BUSINESS, 1.0), date(2024, 1, 15), "new_business_window_expired"),
        ({}, Correction("c", "1234567890", CorrectionReason.WINTER_CONSUMPTION_CORRECTION, 5.0), date(2024, 1, 15), None),
    ],
)  # fmt: skip
def test_correction_acceptance_rules(changes, correction: Correction, day: date, expected) -> None:
    assert correction_rejection(_point(**changes), day, correction) == expected


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2023, 11, 30), False), (date(2023, 12, 1), True), (date(2024, 1, 31), True),
        (date(2024, 2, 29), True), (date(2024, 3, 10), True), (date(2024, 3, 11), False), (date(2024, 4, 2), False),
    ],
)  # fmt: skip
def test_snapshot_replacement_window(synthetic, day: date, inside: bool) -> None:
    point = _point(snapshot_aq_kwh=410_000.0)
    point, _ = step(point, day, synthetic, corrections=[Correction("c", point.mprn, CorrectionReason.CONFIRMED_THEFT, 600_000.0)])
    assert in_snapshot_window(day) == inside
    assert point.snapshot_aq_kwh == (600_000.0 if inside else 410_000.0)


def test_accepted_correction_in_winter_replaces_snapshot_and_sets_backstop(synthetic) -> None:
    theft = Correction("c-1", "1234567890", CorrectionReason.CONFIRMED_THEFT, 650_000.0)
    point, outputs = _run(_point(), synthetic, date(2023, 10, 1), date(2024, 4, 2), {date(2024, 1, 15): [theft]})

    decision = next(o for o in outputs if isinstance(o, CorrectionDecision))
    assert (decision.accepted, decision.reason_code, decision.effective_from) == (True, "accepted", date(2024, 2, 1))
    addendum = next(o for o in outputs if isinstance(o, OfferAddendum))
    assert (addendum.issued_on, addendum.reason, addendum.formula_year_aq_kwh) == (date(2024, 1, 15), "correction", 650_000.0)
    # The correction won over the rolling AQ calculated on 10 January for 1 February.
    assert next(o for o in outputs if isinstance(o, NrlRow) and o.issued_on == date(2024, 1, 27)).aq_kwh == 650_000.0
    # Reads before the backstop (15 Jan) can no longer be used: later calculations fail.
    failures = [o for o in outputs if isinstance(o, AqFailureNotice)]
    assert [(f.issued_on, f.reason) for f in failures] == [
        (date(2024, 2, 25), FailureReason.READ_BEFORE_BACKSTOP),
        (date(2024, 3, 27), FailureReason.READ_BEFORE_BACKSTOP),
    ]
    assert point.backstop_date == date(2024, 1, 15)
    assert point.aq_kwh == point.formula_year_aq_kwh == 650_000.0  # the snapshot was replaced
    assert not [o for o in outputs if isinstance(o, OfferAddendum) and o.issued_on == date(2024, 3, 27)]


def test_rejected_correction_changes_nothing(synthetic) -> None:
    point = _point()
    bad = Correction("c-2", point.mprn, CorrectionReason.NEW_BUSINESS, 1.0)
    after, outputs = step(point, date(2024, 1, 15), synthetic, corrections=[bad])
    assert outputs == [CorrectionDecision("c-2", point.mprn, date(2024, 1, 15), False, "new_business_window_expired")]
    assert after == point


def test_correction_after_march_close_out_still_sets_formula_year_from_april(synthetic) -> None:
    plant = Correction("c-3", "1234567890", CorrectionReason.CHANGE_IN_CONSUMER_PLANT, 700_000.0)
    point = _point(snapshot_aq_kwh=410_000.0)
    point, _ = _run(point, synthetic, date(2024, 3, 11), date(2024, 4, 2), {date(2024, 3, 11): [plant]})
    assert point.formula_year_aq_kwh == 700_000.0


def test_class_2_correction_changes_aq_but_not_formula_year(synthetic) -> None:
    plant = Correction("c-4", "1234567890", CorrectionReason.CHANGE_IN_CONSUMER_PLANT, 700_000.0)
    point, outputs = _run(_point(meter_class=2), synthetic, date(2024, 6, 11), date(2024, 7, 2), {date(2024, 6, 11): [plant]})
    assert point.aq_kwh == 700_000.0 and point.formula_year_aq_kwh == 400_000.0
    assert point.soq_kwh is None


def test_winter_consumption_failure_is_t51(synthetic) -> None:
    point = _point(reads=())  # no reads bracket the winter
    point, outputs = _run(point, synthetic, date(2024, 5, 1), date(2024, 6, 1), reads=False)
    (failure,) = [o for o in outputs if isinstance(o, WinterConsumptionFailure)]
    assert (failure.issued_on, failure.reason) == (date(2024, 5, 27), FailureReason.MISSING_READ)
    (row,) = [o for o in outputs if isinstance(o, NrlRow)]  # the May NRL goes out even without a new AQ
    assert row.winter_consumption_kwh is None


def test_winter_consumption_not_for_small_or_dm_points(synthetic) -> None:
    for point in (_point(aq_kwh=293_000.0), _point(meter_class=1)):
        _, outputs = _run(point, synthetic, date(2024, 5, 1), date(2024, 6, 1))
        assert not [o for o in outputs if isinstance(o, (WinterConsumptionSuccess, WinterConsumptionFailure))]


def test_september_review_caps_winter_consumption_at_october_aq(synthetic) -> None:
    point = _point(proposed_winter_consumption_kwh=900_000.0, reads=())
    point, outputs = step(point, date(2024, 9, 26), synthetic)
    (t50,) = [o for o in outputs if isinstance(o, WinterConsumptionSuccess)]
    assert (t50.winter_consumption_kwh, t50.effective_from) == (400_000.0, date(2024, 10, 1))
    (row,) = [o for o in outputs if isinstance(o, NrlRow)]
    assert (row.euc, row.winter_consumption_kwh) == ("03B", 400_000.0)
    point, _ = step(point, date(2024, 10, 1), synthetic)
    assert (point.euc, point.winter_consumption_kwh) == ("03B", 400_000.0)


def test_nrl_csv_export() -> None:
    rows = [
        NrlRow("1234567890", date(2024, 2, 25), date(2024, 3, 1), Confirmation.CO, 4, 401_955.43, 2823.71, "03B", 412_426.6, None),
        TrfRow("9876543", date(2024, 2, 25), date(2024, 3, 1), Confirmation.RQ, 1, 1_000.0, None, "01B", 1_000.0, 250.4),
    ]
    assert nrl_csv(rows).splitlines() == [
        "record_type,mprn,issued_on,effective_from,confirmation,meter_class,aq_kwh,soq_kwh,euc,formula_year_aq_kwh,winter_consumption_kwh",
        "T04,1234567890,2024-02-25,2024-03-01,CO,4,401955,2824,03B,412427,",
        "TRF,9876543,2024-02-25,2024-03-01,RQ,1,1000,,01B,1000,250",
    ]
    assert nrl_csv([]).count("\n") == 1
