"""Reference data: EUC bands, Xoserve loaders, the synthetic set and the day-indexed tables."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from services.aq import reference as shipped
from services.aq.domain.reference import (
    DEFAULT_EUCS,
    LDZS,
    EucBand,
    EucTable,
    build_reference,
    euc_band_code,
    euc_file_code,
    parse_alp_daf,
    parse_weather,
)
from services.aq.domain.synthetic import alp_daf_csv, synthetic_reference, weather_csv


@pytest.mark.parametrize(
    ("aq", "band"),
    [
        (0, "01B"),
        (73_200, "01B"),
        (73_200.01, "02B"),
        (293_000, "02B"),
        (293_001, "03B"),
        (732_000, "03B"),
        (732_001, "04B"),
        (2_196_000, "04B"),
        (5_860_000, "05B"),
        (5_860_001, "06B"),
        (14_650_000, "06B"),
        (29_300_000, "07B"),
        (58_600_000, "08B"),
        (58_600_001, "09B"),
        (1e12, "09B"),
    ],
)
def test_euc_band_upper_bounds_are_inclusive(aq: float, band: str) -> None:
    assert DEFAULT_EUCS.band_for(aq).code == band
    assert DEFAULT_EUCS.codes[int(DEFAULT_EUCS.band_indices(np.array([aq]))[0])] == band


@pytest.mark.parametrize(
    "bands",
    [
        (EucBand("A", 10, 0.5), EucBand("B", 20, 0.5)),  # last band not open-ended
        (EucBand("A", 20, 0.5), EucBand("B", 10, 0.5), EucBand("C", None, 0.5)),  # not increasing
        (EucBand("A", 10, 0.0), EucBand("B", None, 0.5)),  # load factor out of (0, 1]
    ],
)
def test_euc_table_rejects_inconsistent_bands(bands: tuple[EucBand, ...]) -> None:
    with pytest.raises(ValueError):
        EucTable(bands)


def test_euc_file_codes_round_trip() -> None:
    assert euc_file_code(2022, "01B") == "E2201BND"
    assert euc_band_code("E2201BND") == "01B"
    with pytest.raises(ValueError):
        euc_band_code("XYZ")


def test_parse_alp_daf_published_row() -> None:
    (row,) = parse_alp_daf('"EA:E2201BND",01/10/2022,0.589078,-0.238091\n\n')
    assert (row.ldz, row.euc, row.gas_day, row.alp, row.daf) == ("EA", "01B", date(2022, 10, 1), 0.589078, -0.238091)


@pytest.mark.parametrize("line", ['"EA:E2201BND",01/10/2022,0.5', '"EAE2201BND",01/10/2022,0.5,0.1', '"EA:E2201BND",2022/31/10,1,0'])
def test_parse_alp_daf_reports_the_bad_line(line: str) -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_alp_daf('"EA:E2201BND",01/10/2022,0.589078,-0.238091\n' + line)


def test_parse_weather_fills_missing_days_and_cells_with_nan() -> None:
    series = parse_weather("date,EA,SC\n03/10/2022,9.5,\n01/10/2022,10.0,7.0\n")
    assert series.origin == date(2022, 10, 1) and series.ldzs == ("EA", "SC")
    np.testing.assert_array_equal(series.values, [[10.0, np.nan, 9.5], [7.0, np.nan, np.nan]])
    with pytest.raises(ValueError, match="line 2"):
        parse_weather("date,EA\n01/10/2022,1,2\n")


def test_shipped_samples_load_to_the_generated_values(synthetic) -> None:
    """The shipped CSVs are a slice of the seeded synthetic set in the published layouts."""
    reference = build_reference(
        parse_alp_daf(shipped.ALP_DAF_SAMPLE.read_text()),
        parse_weather(shipped.WEATHER_NORMAL_SAMPLE.read_text()),
        parse_weather(shipped.WEATHER_ACTUAL_SAMPLE.read_text()),
    )
    assert reference.origin == date.fromisoformat(shipped.SAMPLE_START)
    assert reference.n_days == 60  # February 2024 has 29 days
    s = synthetic.day_index(reference.origin)
    for ldz in ("EA", "SC"):
        for euc in ("01B", "03B"):
            got = reference.weighted[reference.profile_index(ldz, euc)]
            want = synthetic.weighted[synthetic.profile_index(ldz, euc), s : s + 60]
            np.testing.assert_allclose(got, want, rtol=1e-12)
    # Profiles not in the sample stay missing, so any period over them fails as a gap.
    assert np.isnan(reference.weighted[reference.profile_index("NW", "01B")]).all()
    assert reference.has_gaps


def test_renderers_round_trip_through_the_loaders(synthetic) -> None:
    start, end = date(2023, 9, 28), date(2023, 10, 3)  # crosses a gas-year boundary: E22.. then E23..
    text = alp_daf_csv(synthetic, ("WS",), ("09B",), start, end)
    assert text.splitlines()[0].startswith('"WS:E2209BND",28/09/2023,')
    assert text.splitlines()[-1].startswith('"WS:E2309BND",02/10/2023,')
    rows = parse_alp_daf(text)
    i = synthetic.day_index(start)
    assert [r.alp for r in rows] == pytest.approx(synthetic.alp[LDZS.index("WS"), 8, i : i + 5], abs=5e-7)
    weather = parse_weather(weather_csv(synthetic, "actual", start, end))
    np.testing.assert_allclose(weather.values, synthetic.cwv_actual[:, i : i + 5], atol=5e-3)


def test_synthetic_set_is_deterministic_complete_and_normalised(synthetic) -> None:
    again = synthetic_reference()
    np.testing.assert_array_equal(again.alp, synthetic.alp)
    np.testing.assert_array_equal(again.cwv_actual, synthetic.cwv_actual)
    assert not np.array_equal(synthetic_reference(seed=1).cwv_actual, synthetic.cwv_actual)
    assert synthetic.ldzs == LDZS and len(LDZS) == 13
    assert not synthetic.has_gaps
    # Gas year 2023 (1 Oct 2023 - 30 Sep 2024) holds 29 February: 366 gas days, ALP averaging 1.
    s, e = synthetic.day_index(date(2023, 10, 1)), synthetic.day_index(date(2024, 10, 1))
    assert e - s == 366
    np.testing.assert_allclose(synthetic.alp[:, :, s:e].mean(axis=2), 1.0, atol=1e-5)
    # Winter peaks, DAF negative, Scotland colder than the south-west.
    jan, jul = synthetic.day_index(date(2024, 1, 15)), synthetic.day_index(date(2024, 7, 15))
    assert (synthetic.alp[:, :, jan] > synthetic.alp[:, :, jul]).all()
    assert (synthetic.daf < 0).all()
    assert synthetic.cwv_normal[LDZS.index("SC"), jan] < synthetic.cwv_normal[LDZS.index("SW"), jan]


def test_seasonal_normal_weather_leaves_only_alp(synthetic) -> None:
    normal = synthetic.with_seasonal_normal_weather()
    np.testing.assert_allclose(normal.weighted, synthetic.alp.reshape(synthetic.n_profiles, -1))


def test_prefix_tables_give_period_sums_and_gaps(flat) -> None:
    reference = flat(alp=2.0)
    reference.alp[0, 0, 100] = np.nan
    row = reference.profile_index("EA", "01B")
    cum = reference.weighted_cumsum[row]
    assert cum[50] - cum[10] == 80.0
    next_gap = reference.next_gap.reshape(reference.n_profiles, -1)
    assert next_gap[row, 10] == 100 and next_gap[row, 101] == reference.n_days + 1
    assert next_gap[reference.profile_index("EA", "02B"), 0] == reference.n_days + 1
