"""A deterministic, realistic synthetic reference set so the service runs offline.

Real ALP/DAF and weather files are published by Xoserve and are too big (and
not ours) to ship, so the full set is generated at load time from a seed; only
a small sample in the published layouts is shipped, to exercise the loaders.
The shapes are plausible rather than real:

* ALP: a winter-peaking cosine (peak mid-January) whose amplitude falls with
  EUC band (small sites are more heating-driven), a weekday/weekend pattern for
  non-domestic bands, normalised so every gas year averages exactly 1.0.
* DAF: negative (colder than normal -> more demand), strongest in winter and
  for small sites.
* Seasonal normal CWV: a per-LDZ cosine (Scotland colder, the south-west
  milder); actual CWV adds an autocorrelated national + local anomaly.
"""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import numpy as np

from services.aq.domain.calculation import NO_DAY, PointArrays
from services.aq.domain.dates import gas_year_start
from services.aq.domain.reference import (
    DEFAULT_EUCS,
    LDZS,
    EucTable,
    ReferenceData,
    euc_file_code,
)

#: Milder (+) or colder (-) seasonal normal CWV than the national mean, per LDZ.
_LDZ_CLIMATE = {"SC": -1.6, "NO": -1.0, "NW": -0.4, "NE": -0.7, "EM": -0.2, "WM": -0.3, "WN": 0.2,
                "WS": 0.6, "EA": 0.0, "NT": 0.5, "SE": 0.3, "SO": 0.6, "SW": 1.1}  # fmt: skip
_PEAK_DAY = 107  # days after 1 October: mid-January


def synthetic_reference(
    seed: int = 2015,
    first_gas_year: int = 2019,
    gas_years: int = 7,
    ldzs: tuple[str, ...] = LDZS,
    eucs: EucTable = DEFAULT_EUCS,
) -> ReferenceData:
    """Generate ALP, DAF and weather from 1 October ``first_gas_year`` for ``gas_years`` years.

    The default span (gas years 2019-2025) contains the leap days of 2020 and 2024.
    """
    rng = np.random.default_rng(seed)
    origin = date(first_gas_year, 10, 1)
    end = date(first_gas_year + gas_years, 10, 1)
    days = np.arange(np.datetime64(origin), np.datetime64(end))
    year_start = _gas_year_starts(days)
    season = np.cos(2 * np.pi * ((days - year_start).astype(np.int64) - _PEAK_DAY) / 365.25)
    winterness = (1 + season) / 2
    weekend = ((days.astype(np.int64) + 3) % 7) >= 5  # 1970-01-01 was a Thursday

    n_euc = len(eucs.bands)
    band = np.arange(n_euc) / max(n_euc - 1, 1)  # 0 smallest .. 1 largest
    ldz_amp = 1 + 0.03 * rng.standard_normal(len(ldzs))
    amplitude = np.outer(ldz_amp, 0.75 - 0.55 * band)[:, :, None]
    weekday_shape = np.where(weekend, 0.85, 1.04)[None, None, :] ** (band[None, :, None] > 0)
    noise = 1 + 0.01 * rng.standard_normal((len(ldzs), n_euc, days.size))
    alp = (1 + amplitude * season) * weekday_shape * noise
    alp = _normalise_per_gas_year(alp, year_start)

    sensitivity = (1.0 - 0.6 * band)[None, :, None]
    daf = -(0.010 + 0.035 * winterness)[None, None, :] * sensitivity * (1 + 0.05 * rng.standard_normal(alp.shape))

    climate = np.array([_LDZ_CLIMATE.get(ldz, 0.0) for ldz in ldzs])[:, None]
    normal = 10.5 + climate - 6.5 * season[None, :]
    anomaly = _ar1(rng, days.size, 0.8, 2.0)[None, :] + _ar1(rng, days.size * len(ldzs), 0.6, 0.7).reshape(
        len(ldzs), days.size
    )
    return ReferenceData(
        origin=origin,
        ldzs=ldzs,
        eucs=eucs,
        alp=np.round(alp, 6),
        daf=np.round(daf, 6),
        cwv_actual=np.round(normal + anomaly, 2),
        cwv_normal=np.round(normal, 2),
        calorific_value={ldz: round(39.2 + 0.05 * i, 2) for i, ldz in enumerate(ldzs)},
    )


def _gas_year_starts(days: np.ndarray) -> np.ndarray:
    """1 October opening the gas year of each day (month 9 counting January 1970 as 0)."""
    month = days.astype("datetime64[M]")
    back = (month.astype(np.int64) - 9) % 12
    return (month - back.astype("timedelta64[M]")).astype("datetime64[D]")


def _normalise_per_gas_year(alp: np.ndarray, year_start: np.ndarray) -> np.ndarray:
    """Scale each gas year so its ALP averages exactly 1.0 (ALP is a daily share of AQ)."""
    out = alp.copy()
    for start in np.unique(year_start):
        in_year = year_start == start
        out[:, :, in_year] /= out[:, :, in_year].mean(axis=2, keepdims=True)
    return out


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    shocks = rng.standard_normal(n) * sd * np.sqrt(1 - phi**2)
    out = np.empty(n)
    level = 0.0
    for i, shock in enumerate(shocks):
        level = phi * level + shock
        out[i] = level
    return out


# ----------------------------------------------------------------- published layouts


def alp_daf_csv(reference: ReferenceData, ldzs: tuple[str, ...], eucs: tuple[str, ...], start: date, end: date) -> str:
    """Render ``[start, end)`` in the Xoserve ALP/DAF row layout (used for the shipped sample)."""
    alp = reference.alp.reshape(reference.n_profiles, -1)
    daf = reference.daf.reshape(reference.n_profiles, -1)
    lines = []
    for ldz in ldzs:
        for euc in eucs:
            row = reference.profile_index(ldz, euc)
            for i in range(reference.day_index(start), reference.day_index(end)):
                day = reference.origin + timedelta(days=i)
                key = f"{ldz}:{euc_file_code(gas_year_start(day).year, euc)}"
                lines.append(f'"{key}",{day:%d/%m/%Y},{alp[row, i]:.6f},{daf[row, i]:.6f}\n')
    return "".join(lines)


def weather_csv(reference: ReferenceData, kind: str, start: date, end: date) -> str:
    """Render ``[start, end)`` of the ``"normal"`` or ``"actual"`` CWV as ``date,<LDZ>,...``."""
    values = {"normal": reference.cwv_normal, "actual": reference.cwv_actual}[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", *reference.ldzs])
    for i in range(reference.day_index(start), reference.day_index(end)):
        day = reference.origin + timedelta(days=i)
        writer.writerow([day.strftime("%d/%m/%Y"), *(f"{v:.2f}" for v in values[:, i])])
    return out.getvalue()


# ------------------------------------------------------------------- synthetic points


def synthetic_points(n: int, reference: ReferenceData, as_of: date, seed: int = 1) -> PointArrays:
    """``n`` plausible points with read periods ending before ``as_of``.

    Mostly eligible ~9-23 month periods, with a sprinkling of every failure
    (short and long periods, new and isolated points, backstops, reconnections,
    negative and missing consumption) so the vectorised rules get exercised.
    """
    rng = np.random.default_rng(seed)
    n_bands = len(reference.eucs.bands)
    end = reference.day_index(as_of) - rng.integers(1, 40, n)
    odd_period = rng.random(n) < 0.05
    start = end - np.where(odd_period, rng.integers(150, 1300, n), rng.integers(280, 700, n))
    euc = rng.choice(n_bands, n, p=_euc_mix(n_bands))
    typical_aq = np.r_[0.0, reference.eucs.upper_bounds][euc] * 1.1 + 20_000
    energy = typical_aq * (end - start) / 365.0 * rng.uniform(0.8, 1.2, n)
    energy[rng.random(n) < 0.002] *= -1
    energy[rng.random(n) < 0.002] = np.nan
    return PointArrays(
        profile=(rng.integers(0, len(reference.ldzs), n) * n_bands + euc).astype(np.int32),
        meter_class=rng.choice(np.array([1, 2, 3, 4], dtype=np.int8), n, p=[0.01, 0.02, 0.07, 0.90]),
        start_day=start.astype(np.int32),
        end_day=end.astype(np.int32),
        energy_kwh=energy,
        registered_day=(start - rng.integers(-30, 2000, n)).astype(np.int32),
        backstop_day=np.where(rng.random(n) < 0.01, start + 10, NO_DAY).astype(np.int32),
        reconnection_day=np.where(rng.random(n) < 0.01, start + 100, NO_DAY).astype(np.int32),
        isolated=rng.random(n) < 0.005,
        previous_aq=typical_aq,
    )


def _euc_mix(n_bands: int) -> np.ndarray:
    """Many small sites, few large ones (each band half as common as the one below)."""
    weights = 0.5 ** np.arange(n_bands)
    return weights / weights.sum()
