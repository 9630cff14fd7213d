"""Expected consumption from a CalTRACK-style daily degree-day model (pure).

Per supply point: daily kWh ~ intercept + b_h x HDD(15.5 C) [+ b_c x CDD(18 C) for
power], fitted by least squares on the last 365 days. Data sufficiency: at
least 270 complete days in that year, else the point is "insufficient" and
left out of the sum (and listed). Coefficients must be positive (CalTRACK
drops a term with a negative one). The prediction's variance is the residual
variance times the number of days (daily errors taken as independent), and
variances add across points for the portfolio's band.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HDD_BASE_C = 15.5
CDD_BASE_C = 18.0
WINDOW_DAYS = 365
MIN_DAYS = 270
MIN_CDD_DAYS = 10
Z_95 = 1.96


@dataclass(frozen=True)
class DailyModel:
    intercept: float
    hdd: float
    cdd: float
    residual_variance: float
    days_used: int

    def predict(self, temperatures: np.ndarray) -> np.ndarray:
        return self.intercept + self.hdd * degree_days_heating(temperatures) + self.cdd * degree_days_cooling(temperatures)


def degree_days_heating(t: np.ndarray) -> np.ndarray:
    return np.maximum(HDD_BASE_C - t, 0.0)


def degree_days_cooling(t: np.ndarray) -> np.ndarray:
    return np.maximum(t - CDD_BASE_C, 0.0)


def _fit(y: np.ndarray, columns: list[np.ndarray]) -> tuple[np.ndarray, float]:
    x = np.column_stack([np.ones_like(y), *columns])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ coef
    dof = max(len(y) - x.shape[1], 1)
    return coef, float(residuals @ residuals) / dof


def fit(daily_kwh: np.ndarray, temperatures: np.ndarray, cooling: bool) -> DailyModel | None:
    """Fit on the days with a complete reading (NaN = incomplete); None if insufficient."""
    ok = ~np.isnan(daily_kwh) & ~np.isnan(temperatures)
    if int(ok.sum()) < MIN_DAYS:
        return None
    y, t = daily_kwh[ok], temperatures[ok]
    hdd, cdd = degree_days_heating(t), degree_days_cooling(t)
    candidates: list[tuple[bool, bool]] = [(True, True), (True, False), (False, True), (False, False)] if cooling \
        else [(True, False), (False, False)]
    for use_h, use_c in candidates:
        if use_c and int((cdd > 0).sum()) < MIN_CDD_DAYS:
            continue
        columns = [c for c, used in ((hdd, use_h), (cdd, use_c)) if used]
        coef, variance = _fit(y, columns)
        if np.all(coef[1:] > 0):
            it = iter(coef[1:])
            return DailyModel(float(coef[0]), float(next(it)) if use_h else 0.0, float(next(it)) if use_c else 0.0,
                              variance, int(ok.sum()))
    raise AssertionError("the intercept-only model always fits")  # pragma: no cover


@dataclass(frozen=True)
class Expectation:
    total: float
    variance: float

    @property
    def band(self) -> tuple[float, float]:
        half = Z_95 * float(np.sqrt(self.variance))
        return max(self.total - half, 0.0), self.total + half


def expect(model: DailyModel, temperatures: np.ndarray) -> Expectation:
    days = len(temperatures)
    return Expectation(float(np.maximum(model.predict(temperatures), 0.0).sum()), model.residual_variance * days)


def combine(parts: list[Expectation]) -> Expectation:
    return Expectation(sum(p.total for p in parts), sum(p.variance for p in parts))


def cv_rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Coefficient of variation of the RMSE (ASHRAE Guideline 14), over days with data."""
    ok = ~np.isnan(actual)
    rmse = float(np.sqrt(np.mean((actual[ok] - predicted[ok]) ** 2)))
    return rmse / float(np.mean(actual[ok]))


def daily_totals(days: list[tuple], first, n_days: int) -> np.ndarray:
    """kWh per day from ``first`` for ``n_days`` days; NaN where the day is missing or incomplete."""
    out = np.full(n_days, np.nan)
    for day, blob, _ in days:
        i = (day - first).days
        if 0 <= i < n_days:
            values = np.frombuffer(blob, dtype="<f8")
            if not np.isnan(values).any():
                out[i] = float(values.sum())
    return out
