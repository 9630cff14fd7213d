"""Enrolment status of an account (portal document, seed 000)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

OPT_OUT_DAYS = 7

EnrolmentStatus = Literal["opted_out", "opt_out_window", "awaiting_contact_details", "active"]


def opt_out_window_end(micro_business: bool, notice_on: date | None) -> date | None:
    """Micro-businesses get 7 days from their enrolment notice to opt out."""
    if not micro_business or notice_on is None:
        return None
    return notice_on + timedelta(days=OPT_OUT_DAYS)


def enrolment_status(*, micro_business: bool, notice_on: date | None, opted_out_on: date | None,
                     has_contact: bool, auto_enrolled: bool, today: date) -> EnrolmentStatus:
    """Opted out, inside the micro-business opt-out window, waiting for contact
    details (not enrolled automatically and no contact known), or active.

    Enrolment is automatic for accounts whose users already use the billing
    portal and for accounts a broker manages.
    """
    if opted_out_on is not None:
        return "opted_out"
    window_end = opt_out_window_end(micro_business, notice_on)
    if window_end is not None and today < window_end:
        return "opt_out_window"
    if not has_contact and not auto_enrolled:
        return "awaiting_contact_details"
    return "active"


def data_visible(status: str) -> bool:
    """HH data is shown only once enrolment is active (held during the window)."""
    return status == "active"


def can_opt_out(status: str) -> bool:
    return status == "opt_out_window"
