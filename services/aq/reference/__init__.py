"""Shipped reference data samples in the published Xoserve layouts.

They are a small slice (gas days 1 February - 31 March 2024, so including
29 February and the spring clock change; LDZs EA and SC, EUCs 01B and 03B for
ALP/DAF; all 13 LDZs for weather) of ``synthetic_reference()`` with its
default seed, rendered by ``alp_daf_csv``/``weather_csv``. They exist to test
the loaders and as format examples; the full synthetic set is generated at
load time from the seed.
"""
from pathlib import Path

HERE = Path(__file__).parent
ALP_DAF_SAMPLE = HERE / "alp_daf_sample.csv"
WEATHER_NORMAL_SAMPLE = HERE / "weather_normal_sample.csv"
WEATHER_ACTUAL_SAMPLE = HERE / "weather_actual_sample.csv"
SAMPLE_START = "2024-02-01"
SAMPLE_END = "2024-04-01"
