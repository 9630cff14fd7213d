"""Personal thresholds and recorded High Bill decisions."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, func, select

from services.alerts.adapters import tables as t
from services.alerts.domain.projection import Decision
from services.alerts.domain.thresholds import PersonalThreshold
from shared import db


def personal_threshold(conn: Connection, customer_id: str) -> PersonalThreshold | None:
    row = conn.execute(select(t.thresholds).where(t.thresholds.c.customer_id == customer_id)).first()
    return PersonalThreshold(row.kind, Decimal(str(row.value)).normalize()) if row else None


def set_personal_threshold(conn: Connection, customer_id: str, threshold: PersonalThreshold, user_id: str,
                           now: datetime) -> None:
    db.upsert(conn, t.thresholds, [{"customer_id": customer_id, "kind": threshold.kind, "value": threshold.value,
                                    "set_by": user_id, "updated_at": now}],
              keys=["customer_id"], update=["kind", "value", "set_by", "updated_at"])


def record_decision(conn: Connection, account_id: str, decision: Decision, as_of, now: datetime) -> None:
    """Keep the latest decision per account and bill period."""
    threshold, baseline = decision.threshold, decision.baseline
    row = {
        "account_id": account_id, "period_start": decision.period.start, "period_end": decision.period.end,
        "as_of": as_of, "alert": decision.alert, "reason": decision.reason.value,
        "projected_usage": decision.projected_usage, "projected_cost": decision.projected_cost,
        "baseline_usage": baseline.usage if baseline else None, "baseline_cost": baseline.cost if baseline else None,
        "threshold_source": threshold.source if threshold else None,
        "threshold_kind": threshold.kind if threshold else None,
        "threshold_value": float(threshold.value) if threshold else None,
        "read_coverage": decision.read_coverage, "rate_modelled_coverage": decision.rate_modelled_coverage,
        "weather_factor": decision.weather.factor if decision.weather else None,
        "weather_note": decision.weather.note.value if decision.weather else None,
        "decided_at": now,
    }
    db.upsert(conn, t.high_bill_decisions, [row], keys=["account_id", "period_start"],
              update=[c for c in row if c not in ("account_id", "period_start")])


def latest_decision(conn: Connection, account_id: str):
    d = t.high_bill_decisions
    return conn.execute(select(d).where(d.c.account_id == account_id)
                        .order_by(d.c.period_start.desc()).limit(1)).first()


def history_start(conn: Connection, mpxns: list[str]):
    if not mpxns:
        return None
    u = t.daily_usage
    return conn.execute(select(func.min(u.c.settlement_date)).where(u.c.mpxn.in_(mpxns))).scalar_one()


def decision_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(t.high_bill_decisions)).scalar_one()
