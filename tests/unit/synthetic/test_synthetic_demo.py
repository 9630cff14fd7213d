"""The demo world: who and what it contains, and the reads replayed for it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.synthetic.demo import (
    BROKER_EMAIL,
    DEMO_EMAIL,
    OPS_EMAIL,
    demo_dataset,
    demo_reads,
    months_before,
    supply_point_events,
)
from shared.synthetic.identifiers import is_valid_mpan_core

TODAY = date(2025, 2, 10)
DATA = demo_dataset(TODAY)


def _customer(name: str):
    return next(c for c in DATA.customers if c.name == name)


def _sites_of(customer_id: str):
    accounts = {a.account_id for a in DATA.accounts if a.customer_id == customer_id}
    return [s for s in DATA.sites if s.account_id in accounts]


def test_northwind_is_a_non_micro_customer_with_two_accounts() -> None:
    northwind = _customer("Northwind Trading Ltd")
    assert not northwind.micro_business
    assert northwind.opt_out_window_ends is None
    assert len([a for a in DATA.accounts if a.customer_id == northwind.customer_id]) == 2


def test_northwind_sites_span_the_uk_with_both_fuels_and_meter_types() -> None:
    sites = _sites_of(_customer("Northwind Trading Ltd").customer_id)
    nhh = [s for s in sites if all(p.settlement == "nhh" for p in s.supply_points)]
    assert 7 <= len(nhh) <= 9
    assert len({s.town for s in sites}) >= 7
    points = [p for s in nhh for p in s.supply_points]
    assert {p.spec.fuel for p in points} == {"electricity", "gas"}
    assert {p.meter_type for p in points} == {"smart", "amr"}
    assert {p.profile_class for p in points if p.spec.fuel == "electricity"} == {"03", "04", "05"}
    gas_ldzs = {p.ldz for p in points if p.spec.fuel == "gas"}
    assert {"EA", "NW", "SC", "WM"} <= gas_ldzs
    assert all(p.ldz is None for p in points if p.spec.fuel == "electricity")


def test_one_hh_settled_power_site_is_there_to_be_refused() -> None:
    hh = [(s, p) for s, p in DATA.supply_points() if p.settlement == "hh"]
    assert len(hh) == 1
    _, point = hh[0]
    assert point.profile_class == "00"
    assert point.spec.fuel == "electricity"


def test_corner_cafe_is_a_micro_business_inside_its_opt_out_window() -> None:
    cafe = _customer("Corner Café")
    assert cafe.micro_business
    assert cafe.hh_notice_sent_on < TODAY < cafe.opt_out_window_ends
    assert cafe.opt_out_window_ends - cafe.hh_notice_sent_on == timedelta(days=7)
    assert 1 <= len(_sites_of(cafe.customer_id)) <= 2


@pytest.mark.parametrize(
    ("email", "password", "role", "customers"),
    [
        (DEMO_EMAIL, "demo-password", "customer", {"Northwind Trading Ltd"}),
        (BROKER_EMAIL, "broker-password", "broker", {"Northwind Trading Ltd", "Corner Café"}),
        (OPS_EMAIL, "ops-password", "operations", set()),
    ],
)
def test_users_and_what_they_manage(email: str, password: str, role: str, customers: set[str]) -> None:
    user = next(u for u in DATA.users if u.email == email)
    assert (user.password, user.role) == (password, role)
    names = {c.customer_id: c.name for c in DATA.customers}
    owner = {a.account_id: names[a.customer_id] for a in DATA.accounts}
    assert {owner[a] for a in user.account_ids} == customers


def test_broker_manages_every_account_of_both_customers() -> None:
    broker = next(u for u in DATA.users if u.email == BROKER_EMAIL)
    assert set(broker.account_ids) == {a.account_id for a in DATA.accounts}


def test_general_contact_is_read_only_and_another_is_editable() -> None:
    general = [c for c in DATA.contacts if c.contact_type == "General"]
    assert len(general) == 1 and not general[0].editable
    assert any(c.editable for c in DATA.contacts if c.contact_type != "General")


def test_portfolio_group_has_three_existing_sites() -> None:
    (group,) = DATA.portfolio_groups
    assert group.name == "Head office and depots"
    assert group.owner_email == DEMO_EMAIL
    site_ids = {s.site_id for s in DATA.sites}
    assert len(set(group.site_ids)) == 3 and set(group.site_ids) <= site_ids


def test_identifiers_are_unique_and_valid() -> None:
    points = [p for _, p in DATA.supply_points()]
    assert len({p.mpxn for p in points}) == len(points)
    assert len({s.site_id for s in DATA.sites}) == len(DATA.sites)
    for point in points:
        if point.spec.fuel == "electricity":
            assert is_valid_mpan_core(point.mpxn)
        else:
            assert point.mpxn.isdigit() and 6 <= len(point.mpxn) <= 10


def test_dataset_is_a_pure_function_of_today() -> None:
    assert demo_dataset(TODAY) == DATA


def test_supply_point_events_state_the_onboarding_facts() -> None:
    events = {e.mpxn: e for e in supply_point_events(DATA)}
    assert len(events) == len(DATA.supply_points())
    hh = [e for e in events.values() if e.settlement == "hh"]
    assert [e.profile_class for e in hh] == ["00"]
    cafe = [e for e in events.values() if e.micro_business]
    assert cafe and all(e.opt_out_window_ends == TODAY + timedelta(days=5) for e in cafe)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 2, 10), 13, date(2024, 1, 10)),
        (date(2025, 3, 31), 1, date(2025, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2025, 1, 15), 1, date(2024, 12, 15)),
        (date(2025, 1, 15), 0, date(2025, 1, 15)),
    ],
)
def test_months_before_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


def test_demo_reads_cover_every_onboardable_meter_daily_up_to_yesterday() -> None:
    reads = list(demo_reads(TODAY, months=1))
    meters = {p.mpxn for _, p in DATA.supply_points() if p.settlement == "nhh"}
    days = [d for _, d, _ in reads]
    assert days == sorted(days)
    assert days[0] == date(2025, 1, 10)
    assert days[-1] == TODAY - timedelta(days=1)
    assert {s.mpxn for s, _, _ in reads} == meters
    assert len(reads) == 31 * len(meters)


def test_demo_reads_can_include_the_hh_settled_meter() -> None:
    meters = {s.mpxn for s, _, _ in demo_reads(TODAY, months=1, include_hh_settled=True)}
    assert meters == {p.mpxn for _, p in DATA.supply_points()}


def test_no_months_means_no_reads() -> None:
    assert list(demo_reads(TODAY, months=0)) == []
