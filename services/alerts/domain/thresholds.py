"""Personal High Bill Alert thresholds (seed 003, "Personal Threshold Module").

Which kind of threshold a customer may set depends on *all* their active
accounts: a cost threshold needs every active account to have modelled rates
and none to be on budget billing, because a bill in money can only be
projected when every account can be priced and budget billing hides the real
bill. Everyone else sets a usage threshold, a percentage above the same bill
period last year.

Until a customer sets a threshold the utility-wide default applies (a
percentage that applies to usage and, where it can be projected, to cost).
Water is different: there is no utility default, so only customers who opted
in with a personal *cost* threshold get water alerts.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal

Fuel = Literal["electricity", "gas", "water"]
ThresholdKind = Literal["cost", "usage"]

COST_MIN = Decimal("1")
COST_MAX = Decimal("100000000")
USAGE_MIN_PERCENT = Decimal("0")
USAGE_MAX_PERCENT = Decimal("1000")
RECOMMENDED_DEFAULT_PERCENT = Decimal("30")

_CURRENCY_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}


class ThresholdErrorCode(StrEnum):
    """Machine-readable reasons a threshold is refused (the API answers 422)."""

    WRONG_KIND = "wrong_kind"
    OUT_OF_RANGE = "out_of_range"
    NOT_A_NUMBER = "not_a_number"
    DISABLED = "personal_thresholds_disabled"


class ThresholdError(ValueError):
    """A requested threshold that cannot be accepted; ``str()`` is user-facing."""

    def __init__(self, code: ThresholdErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Account:
    """The facts about one utility account that the threshold rules need."""

    account_id: str
    fuel: Fuel
    active: bool = True
    has_modelled_rates: bool = False
    budget_billing: bool = False
    currency: str = "GBP"


@dataclass(frozen=True)
class PersonalThreshold:
    """A threshold the customer chose: money for ``cost``, percent for ``usage``."""

    kind: ThresholdKind
    value: Decimal


@dataclass(frozen=True)
class Customer:
    customer_id: str
    accounts: tuple[Account, ...]
    personal: PersonalThreshold | None = None


@dataclass(frozen=True)
class ThresholdSettings:
    """Operator configuration for High Bill Alerts."""

    personal_thresholds_enabled: bool = True
    default_percent: Decimal = RECOMMENDED_DEFAULT_PERCENT
    change_link: str = "/preferences/high-bill-alerts"


@dataclass(frozen=True)
class EffectiveThreshold:
    """The threshold an alert is judged against, with the portal module's text.

    ``kind`` is ``combined`` for the utility default: the same percentage
    applies to projected usage and, when it can be projected, cost.
    ``value`` is money for ``cost`` and a percentage otherwise.
    ``change_link`` is ``None`` when the operator hides the module.
    """

    source: Literal["personal", "utility_default"]
    kind: Literal["cost", "usage", "combined"]
    value: Decimal
    currency: str
    explanation: str
    change_link: str | None


def active_accounts(accounts: Iterable[Account]) -> list[Account]:
    """Inactive accounts never influence the threshold kind."""
    return [a for a in accounts if a.active]


def threshold_kind(accounts: Iterable[Account]) -> ThresholdKind:
    """``cost`` only when every active account is priced and none is budget billing.

    A customer with no active account gets ``usage``: a cost threshold needs
    positive evidence that every bill can be priced.
    """
    active = active_accounts(accounts)
    if active and all(a.has_modelled_rates and not a.budget_billing for a in active):
        return "cost"
    return "usage"


def module_visible(settings: ThresholdSettings) -> bool:
    """The Personal Threshold module (and its API) exists only when enabled."""
    return settings.personal_thresholds_enabled


def _as_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ThresholdError(ThresholdErrorCode.NOT_A_NUMBER, "The threshold must be a number.")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ThresholdError(ThresholdErrorCode.NOT_A_NUMBER, "The threshold must be a number.") from None
    if not number.is_finite():
        raise ThresholdError(ThresholdErrorCode.NOT_A_NUMBER, "The threshold must be a finite number.")
    return number


def _currency_of(accounts: Iterable[Account]) -> str:
    active = active_accounts(accounts)
    return active[0].currency if active else "GBP"


def format_money(amount: Decimal, currency: str) -> str:
    """``£1,234.50``; unknown currencies fall back to ``XYZ 1,234.50``."""
    symbol = _CURRENCY_SYMBOLS.get(currency)
    text = f"{amount:,.2f}"
    return f"{symbol}{text}" if symbol else f"{currency} {text}"


def format_percent(value: Decimal) -> str:
    """``30%``, ``12.5%``: no trailing zeros."""
    text = f"{value.normalize():f}"
    return f"{text}%"


def validate_threshold(
    accounts: Iterable[Account],
    kind: str,
    value: object,
    settings: ThresholdSettings,
) -> PersonalThreshold:
    """Accept a requested threshold or raise :class:`ThresholdError`.

    Ranges are inclusive: cost 1 to 100,000,000 in the account currency,
    usage 0 to 1000 percent above the same bill period last year.
    """
    if not module_visible(settings):
        raise ThresholdError(
            ThresholdErrorCode.DISABLED, "Personal thresholds are not available."
        )
    accounts = list(accounts)
    allowed = threshold_kind(accounts)
    if kind != allowed:
        why = (
            "every active account has modelled rates and none is on budget billing"
            if allowed == "cost"
            else "at least one active account has no modelled rates or is on budget billing"
        )
        raise ThresholdError(
            ThresholdErrorCode.WRONG_KIND,
            f"You can only set a {allowed} threshold because {why}.",
        )
    number = _as_decimal(value)
    if kind == "cost":
        currency = _currency_of(accounts)
        if not COST_MIN <= number <= COST_MAX:
            raise ThresholdError(
                ThresholdErrorCode.OUT_OF_RANGE,
                f"A cost threshold must be between {format_money(COST_MIN, currency)} "
                f"and {format_money(COST_MAX, currency)}.",
            )
    elif not USAGE_MIN_PERCENT <= number <= USAGE_MAX_PERCENT:
        raise ThresholdError(
            ThresholdErrorCode.OUT_OF_RANGE,
            "A usage threshold must be between 0% and 1000% above the same bill period last year.",
        )
    return PersonalThreshold(kind=allowed, value=number)


def _personal_applies(customer: Customer, settings: ThresholdSettings) -> bool:
    """A stored threshold counts only while enabled and still of the allowed kind.

    If an account later loses modelled rates (or joins budget billing) a
    stored cost threshold no longer fits, so the default takes over until the
    customer sets a usage threshold.
    """
    personal = customer.personal
    return (
        settings.personal_thresholds_enabled
        and personal is not None
        and personal.kind == threshold_kind(customer.accounts)
    )


def effective_threshold(
    customer: Customer,
    settings: ThresholdSettings,
    fuel: Fuel | None = None,
) -> EffectiveThreshold | None:
    """The threshold that applies to ``customer`` (for an account of ``fuel``).

    Returns ``None`` when no alert can be sent: water without a personal cost
    threshold, because water has no utility default.
    """
    currency = _currency_of(customer.accounts)
    link = settings.change_link if module_visible(settings) else None
    personal = customer.personal if _personal_applies(customer, settings) else None
    if fuel == "water" and (personal is None or personal.kind != "cost"):
        return None
    if personal is not None:
        if personal.kind == "cost":
            limit = format_money(personal.value, currency)
            what = f"{limit}: we send a High Bill Alert only when your projected bill is more than {limit}"
        else:
            pct = format_percent(personal.value)
            what = (
                f"{pct}: we send a High Bill Alert only when your projected use is more than "
                f"{pct} above the same bill period last year"
            )
        return EffectiveThreshold(
            source="personal",
            kind=personal.kind,
            value=personal.value,
            currency=currency,
            explanation=f"Your threshold is {what}. Change it here: {link}",
            change_link=link,
        )
    pct = format_percent(settings.default_percent)
    text = (
        f"You are using our standard threshold of {pct}: we send a High Bill Alert when your "
        f"projected use or bill is more than {pct} above the same bill period last year."
    )
    if link is not None:
        text += f" Set your own threshold here: {link}"
    return EffectiveThreshold(
        source="utility_default",
        kind="combined",
        value=settings.default_percent,
        currency=currency,
        explanation=text,
        change_link=link,
    )
