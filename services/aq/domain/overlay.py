"""Loaded reference files laid over a base reference set.

Operations load published ALP/DAF and weather files for the days they have;
every other day keeps the base (shipped synthetic) values. Rows outside the
base span, or for an unknown LDZ or EUC, are ignored and counted.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Iterable

import numpy as np

from services.aq.domain.reference import AlpDafRow, ReferenceData

WeatherRow = tuple[str, date, float]  # (LDZ, gas day, composite weather value)


def overlay(
    base: ReferenceData,
    alp_daf: Iterable[AlpDafRow] = (),
    normal: Iterable[WeatherRow] = (),
    actual: Iterable[WeatherRow] = (),
) -> tuple[ReferenceData, int]:
    """``base`` with the given values replaced, and how many rows fell outside it."""
    alp, daf = base.alp.copy(), base.daf.copy()
    cwv = {"normal": base.cwv_normal.copy(), "actual": base.cwv_actual.copy()}
    ldz_pos = {ldz: i for i, ldz in enumerate(base.ldzs)}
    euc_pos = {code: i for i, code in enumerate(base.eucs.codes)}
    ignored = 0
    for r in alp_daf:
        day = base.day_index(r.gas_day)
        if r.ldz in ldz_pos and r.euc in euc_pos and 0 <= day < base.n_days:
            alp[ldz_pos[r.ldz], euc_pos[r.euc], day] = r.alp
            daf[ldz_pos[r.ldz], euc_pos[r.euc], day] = r.daf
        else:
            ignored += 1
    for kind, rows in (("normal", normal), ("actual", actual)):
        for ldz, gas_day, value in rows:
            day = base.day_index(gas_day)
            if ldz in ldz_pos and 0 <= day < base.n_days:
                cwv[kind][ldz_pos[ldz], day] = value
            else:
                ignored += 1
    return replace(base, alp=alp, daf=daf, cwv_normal=cwv["normal"], cwv_actual=cwv["actual"]), ignored


def weather_rows(ldzs: tuple[str, ...], origin: date, values: np.ndarray) -> list[WeatherRow]:
    """Flatten a parsed weather file (LDZ rows x days from ``origin``) into rows, skipping empty cells."""
    rows = []
    for i, ldz in enumerate(ldzs):
        for offset in np.flatnonzero(~np.isnan(values[i])):
            rows.append((ldz, date.fromordinal(origin.toordinal() + int(offset)), float(values[i, offset])))
    return rows
