"""The aq service's pure helpers: the HH index chain, the state codec, output records, reference overlay."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import numpy as np

from services.aq.adapters.codec import decode_chain, decode_point, encode_chain, encode_point
from services.aq.adapters.records import records_of
from services.aq.bench import run as bench_run
from services.aq.domain.calculation import FailureReason
from services.aq.domain.calendar import (
    AqFailureNotice,
    Confirmation,
    Correction,
    CorrectionDecision,
    NrlRow,
    PendingAq,
    PendingFailure,
    Read,
    SupplyMeterPoint,
    TrfRow,
)
from services.aq.domain.hh import HhChain, advance_chain
from services.aq.domain.overlay import overlay, weather_rows
from services.aq.domain.reference import AlpDafRow

D0 = date(2024, 1, 1)


def days(n: int, kwh: float = 10.0, start: date = D0, missing: tuple[int, ...] = ()) -> dict:
    return {start + timedelta(days=i): (None if i in missing else kwh) for i in range(n)}


def test_chain_opens_with_a_zero_read_and_sums_complete_days_before_today():
    adv = advance_chain(HhChain(), days(10), today=D0 + timedelta(days=8))
    assert adv.reads == (Read(D0, 0.0, "kWh"), Read(D0 + timedelta(days=8), 80.0, "kWh"))
    assert adv.chain == HhChain(D0, D0 + timedelta(days=8), 80.0) and adv.gap is None
    later = advance_chain(adv.chain, days(10), today=D0 + timedelta(days=20))
    assert later.reads == (Read(D0 + timedelta(days=10), 100.0, "kWh"),)
    assert advance_chain(later.chain, days(10), today=D0 + timedelta(days=20)).reads == ()  # nothing new


def test_a_recent_gap_waits_for_late_data_an_old_one_restarts_the_chain():
    data = days(30, missing=(12,))
    waiting = advance_chain(HhChain(), data, today=D0 + timedelta(days=15), grace_days=5)
    assert waiting.gap is None and waiting.chain.through == D0 + timedelta(days=12)
    restarted = advance_chain(waiting.chain, data, today=D0 + timedelta(days=30), grace_days=5)
    assert restarted.gap == D0 + timedelta(days=12)
    assert restarted.reads == (Read(D0 + timedelta(days=13), 0.0, "kWh"), Read(D0 + timedelta(days=30), 170.0, "kWh"))


def test_point_state_survives_the_codec(synthetic):
    point = SupplyMeterPoint(
        mprn="1234567", confirmation=Confirmation.LI, meter_class=4, ldz="EA", euc="02B", registered_on=D0,
        aq_kwh=100_000.5, formula_year_aq_kwh=90_000, soq_kwh=800.0, backstop_date=date(2024, 3, 1),
        reads=(Read(D0, 1.5, "m3"), Read(date(2024, 2, 1), 99.0, "kWh")), read_since_close_out=True,
        pending_aq=PendingAq(110_000, date(2024, 3, 1), D0, date(2024, 2, 1)),
        pending_failure=PendingFailure(FailureReason.NEW_POINT, 100_000.5, None, D0),
        pending_correction=PendingAq(120_000, date(2024, 4, 1)), winter_failure=FailureReason.ISOLATED,
        consumption_gap=date(2024, 1, 20),
    )
    assert decode_point(encode_point(point)) == point
    stored_before_gaps = json.loads(encode_point(point))
    del stored_before_gaps["consumption_gap"]
    assert decode_point(json.dumps(stored_before_gaps)) == replace(point, consumption_gap=None)
    chain = HhChain(D0, date(2024, 2, 1), 12.5)
    assert decode_chain(encode_chain(chain)) == chain and decode_chain(None) == HhChain()


def test_outputs_become_history_rows_and_events_with_deterministic_ids():
    nrl = NrlRow("1234567", date(2025, 3, 27), date(2025, 4, 1), Confirmation.CO, 3, 80_000.0, 600.0, "02B",
                 78_000.0, None)
    trf = TrfRow(**{**nrl.__dict__, "confirmation": Confirmation.RQ})
    failure = AqFailureNotice("1234567", date(2025, 3, 27), FailureReason.NEGATIVE_CONSUMPTION, 80_000.0, D0, D0)
    decision = CorrectionDecision("c1", "1234567", date(2025, 1, 5), True, "accepted", date(2025, 2, 1))
    out = records_of([nrl, trf, failure, decision], {"c1": Correction("c1", "1234567", "confirmed_theft", 90_000.0)})
    assert [h["kind"] for h in out.history] == ["T04", "TRF", "failed", "correction_accepted"]
    assert [n.record_type for n in out.notifications] == ["T04", "TRF", "AQ_FAILURE"]
    assert [(r.status, r.aq_kwh) for r in out.results] == [("failed", None), ("corrected", 90_000.0)]
    assert out.history[2]["reason_code"] == "negative_consumption"
    assert records_of([nrl]).history == records_of([nrl]).history  # same fact, same id


def test_loaded_reference_rows_overlay_the_base_and_outside_rows_are_counted(synthetic):
    day = date(2024, 2, 1)
    rows = [AlpDafRow("EA", "01B", day, 2.5, -0.1), AlpDafRow("EA", "01B", date(1990, 1, 1), 1.0, 0.0),
            AlpDafRow("XX", "01B", day, 1.0, 0.0)]
    data, ignored = overlay(synthetic, rows, normal=[("SC", day, 1.25)])
    i = synthetic.day_index(day)
    assert ignored == 2
    assert data.alp[synthetic.ldzs.index("EA"), 0, i] == 2.5 and data.daf[synthetic.ldzs.index("EA"), 0, i] == -0.1
    assert data.cwv_normal[0, i] == 1.25 and synthetic.cwv_normal[0, i] != 1.25  # the base is untouched
    assert weather_rows(("EA",), day, np.array([[1.0, np.nan, 3.0]])) == [("EA", day, 1.0),
                                                                           ("EA", day + timedelta(days=2), 3.0)]


def test_bench_reports_the_monthly_run_next_to_the_plain_numpy_pass():
    (row,) = bench_run(0.01)
    assert set(row) == {"scenario", "measured", "baseline", "ratio", "target", "ok"}
    assert row["ratio"] > 0 and isinstance(row["ok"], bool)
