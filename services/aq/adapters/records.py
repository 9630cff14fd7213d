"""Calendar outputs as history rows and as events (aq.results.v1, aq.notifications.v1).

Event ids are deterministic (mprn, kind, business day and discriminator), so a
replayed day could never publish a different id for the same fact.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from services.aq.domain.calendar import (
    AqCalculated,
    AqFailureNotice,
    Correction,
    CorrectionDecision,
    FormulaYearSnapshot,
    NrlRow,
    OfferAddendum,
    Output,
    TrfRow,
    WinterConsumptionFailure,
    WinterConsumptionSuccess,
)
from shared.contracts.events import AqNotification, AqResult


@dataclass
class Records:
    history: list[dict] = field(default_factory=list)
    results: list[AqResult] = field(default_factory=list)
    notifications: list[AqNotification] = field(default_factory=list)

    def extend(self, other: "Records") -> None:
        self.history += other.history
        self.results += other.results
        self.notifications += other.notifications


def _row(event_id: str, mprn: str, kind: str, day, **values) -> dict:
    columns = ("effective_from", "aq_kwh", "previous_aq_kwh", "formula_year_aq_kwh", "soq_kwh", "euc", "confirmation",
               "meter_class", "winter_consumption_kwh", "reason_code", "read_start", "read_end")
    return {"event_id": event_id, "mprn": mprn, "kind": kind, "business_date": day,
            **{c: values.get(c) for c in columns}}


def records_of(outputs: list[Output], corrections: Mapping[str, Correction] = {}) -> Records:
    """History rows and events for one step's outputs; ``corrections`` gives decided corrections' values."""
    out = Records()
    for o in outputs:
        match o:
            case AqCalculated():
                eid = f"{o.mprn}:calculated:{o.calculated_on}"
                out.history.append(_row(eid, o.mprn, "calculated", o.calculated_on, effective_from=o.effective_from,
                                        aq_kwh=o.aq_kwh, previous_aq_kwh=o.previous_aq_kwh, euc=o.euc,
                                        soq_kwh=o.soq_kwh, read_start=o.read_start, read_end=o.read_end))
                out.results.append(AqResult(event_id=eid, mprn=o.mprn, status="calculated", aq_kwh=o.aq_kwh,
                                            previous_aq_kwh=o.previous_aq_kwh, euc=o.euc, soq_kwh=o.soq_kwh,
                                            effective_from=o.effective_from, read_start=o.read_start,
                                            read_end=o.read_end, calculated_on=o.calculated_on))
            case AqFailureNotice():
                eid = f"{o.mprn}:failed:{o.issued_on}"
                out.history.append(_row(eid, o.mprn, "failed", o.issued_on, aq_kwh=o.previous_aq_kwh,
                                        previous_aq_kwh=o.previous_aq_kwh, reason_code=o.reason.value,
                                        read_start=o.read_start, read_end=o.read_end))
                out.results.append(AqResult(event_id=eid, mprn=o.mprn, status="failed", reason_code=o.reason.value,
                                            previous_aq_kwh=o.previous_aq_kwh, read_start=o.read_start,
                                            read_end=o.read_end, calculated_on=o.issued_on))
                out.notifications.append(AqNotification(event_id=eid, mprn=o.mprn, record_type="AQ_FAILURE",
                                                        issued_on=o.issued_on, aq_kwh=o.previous_aq_kwh,
                                                        reason_code=o.reason.value))
            case FormulaYearSnapshot():
                eid = f"{o.mprn}:snapshot:{o.taken_on}"
                out.history.append(_row(eid, o.mprn, "snapshot", o.taken_on, effective_from=o.effective_from,
                                        aq_kwh=o.aq_kwh, formula_year_aq_kwh=o.aq_kwh))
                out.results.append(AqResult(event_id=eid, mprn=o.mprn, status="snapshot", aq_kwh=o.aq_kwh,
                                            effective_from=o.effective_from, calculated_on=o.taken_on))
            case CorrectionDecision():
                eid = f"{o.mprn}:correction:{o.correction_id}"
                value = corrections[o.correction_id].aq_kwh if o.correction_id in corrections else None
                kind = "correction_accepted" if o.accepted else "correction_rejected"
                out.history.append(_row(eid, o.mprn, kind, o.decided_on, effective_from=o.effective_from,
                                        aq_kwh=value, reason_code=o.reason_code))
                if o.accepted:
                    out.results.append(AqResult(event_id=eid, mprn=o.mprn, status="corrected", aq_kwh=value,
                                                reason_code=o.reason_code, effective_from=o.effective_from,
                                                calculated_on=o.decided_on))
            case NrlRow():  # TrfRow included
                record = "TRF" if isinstance(o, TrfRow) else "T04"
                eid = f"{o.mprn}:{record}:{o.issued_on}"
                values = dict(effective_from=o.effective_from, aq_kwh=o.aq_kwh, soq_kwh=o.soq_kwh, euc=o.euc,
                              formula_year_aq_kwh=o.formula_year_aq_kwh, confirmation=o.confirmation.value,
                              meter_class=o.meter_class, winter_consumption_kwh=o.winter_consumption_kwh)
                out.history.append(_row(eid, o.mprn, record, o.issued_on, **values))
                out.notifications.append(AqNotification(event_id=eid, mprn=o.mprn, record_type=record,
                                                        issued_on=o.issued_on, **values))
            case OfferAddendum():
                eid = f"{o.mprn}:S91:{o.issued_on}:{o.reason}"
                out.history.append(_row(eid, o.mprn, "S91", o.issued_on, formula_year_aq_kwh=o.formula_year_aq_kwh,
                                        euc=o.euc, reason_code=o.reason))
                out.notifications.append(AqNotification(event_id=eid, mprn=o.mprn, record_type="S91",
                                                        issued_on=o.issued_on, euc=o.euc, reason_code=o.reason,
                                                        formula_year_aq_kwh=o.formula_year_aq_kwh))
            case WinterConsumptionSuccess():
                eid = f"{o.mprn}:T50:{o.issued_on}"
                out.history.append(_row(eid, o.mprn, "T50", o.issued_on, effective_from=o.effective_from,
                                        winter_consumption_kwh=o.winter_consumption_kwh))
                out.notifications.append(AqNotification(event_id=eid, mprn=o.mprn, record_type="T50",
                                                        issued_on=o.issued_on, effective_from=o.effective_from,
                                                        winter_consumption_kwh=o.winter_consumption_kwh))
            case WinterConsumptionFailure():
                eid = f"{o.mprn}:T51:{o.issued_on}"
                out.history.append(_row(eid, o.mprn, "T51", o.issued_on, reason_code=o.reason.value))
                out.notifications.append(AqNotification(event_id=eid, mprn=o.mprn, record_type="T51",
                                                        issued_on=o.issued_on, reason_code=o.reason.value))
    return out
