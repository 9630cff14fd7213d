"""Shared reference data for the aq unit tests."""
from __future__ import annotations

from datetime import date
from typing import Callable

import numpy as np
import pytest

from services.aq.domain.reference import DEFAULT_EUCS, ReferenceData
from services.aq.domain.synthetic import synthetic_reference

FLAT_ORIGIN = date(2020, 10, 1)
FLAT_DAYS = 5 * 365 + 2  # to 2025-10-02, covers the 2024 leap day


@pytest.fixture(scope="session")
def synthetic() -> ReferenceData:
    return synthetic_reference()


@pytest.fixture
def flat() -> Callable[..., ReferenceData]:
    """A one-LDZ ("EA") reference with constant ALP/DAF/weather, editable per test for hand-computed examples."""

    def build(alp: float = 1.0, daf: float = 0.0, actual: float = 10.0, normal: float = 10.0) -> ReferenceData:
        n_euc = len(DEFAULT_EUCS.bands)
        return ReferenceData(
            origin=FLAT_ORIGIN,
            ldzs=("EA",),
            eucs=DEFAULT_EUCS,
            alp=np.full((1, n_euc, FLAT_DAYS), alp),
            daf=np.full((1, n_euc, FLAT_DAYS), daf),
            cwv_actual=np.full((1, FLAT_DAYS), actual),
            cwv_normal=np.full((1, FLAT_DAYS), normal),
            calorific_value={"EA": 39.5},
        )

    return build
