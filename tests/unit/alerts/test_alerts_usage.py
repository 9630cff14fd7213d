"""Roll-ups of meter-day totals, webhook signatures and retry backoff."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.alerts.adapters.channels import sign, verify
from services.alerts.adapters.notifications import retry_delay
from services.alerts.domain.usage import MeterDayTotal, Tariff, account_days, daily_cost, daily_kwh

D1, D2 = date(2024, 10, 1), date(2024, 10, 2)
ROWS = [MeterDayTotal("M1", D1, 10.0, 48), MeterDayTotal("M2", D1, 5.0, 24), MeterDayTotal("M1", D2, 4.0, 48)]


def test_daily_kwh_sums_every_meter():
    assert daily_kwh(ROWS) == {D1: 15.0, D2: 4.0}


def test_daily_cost_charges_standing_charge_once_per_account_day():
    cost = daily_cost(ROWS, {"M1": "A", "M2": "A"}, {"A": Tariff(0.5, 1.0)})
    assert cost == pytest.approx({D1: 15 * 0.5 + 1.0, D2: 4 * 0.5 + 1.0})


@pytest.mark.parametrize(("tariff", "modelled"), [(Tariff(0.2), 36), (None, 0)])
def test_account_days_count_reads_per_meter(tariff, modelled):
    day = account_days(ROWS, meters=2, tariff=tariff)[0]
    assert (day.day, day.kwh, day.reads, day.rate_modelled_reads) == (D1, 15.0, 36, modelled)  # (48 + 24) / 2
    assert day.cost == pytest.approx(3.0 if tariff else 0.0)


def test_account_days_without_meters_is_empty():
    assert account_days(ROWS, meters=0, tariff=None) == []


def test_signature_round_trip_and_tamper():
    header = f"sha256={sign('k', '1700000000', b'{}')}"
    assert verify("k", "1700000000", b"{}", header)
    assert not verify("k", "1700000001", b"{}", header)
    assert not verify("other", "1700000000", b"{}", header)


def test_backoff_doubles_and_caps():
    assert [retry_delay(a, 2, 30) for a in range(5)] == [timedelta(seconds=s) for s in (2, 4, 8, 16, 30)]
