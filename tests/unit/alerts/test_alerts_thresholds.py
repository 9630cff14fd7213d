"""Personal threshold rules, table-driven from seed 003 (Personal Threshold Module)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from services.alerts.domain.thresholds import (
    Account,
    Customer,
    PersonalThreshold,
    ThresholdError,
    ThresholdErrorCode,
    ThresholdSettings,
    effective_threshold,
    module_visible,
    threshold_kind,
    validate_threshold,
)

PRICED = Account("A-priced", "electricity", has_modelled_rates=True)
PRICED_GAS = Account("A-gas", "gas", has_modelled_rates=True)
PRICED_WATER = Account("A-water", "water", has_modelled_rates=True)
UNPRICED = Account("A-unpriced", "electricity", has_modelled_rates=False)
BUDGET = Account("A-budget", "gas", has_modelled_rates=True, budget_billing=True)
INACTIVE_UNPRICED = Account("A-old", "electricity", active=False, has_modelled_rates=False)
INACTIVE_BUDGET = Account("A-old-bb", "gas", active=False, has_modelled_rates=True, budget_billing=True)

ENABLED = ThresholdSettings()
DISABLED = ThresholdSettings(personal_thresholds_enabled=False)


@pytest.mark.parametrize(
    ("accounts", "kind"),
    [
        # "If all of the customer's accounts have modeled rates and none ... budget billing ... cost"
        pytest.param((PRICED,), "cost", id="single-priced"),
        pytest.param((PRICED, PRICED_GAS, PRICED_WATER), "cost", id="all-priced-mixed-fuels"),
        # "Rates Not Modeled: Users without modeled rates are only able to set a usage threshold."
        pytest.param((UNPRICED,), "usage", id="single-unpriced"),
        # "Budget Billing: Users with budget billing are only able to set a usage threshold."
        pytest.param((BUDGET,), "usage", id="single-budget-billing"),
        # "If at least one account doesn't have modeled rates or is budget billing ... usage"
        pytest.param((PRICED, UNPRICED), "usage", id="mixed-one-unpriced"),
        pytest.param((PRICED, PRICED_GAS, BUDGET), "usage", id="mixed-one-budget"),
        # "All active utility accounts ..." - inactive ones do not count
        pytest.param((PRICED, INACTIVE_UNPRICED), "cost", id="inactive-unpriced-ignored"),
        pytest.param((PRICED, INACTIVE_BUDGET), "cost", id="inactive-budget-ignored"),
        pytest.param((), "usage", id="no-accounts"),
        pytest.param((INACTIVE_UNPRICED,), "usage", id="only-inactive"),
    ],
)
def test_threshold_kind(accounts: tuple[Account, ...], kind: str) -> None:
    assert threshold_kind(accounts) == kind


@pytest.mark.parametrize(
    ("accounts", "kind", "value", "accepted"),
    [
        # "dollar threshold range of $1 - $100,000,000"
        pytest.param((PRICED,), "cost", "1", True, id="cost-1"),
        pytest.param((PRICED,), "cost", "0.99", False, id="cost-0.99"),
        pytest.param((PRICED,), "cost", "0", False, id="cost-0"),
        pytest.param((PRICED,), "cost", "-5", False, id="cost-negative"),
        pytest.param((PRICED,), "cost", "100", True, id="cost-100-seed-example"),
        pytest.param((PRICED,), "cost", "100000000", True, id="cost-100,000,000"),
        pytest.param((PRICED,), "cost", "100000000.01", False, id="cost-100,000,000.01"),
        pytest.param((PRICED,), "cost", 250, True, id="cost-int"),
        # "usage threshold percentage range of zero to 1000 percent"
        pytest.param((UNPRICED,), "usage", "0", True, id="usage-0"),
        pytest.param((UNPRICED,), "usage", "-0.01", False, id="usage-minus-0.01"),
        pytest.param((UNPRICED,), "usage", "25", True, id="usage-25-seed-example"),
        pytest.param((UNPRICED,), "usage", "1000", True, id="usage-1000"),
        pytest.param((UNPRICED,), "usage", "1000.01", False, id="usage-1000.01"),
        pytest.param((BUDGET,), "usage", 30.5, True, id="usage-budget-float"),
    ],
)
def test_validate_threshold_ranges(
    accounts: tuple[Account, ...], kind: str, value: object, accepted: bool
) -> None:
    if accepted:
        result = validate_threshold(accounts, kind, value, ENABLED)
        assert result == PersonalThreshold(kind, Decimal(str(value)))  # type: ignore[arg-type]
    else:
        with pytest.raises(ThresholdError) as err:
            validate_threshold(accounts, kind, value, ENABLED)
        assert err.value.code is ThresholdErrorCode.OUT_OF_RANGE
        assert "between" in str(err.value)


@pytest.mark.parametrize(
    ("accounts", "kind", "message_part"),
    [
        pytest.param((UNPRICED,), "cost", "only set a usage threshold", id="cost-without-rates"),
        pytest.param((PRICED, BUDGET), "cost", "only set a usage threshold", id="cost-with-budget"),
        pytest.param((PRICED,), "usage", "only set a cost threshold", id="usage-when-all-priced"),
        pytest.param((PRICED,), "voltage", "only set a cost threshold", id="unknown-kind"),
    ],
)
def test_wrong_kind_is_refused(accounts: tuple[Account, ...], kind: str, message_part: str) -> None:
    with pytest.raises(ThresholdError) as err:
        validate_threshold(accounts, kind, "50", ENABLED)
    assert err.value.code is ThresholdErrorCode.WRONG_KIND
    assert message_part in err.value.message


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", True, None, ""])
def test_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(ThresholdError) as err:
        validate_threshold((UNPRICED,), "usage", value, ENABLED)
    assert err.value.code is ThresholdErrorCode.NOT_A_NUMBER


def test_setting_is_refused_when_module_disabled() -> None:
    with pytest.raises(ThresholdError) as err:
        validate_threshold((UNPRICED,), "usage", "30", DISABLED)
    assert err.value.code is ThresholdErrorCode.DISABLED


def test_cost_range_message_uses_account_currency() -> None:
    dollars = Account("A-us", "electricity", has_modelled_rates=True, currency="USD")
    with pytest.raises(ThresholdError, match=r"\$1\.00 and \$100,000,000\.00"):
        validate_threshold((dollars,), "cost", "0.5", ENABLED)


@pytest.mark.parametrize(
    ("settings", "visible"),
    [pytest.param(ENABLED, True, id="enabled"), pytest.param(DISABLED, False, id="disabled-hidden")],
)
def test_module_visible(settings: ThresholdSettings, visible: bool) -> None:
    # "If the utility does not implement the personal threshold, this module is fully hidden"
    assert module_visible(settings) is visible


def _customer(*accounts: Account, personal: PersonalThreshold | None = None) -> Customer:
    return Customer("C1", accounts, personal)


COST_100 = PersonalThreshold("cost", Decimal("100"))
USAGE_25 = PersonalThreshold("usage", Decimal("25"))


@pytest.mark.parametrize(
    ("customer", "settings", "fuel", "expected"),
    [
        # "threshold defaults to the utility-set threshold until the customer sets their personal threshold"
        pytest.param(_customer(PRICED), ENABLED, "electricity", ("utility_default", "combined", "30"), id="default-30"),
        pytest.param(
            _customer(UNPRICED), ThresholdSettings(default_percent=Decimal("20")), "gas",
            ("utility_default", "combined", "20"), id="default-configurable",
        ),
        pytest.param(_customer(PRICED, personal=COST_100), ENABLED, "electricity", ("personal", "cost", "100"), id="personal-cost"),
        pytest.param(_customer(UNPRICED, personal=USAGE_25), ENABLED, "electricity", ("personal", "usage", "25"), id="personal-usage"),
        # stale: a cost threshold no longer fits once an account is on budget billing
        pytest.param(_customer(PRICED, BUDGET, personal=COST_100), ENABLED, "gas", ("utility_default", "combined", "30"), id="stale-kind-falls-back"),
        # "If the utility does not implement the personal threshold" - only the default applies
        pytest.param(_customer(PRICED, personal=COST_100), DISABLED, "electricity", ("utility_default", "combined", "30"), id="disabled-personal-ignored"),
        # "For utilities that include water in their HBAs, there is no utility-wide threshold."
        pytest.param(_customer(PRICED_WATER), ENABLED, "water", None, id="water-no-personal"),
        # "Water customers must set a cost threshold to receive an alert."
        pytest.param(_customer(PRICED_WATER, personal=COST_100), ENABLED, "water", ("personal", "cost", "100"), id="water-personal-cost"),
        pytest.param(_customer(PRICED_WATER, UNPRICED, personal=USAGE_25), ENABLED, "water", None, id="water-usage-threshold-not-enough"),
        pytest.param(_customer(PRICED_WATER, personal=COST_100), DISABLED, "water", None, id="water-module-disabled"),
        pytest.param(_customer(PRICED_WATER, PRICED), ENABLED, "electricity", ("utility_default", "combined", "30"), id="water-customer-electricity-default"),
    ],
)
def test_effective_threshold(
    customer: Customer, settings: ThresholdSettings, fuel: str, expected: tuple[str, str, str] | None
) -> None:
    result = effective_threshold(customer, settings, fuel)  # type: ignore[arg-type]
    if expected is None:
        assert result is None
        return
    assert result is not None
    assert (result.source, result.kind, result.value) == (expected[0], expected[1], Decimal(expected[2]))


@pytest.mark.parametrize(
    ("customer", "settings", "fragments", "link"),
    [
        pytest.param(
            _customer(PRICED, personal=COST_100), ENABLED,
            ["Your threshold is £100.00", "Change it here: /preferences/high-bill-alerts"], "/preferences/high-bill-alerts",
            id="personal-cost",
        ),
        pytest.param(
            _customer(UNPRICED, personal=USAGE_25), ENABLED,
            ["Your threshold is 25%", "above the same bill period last year", "Change it here"], "/preferences/high-bill-alerts",
            id="personal-usage",
        ),
        # "The module encourages them to set their own threshold and provides a link"
        pytest.param(
            _customer(PRICED), ThresholdSettings(change_link="https://portal.example/thresholds"),
            ["standard threshold of 30%", "Set your own threshold here: https://portal.example/thresholds"],
            "https://portal.example/thresholds", id="default-encourages",
        ),
        pytest.param(_customer(PRICED), DISABLED, ["standard threshold of 30%"], None, id="disabled-no-link"),
    ],
)
def test_explanation_text(
    customer: Customer, settings: ThresholdSettings, fragments: list[str], link: str | None
) -> None:
    result = effective_threshold(customer, settings, "electricity")
    assert result is not None
    for fragment in fragments:
        assert fragment in result.explanation
    assert result.change_link == link
    if link is None:
        assert "here" not in result.explanation
