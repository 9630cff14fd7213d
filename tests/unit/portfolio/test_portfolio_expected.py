"""The degree-day model: recovers a known relationship, refuses thin data, bands widen with noise."""
from __future__ import annotations

from datetime import date

import numpy as np

from services.portfolio.domain import expected as m
from shared.hh import encode_values


def synthetic(n=365, noise=5.0, seed=1):
    rng = np.random.default_rng(seed)
    t = 10 + 8 * np.cos(np.linspace(0, 2 * np.pi, n)) + rng.normal(0, 2, n)
    y = 100 + 12 * np.maximum(15.5 - t, 0) + rng.normal(0, noise, n)
    return y, t


def test_fit_recovers_heating_slope_and_band_contains_truth():
    y, t = synthetic()
    model = m.fit(y, t, cooling=False)
    assert model is not None and abs(model.hdd - 12) < 1 and abs(model.intercept - 100) < 5 and model.cdd == 0
    future = np.full(30, 5.0)
    e = m.expect(model, future)
    truth = 30 * (100 + 12 * 10.5)
    lo, hi = e.band
    assert lo < truth < hi and abs(e.total - truth) / truth < 0.02
    assert m.cv_rmse(y, model.predict(t)) < 0.05


def test_insufficient_data_is_refused():
    y, t = synthetic()
    y[:100] = np.nan  # 265 complete days
    assert m.fit(y, t, cooling=True) is None


def test_negative_slopes_fall_back_to_intercept():
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 25, 365)
    y = 50 + rng.normal(0, 1, 365)
    model = m.fit(y, t, cooling=True)
    assert model is not None and abs(model.intercept - 50) < 1


def test_daily_totals_only_complete_days():
    first = date(2024, 1, 1)
    days = [(first, encode_values([1.0] * 48), "A" * 48), (date(2024, 1, 2), encode_values([1.0] * 47 + [None]), "A" * 48)]
    totals = m.daily_totals(days, first, 3)
    assert totals[0] == 48 and np.isnan(totals[1]) and np.isnan(totals[2])
