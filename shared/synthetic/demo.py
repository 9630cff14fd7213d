"""The demo world as plain data: customers, accounts, sites, meters, users, contacts, a portfolio group.

``meterstream up --demo`` seeds this and replays :func:`demo_reads` so every
screen has something to show, including the awkward cases: an HH-settled
power site the portal must refuse, and a micro-business still inside its
7-day opt-out window. Passwords are the published demo ones; the seeder
hashes them like any other password.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Optional

from shared.contracts.events import SupplyPointChanged
from shared.synthetic.identifiers import mpan_check_digit
from shared.synthetic.meters import MeterSpec, Profile, SyntheticDay, meter_day

MeterType = Literal["smart", "amr"]

OPT_OUT_DAYS = 7
"""Micro-businesses have 7 days from the HH-data notice to opt out before data is shown."""
REGISTERED_ON = date(2019, 4, 1)
"""Every demo supply point predates the replayed history, so none is 'too new' for AQ."""


@dataclass(frozen=True)
class DemoCustomer:
    customer_id: str
    name: str
    micro_business: bool
    hh_notice_sent_on: Optional[date] = None

    @property
    def opt_out_window_ends(self) -> Optional[date]:
        if self.hh_notice_sent_on is None:
            return None
        return self.hh_notice_sent_on + timedelta(days=OPT_OUT_DAYS)


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    customer_id: str
    name: str


@dataclass(frozen=True)
class DemoSupplyPoint:
    spec: MeterSpec
    meter_type: MeterType
    profile_class: Optional[str] = None
    settlement: Literal["nhh", "hh"] = "nhh"
    ldz: Optional[str] = None

    @property
    def mpxn(self) -> str:
        return self.spec.mpxn


@dataclass(frozen=True)
class DemoSite:
    site_id: str
    name: str
    account_id: str
    town: str
    postcode: str
    supply_points: tuple[DemoSupplyPoint, ...]


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    role: Literal["customer", "broker", "operations"]
    display_name: str
    account_ids: tuple[str, ...] = ()
    """Accounts the user may see; operations users see everything and list none."""


@dataclass(frozen=True)
class DemoContact:
    contact_id: str
    customer_id: str
    name: str
    email: str
    contact_type: str
    editable: bool
    """'General' contacts come from billing records: visible in the portal but read-only."""


@dataclass(frozen=True)
class DemoPortfolioGroup:
    group_id: str
    name: str
    owner_email: str
    site_ids: tuple[str, ...]


@dataclass(frozen=True)
class DemoDataset:
    customers: tuple[DemoCustomer, ...]
    accounts: tuple[DemoAccount, ...]
    sites: tuple[DemoSite, ...]
    users: tuple[DemoUser, ...]
    contacts: tuple[DemoContact, ...]
    portfolio_groups: tuple[DemoPortfolioGroup, ...]

    def supply_points(self) -> list[tuple[DemoSite, DemoSupplyPoint]]:
        return [(site, point) for site in self.sites for point in site.supply_points]


def _mpan(first_twelve: str) -> str:
    return first_twelve + str(mpan_check_digit(first_twelve))


def _power(
    mpan12: str, profile: Profile, kwh: float, location: str, meter_type: MeterType, pc: str
) -> DemoSupplyPoint:
    """Profile class 00 means half-hourly settled; 01-08 are non-half-hourly."""
    settlement: Literal["nhh", "hh"] = "hh" if pc == "00" else "nhh"
    spec = MeterSpec(_mpan(mpan12), "electricity", profile, kwh, location)
    return DemoSupplyPoint(spec, meter_type, pc, settlement)


def _gas(mprn: str, kwh: float, location: str, meter_type: MeterType, ldz: str) -> DemoSupplyPoint:
    # AMR gas loggers drop out more often than smart meters.
    gap_rate = 0.01 if meter_type == "amr" else 0.005
    spec = MeterSpec(mprn, "gas", "heating", kwh, location, gap_rate=gap_rate)
    return DemoSupplyPoint(spec, meter_type, ldz=ldz)


NORTHWIND = "CUST-NORTHWIND"
CORNER_CAFE = "CUST-CORNERCAFE"
NORTHWIND_RETAIL = "300104512"
NORTHWIND_DISTRIBUTION = "300104513"
CORNER_CAFE_ACCOUNT = "300207731"
HEAD_OFFICE, MANCHESTER_DEPOT, LEEDS_DEPOT = "SITE-LON-HQ", "SITE-MAN-DEPOT", "SITE-LDS-DEPOT"
HH_SETTLED_SITE = "SITE-NOT-WORKS"

DEMO_EMAIL, DEMO_PASSWORD = "demo@meterstream.local", "demo-password"
BROKER_EMAIL, BROKER_PASSWORD = "broker@meterstream.local", "broker-password"
OPS_EMAIL, OPS_PASSWORD = "ops@meterstream.local", "ops-password"


def _northwind_sites() -> tuple[DemoSite, ...]:
    retail, distribution = NORTHWIND_RETAIL, NORTHWIND_DISTRIBUTION
    return (
        DemoSite(HEAD_OFFICE, "Head Office", retail, "London", "EC2A 2AP", (
            _power("120000481236", "office", 180_000, "London", "smart", "03"),
            _gas("7512009834", 350_000, "London", "smart", "NT"),
        )),
        DemoSite("SITE-BHM-SHOW", "Birmingham Showroom", retail, "Birmingham", "B5 4BU", (
            _power("140000593317", "retail", 95_000, "Birmingham", "smart", "03"),
            _gas("3308814402", 120_000, "Birmingham", "smart", "WM"),
        )),
        DemoSite("SITE-GLA-BRANCH", "Glasgow Branch", retail, "Glasgow", "G2 3AX", (
            _power("180000226418", "retail", 60_000, "Glasgow", "smart", "03"),
            _gas("9102237765", 180_000, "Glasgow", "amr", "SC"),
        )),
        DemoSite("SITE-BRS-STORE", "Bristol Store", retail, "Bristol", "BS1 3XE", (
            _power("220000771052", "retail", 75_000, "Bristol", "smart", "03"),
        )),
        DemoSite("SITE-NRW-STORE", "Norwich Store", retail, "Norwich", "NR2 1QH", (
            _power("100000315589", "retail", 70_000, "Norwich", "amr", "04"),
            _gas("5120066391", 90_000, "Norwich", "smart", "EA"),
        )),
        DemoSite(MANCHESTER_DEPOT, "Manchester Depot", distribution, "Manchester", "M17 1PG", (
            _power("160000884120", "warehouse", 320_000, "Manchester", "amr", "05"),
            _gas("4409918827", 620_000, "Manchester", "amr", "NW"),
        )),
        DemoSite(LEEDS_DEPOT, "Leeds Depot", distribution, "Leeds", "LS11 5BZ", (
            _power("230000662704", "warehouse", 240_000, "Leeds", "amr", "04"),
            _gas("6671204458", 410_000, "Leeds", "amr", "NE"),
        )),
        DemoSite("SITE-EDI-OFFICE", "Edinburgh Sales Office", distribution, "Edinburgh", "EH2 4AD", (
            _power("180000910377", "office", 45_000, "Edinburgh", "smart", "03"),
        )),
        # Half-hourly settled: the portal cannot onboard it yet (import/export handling).
        DemoSite(HH_SETTLED_SITE, "Nottingham Works", distribution, "Nottingham", "NG2 3AE", (
            _power("110000457791", "factory", 480_000, "Nottingham", "amr", "00"),
        )),
    )


def demo_dataset(today: date) -> DemoDataset:
    """The demo world as of ``today`` (the café's opt-out window is always open on the day you run it)."""
    customers = (
        DemoCustomer(NORTHWIND, "Northwind Trading Ltd", micro_business=False),
        DemoCustomer(CORNER_CAFE, "Corner Café", micro_business=True, hh_notice_sent_on=today - timedelta(days=2)),
    )
    accounts = (
        DemoAccount(NORTHWIND_RETAIL, NORTHWIND, "Northwind Trading - Offices and Stores"),
        DemoAccount(NORTHWIND_DISTRIBUTION, NORTHWIND, "Northwind Trading - Distribution"),
        DemoAccount(CORNER_CAFE_ACCOUNT, CORNER_CAFE, "Corner Café"),
    )
    cafe = DemoSite("SITE-CDF-CAFE", "Corner Café", CORNER_CAFE_ACCOUNT, "Cardiff", "CF10 1EP", (
        _power("210000138846", "retail", 24_000, "Cardiff", "smart", "03"),
        _gas("8830152264", 60_000, "Cardiff", "smart", "WS"),
    ))
    users = (
        DemoUser(DEMO_EMAIL, DEMO_PASSWORD, "customer", "Alex Morgan (Northwind)",
                 (NORTHWIND_RETAIL, NORTHWIND_DISTRIBUTION)),
        DemoUser(BROKER_EMAIL, BROKER_PASSWORD, "broker", "Sam Patel (Brightwatt Brokers)",
                 (NORTHWIND_RETAIL, NORTHWIND_DISTRIBUTION, CORNER_CAFE_ACCOUNT)),
        DemoUser(OPS_EMAIL, OPS_PASSWORD, "operations", "Operations desk"),
    )
    contacts = (
        DemoContact("CON-NW-GENERAL", NORTHWIND, "Accounts Payable", "accounts@northwind.example",
                    "General", editable=False),
        DemoContact("CON-NW-FACILITIES", NORTHWIND, "Priya Shah", "priya.shah@northwind.example",
                    "Site", editable=True),
    )
    groups = (
        DemoPortfolioGroup("PG-HQ-DEPOTS", "Head office and depots", DEMO_EMAIL,
                           (HEAD_OFFICE, MANCHESTER_DEPOT, LEEDS_DEPOT)),
    )
    return DemoDataset(customers, accounts, _northwind_sites() + (cafe,), users, contacts, groups)


def supply_point_events(dataset: DemoDataset) -> list[SupplyPointChanged]:
    """First-revision supply point events for every demo meter, HH-settled one included.

    Onboarding decisions (refusing HH-settled power, holding micro-business
    data during the opt-out window) belong to the services, so this only
    states the facts they decide on.
    """
    account_customer = {a.account_id: a.customer_id for a in dataset.accounts}
    customers = {c.customer_id: c for c in dataset.customers}
    events = []
    for site, point in dataset.supply_points():
        customer = customers[account_customer[site.account_id]]
        events.append(SupplyPointChanged(
            mpxn=point.mpxn, revision=1, fuel=point.spec.fuel, site_id=site.site_id, site_name=site.name,
            account_id=site.account_id, customer_id=customer.customer_id, meter_type=point.meter_type,
            profile_class=point.profile_class, settlement=point.settlement, ldz=point.ldz,
            postcode=site.postcode, micro_business=customer.micro_business,
            opt_out_window_ends=customer.opt_out_window_ends, registered_on=REGISTERED_ON,
        ))
    return events


def months_before(day: date, months: int) -> date:
    """The same day-of-month ``months`` earlier, clamped to the month's end (31 Mar - 1 = 29 Feb)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    first_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (first_next - timedelta(days=1)).day))


def demo_reads(
    today: date, months: int = 13, include_hh_settled: bool = False
) -> Iterator[tuple[MeterSpec, date, SyntheticDay]]:
    """Every demo meter-day from ``months`` months ago up to yesterday (D+1), day by day.

    The HH-settled meter is left out by default: its reads would only be
    refused, once per day, and bury real rejections in the demo.
    """
    dataset = demo_dataset(today)
    specs = [
        point.spec for _, point in dataset.supply_points() if include_hh_settled or point.settlement != "hh"
    ]
    day = months_before(today, months)
    while day < today:
        for spec in specs:
            yield spec, day, meter_day(spec, day)
        day += timedelta(days=1)
