"""Rolling AQ reference data: EUC bands, ALP/DAF profiles and composite weather.

Everything the formula depends on is data handed in by the caller, never a
constant buried in the calculation: the published values change every gas
year and several of them are *reconstructed* (see the domain note), so they
must be swappable without touching code.

Daily series are NumPy arrays indexed by gas day (``day - origin``) so that a
monthly run over a million points is a handful of gathers into pre-computed
cumulative sums rather than a Python loop. A read dated ``D`` is taken to be at
the start of gas day ``D``: the energy between reads on ``s`` and ``e`` covers
gas days ``s .. e-1``.

The parsers take text, not paths, so this module stays free of I/O.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from typing import Iterable, Mapping, Sequence

import numpy as np

#: The 13 gas Local Distribution Zones.
LDZS: tuple[str, ...] = ("SC", "NO", "NW", "NE", "EM", "WM", "WN", "WS", "EA", "NT", "SE", "SO", "SW")


@dataclass(frozen=True)
class EucBand:
    """One End User Category band: AQ up to ``upper_kwh`` (inclusive; ``None`` = open-ended)."""

    code: str
    upper_kwh: float | None
    load_factor: float


@dataclass(frozen=True)
class EucTable:
    """Ordered EUC bands; band ``i`` holds ``upper[i-1] < AQ <= upper[i]``."""

    bands: tuple[EucBand, ...]

    def __post_init__(self) -> None:
        uppers = [b.upper_kwh for b in self.bands]
        if not self.bands or uppers[-1] is not None or None in uppers[:-1]:
            raise ValueError("only the last EUC band may be open-ended, and it must be")
        if any(a >= b for a, b in zip(uppers[:-2], uppers[1:-1])):
            raise ValueError("EUC band bounds must increase")
        if any(not 0 < b.load_factor <= 1 for b in self.bands):
            raise ValueError("load factors must lie in (0, 1]")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(b.code for b in self.bands)

    @cached_property
    def upper_bounds(self) -> np.ndarray:
        """Inclusive upper bounds of all but the open-ended last band."""
        return np.array([b.upper_kwh for b in self.bands[:-1]], dtype=np.float64)

    @cached_property
    def load_factors(self) -> np.ndarray:
        return np.array([b.load_factor for b in self.bands], dtype=np.float64)

    def index_of(self, code: str) -> int:
        return self.codes.index(code)

    def band_indices(self, aq_kwh: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Vectorised band index (``uint8``) of each AQ, upper bounds inclusive.

        Counting exceeded bounds is several times faster than ``searchsorted``
        for a handful of bands, which matters for a million-point run.
        """
        index = np.zeros(np.shape(aq_kwh), dtype=np.uint8) if out is None else out
        index[...] = 0
        for upper in self.upper_bounds:
            index += np.asarray(aq_kwh) > upper
        return index

    def band_for(self, aq_kwh: float) -> EucBand:
        return self.bands[int(self.band_indices(np.asarray([aq_kwh]))[0])]


#: Xoserve bands up to 5,860,000 kWh; the three upper bounds above that and all
#: load factors are *reconstructed* defaults (peakier small sites, flatter large ones).
DEFAULT_EUCS = EucTable(
    (
        EucBand("01B", 73_200, 0.33),
        EucBand("02B", 293_000, 0.36),
        EucBand("03B", 732_000, 0.39),
        EucBand("04B", 2_196_000, 0.42),
        EucBand("05B", 5_860_000, 0.46),
        EucBand("06B", 14_650_000, 0.50),
        EucBand("07B", 29_300_000, 0.55),
        EucBand("08B", 58_600_000, 0.60),
        EucBand("09B", None, 0.65),
    )
)


@dataclass(frozen=True)
class ConversionFactors:
    """Gas volume to energy: kWh = m3 x volume correction x CV (MJ/m3) / MJ per kWh."""

    volume_correction: float = 1.02264
    mj_per_kwh: float = 3.6
    #: *Reconstructed* default calorific value where no LDZ-specific value is given.
    default_cv_mj_m3: float = 39.5

    def m3_to_kwh(self, m3: float, cv_mj_m3: float) -> float:
        return m3 * self.volume_correction * cv_mj_m3 / self.mj_per_kwh


@dataclass(frozen=True, eq=False)
class ReferenceData:
    """ALP/DAF per (LDZ, EUC) and composite weather per LDZ, per gas day from ``origin``.

    ``alp`` and ``daf`` have shape (LDZ, EUC, day); ``cwv_actual`` and
    ``cwv_normal`` have shape (LDZ, day). NaN marks a missing value, which makes
    any read period that covers it fail as a gap.
    """

    origin: date
    ldzs: tuple[str, ...]
    eucs: EucTable
    alp: np.ndarray
    daf: np.ndarray
    cwv_actual: np.ndarray
    cwv_normal: np.ndarray
    calorific_value: Mapping[str, float] = field(default_factory=dict)
    conversion: ConversionFactors = ConversionFactors()

    def __post_init__(self) -> None:
        profile_shape = (len(self.ldzs), len(self.eucs.bands), self.n_days)
        if self.alp.shape != profile_shape or self.daf.shape != profile_shape:
            raise ValueError(f"ALP/DAF must have shape {profile_shape}")
        if self.cwv_actual.shape != profile_shape[::2] or self.cwv_normal.shape != profile_shape[::2]:
            raise ValueError(f"weather must have shape {profile_shape[::2]}")

    @property
    def n_days(self) -> int:
        return int(self.alp.shape[-1])

    @property
    def n_profiles(self) -> int:
        return len(self.ldzs) * len(self.eucs.bands)

    def day_index(self, day: date) -> int:
        return (day - self.origin).days

    def profile_index(self, ldz: str, euc: str) -> int:
        """Row of the (LDZ, EUC) pair in the flattened profile tables."""
        return self.ldzs.index(ldz) * len(self.eucs.bands) + self.eucs.index_of(euc)

    def cv(self, ldz: str) -> float:
        return self.calorific_value.get(ldz, self.conversion.default_cv_mj_m3)

    def with_seasonal_normal_weather(self) -> "ReferenceData":
        """The same data with actual weather equal to seasonal normal (every WCF = 0)."""
        return replace(self, cwv_actual=self.cwv_normal.copy())

    @cached_property
    def weighted(self) -> np.ndarray:
        """ALP_d x (1 + DAF_d x WCF_d) per profile row and gas day, WCF = actual - normal CWV."""
        wcf = self.cwv_actual - self.cwv_normal
        return (self.alp * (1.0 + self.daf * wcf[:, None, :])).reshape(self.n_profiles, self.n_days)

    @cached_property
    def weighted_cumsum(self) -> np.ndarray:
        """Row-wise prefix sums with a leading 0: sum over [s, e) = cum[e] - cum[s]; gaps count as 0."""
        return _prefix_sum(np.nan_to_num(self.weighted, nan=0.0))

    @cached_property
    def has_gaps(self) -> bool:
        """Whether any profile day is missing; a complete set lets the monthly run skip the gap lookup."""
        return bool(np.isnan(self.weighted).any())

    @cached_property
    def next_gap(self) -> np.ndarray:
        """Flat (profile, day) table of the first missing day at or after each day.

        A period [s, e) holds a gap iff ``next_gap[s] < e``: one small integer
        gather per point instead of a second prefix-sum pair. Rows have
        ``n_days + 1`` entries, like the prefix sums; ``n_days + 1`` means "none".
        """
        n = self.n_days + 1
        day = np.arange(n, dtype=np.int32)
        missing = np.zeros((self.n_profiles, n), dtype=bool)
        missing[:, :-1] = np.isnan(self.weighted)
        first = np.where(missing, day, np.int32(n))
        return np.minimum.accumulate(first[:, ::-1], axis=1)[:, ::-1].ravel()


def _prefix_sum(values: np.ndarray) -> np.ndarray:
    out = np.zeros((values.shape[0], values.shape[1] + 1), dtype=values.dtype)
    np.cumsum(values, axis=1, out=out[:, 1:])
    return out


# --------------------------------------------------------------------------- loaders

_EUC_FILE_CODE = re.compile(r"^E(\d{2})(\d{2}[A-Z])[A-Z]*$")


@dataclass(frozen=True)
class AlpDafRow:
    """One row of a Xoserve ALP/DAF file: ``"EA:E2201BND",01/10/2022,0.589078,-0.238091``."""

    ldz: str
    euc: str
    gas_day: date
    alp: float
    daf: float


def euc_file_code(gas_year: int, euc: str) -> str:
    """The published EUC identifier, e.g. gas year 2022 band ``01B`` -> ``E2201BND``."""
    return f"E{gas_year % 100:02d}{euc}ND"


def euc_band_code(file_code: str) -> str:
    """Band code of a published EUC identifier: ``E2201BND`` -> ``01B``."""
    match = _EUC_FILE_CODE.match(file_code)
    if not match:
        raise ValueError(f"unrecognised EUC identifier {file_code!r}")
    return match.group(2)


def _parse_day(text: str) -> date:
    """Published files use dd/mm/yyyy; ISO dates are accepted too."""
    text = text.strip()
    fmt = "%d/%m/%Y" if "/" in text else "%Y-%m-%d"
    return datetime.strptime(text, fmt).date()


def parse_alp_daf(text: str) -> list[AlpDafRow]:
    """Parse ALP/DAF rows; blank lines are skipped, malformed rows raise with their line number."""
    rows: list[AlpDafRow] = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or not "".join(fields).strip():
            continue
        try:
            key, day, alp, daf = fields
            ldz, file_code = key.strip().split(":")
            rows.append(AlpDafRow(ldz, euc_band_code(file_code), _parse_day(day), float(alp), float(daf)))
        except ValueError as exc:
            raise ValueError(f"ALP/DAF line {number}: {exc}") from exc
    return rows


@dataclass(frozen=True, eq=False)
class WeatherSeries:
    """Composite weather values per LDZ (rows, in ``ldzs`` order) and day from ``origin``."""

    origin: date
    ldzs: tuple[str, ...]
    values: np.ndarray


def parse_weather(text: str) -> WeatherSeries:
    """Parse a composite weather file: header ``date,<LDZ>,...``, one row per gas day.

    Days may be out of order or missing; missing days and empty cells become NaN.
    """
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    ldzs = tuple(header[1:])
    days: list[date] = []
    cells: list[list[float]] = []
    for number, fields in enumerate(reader, start=2):
        if not fields:
            continue
        if len(fields) != len(header):
            raise ValueError(f"weather line {number}: expected {len(header)} fields, got {len(fields)}")
        days.append(_parse_day(fields[0]))
        cells.append([float(v) if v.strip() else math.nan for v in fields[1:]])
    if not days:
        raise ValueError("weather file has no rows")
    origin = min(days)
    values = np.full((len(ldzs), (max(days) - origin).days + 1), np.nan)
    for day, row in zip(days, cells):
        values[:, (day - origin).days] = row
    return WeatherSeries(origin, ldzs, values)


def build_reference(
    alp_daf: Iterable[AlpDafRow],
    normal: WeatherSeries,
    actual: WeatherSeries,
    eucs: EucTable = DEFAULT_EUCS,
    ldzs: Sequence[str] = LDZS,
    calorific_value: Mapping[str, float] | None = None,
) -> ReferenceData:
    """Assemble loaded files into day-indexed arrays spanning every day any input covers.

    Anything not supplied (an LDZ/EUC/day without a row, a missing weather cell)
    stays NaN, so a read period touching it fails as a gap instead of silently
    using a wrong profile.
    """
    rows = list(alp_daf)
    all_days = [r.gas_day for r in rows] + [normal.origin, actual.origin]
    ends = [normal.origin.toordinal() + normal.values.shape[1], actual.origin.toordinal() + actual.values.shape[1]]
    origin = min(all_days)
    n_days = max([r.gas_day.toordinal() + 1 for r in rows] + ends) - origin.toordinal()
    ldz_pos = {ldz: i for i, ldz in enumerate(ldzs)}
    euc_pos = {code: i for i, code in enumerate(eucs.codes)}
    alp = np.full((len(ldzs), len(euc_pos), n_days), np.nan)
    daf = np.full_like(alp, np.nan)
    for r in rows:
        if r.ldz in ldz_pos and r.euc in euc_pos:
            alp[ldz_pos[r.ldz], euc_pos[r.euc], (r.gas_day - origin).days] = r.alp
            daf[ldz_pos[r.ldz], euc_pos[r.euc], (r.gas_day - origin).days] = r.daf
    return ReferenceData(
        origin=origin,
        ldzs=tuple(ldzs),
        eucs=eucs,
        alp=alp,
        daf=daf,
        cwv_actual=_align(actual, ldzs, origin, n_days),
        cwv_normal=_align(normal, ldzs, origin, n_days),
        calorific_value=dict(calorific_value or {}),
    )


def _align(series: WeatherSeries, ldzs: Sequence[str], origin: date, n_days: int) -> np.ndarray:
    out = np.full((len(ldzs), n_days), np.nan)
    offset = (series.origin - origin).days
    for i, ldz in enumerate(ldzs):
        if ldz in series.ldzs:
            row = series.values[series.ldzs.index(ldz)]
            out[i, offset : offset + row.size] = row
    return out
