"""Seeding the demo customer and replaying its history through the public API."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from meterstream.client import ApiClient
from services.portfolio.entrypoints.admin import ensure_user
from shared.config import Settings
from shared.hh import LONDON, periods_in_day
from shared.synthetic.demo import (
    CORNER_CAFE_ACCOUNT, NORTHWIND_DISTRIBUTION, NORTHWIND_RETAIL, OPS_EMAIL, OPS_PASSWORD, DemoDataset, demo_dataset,
    demo_reads,
)
from shared.synthetic.files import wide_csv


# The demo supply points have been with the supplier for years, so gas points
# are past the 9-month new-point rule and the Rolling AQ calendar calculates.
ON_SUPPLY_SINCE = date(2019, 4, 1)


def user_id(email: str) -> str:
    return "USR-" + email.split("@")[0].upper()


def directory(dataset: DemoDataset) -> dict:
    """The demo world as a portfolio directory document (PUT /api/v1/admin/directory)."""
    # Billing facts alerts decides cost vs usage thresholds on: Northwind's retail
    # account has fully modelled rates, its distribution account is on budget
    # billing, the cafe has a unit rate but no modelled tariff.
    billing: dict[str, dict] = {
        NORTHWIND_RETAIL: {"bill_cycle_day": 1, "has_modelled_rates": True, "unit_rate_per_kwh": 0.245,
                           "standing_charge_per_day": 0.62},
        NORTHWIND_DISTRIBUTION: {"bill_cycle_day": 15, "has_modelled_rates": True, "budget_billing": True,
                                 "unit_rate_per_kwh": 0.231, "standing_charge_per_day": 1.15},
        CORNER_CAFE_ACCOUNT: {"bill_cycle_day": 8, "unit_rate_per_kwh": 0.268},
    }
    first_account = {}
    for a in dataset.accounts:
        first_account.setdefault(a.customer_id, a.account_id)
    customers = []
    for c in dataset.customers:
        accounts = []
        for a in (a for a in dataset.accounts if a.customer_id == c.customer_id):
            accounts.append({
                "id": a.account_id, "name": a.name, "enrolment_notice_on": c.hh_notice_sent_on,
                **billing.get(a.account_id, {}),
                "sites": [
                    {"id": s.site_id, "name": s.name, "postcode": s.postcode, "weather_location": s.town,
                     "supply_points": [
                         {"mpxn": p.mpxn, "fuel": p.spec.fuel, "meter_type": p.meter_type,
                          "profile_class": p.profile_class, "settlement": p.settlement, "ldz": p.ldz,
                          "registered_on": ON_SUPPLY_SINCE}
                         for p in s.supply_points]}
                    for s in dataset.sites if s.account_id == a.account_id
                ],
                "contacts": [
                    {"id": ct.contact_id, "type": ct.contact_type, "name": ct.name, "email": ct.email}
                    for ct in dataset.contacts if first_account[ct.customer_id] == a.account_id
                ],
            })
        customers.append({"id": c.customer_id, "name": c.name, "micro_business": c.micro_business, "accounts": accounts})
    users = [
        {"id": user_id(u.email), "email": u.email, "name": u.display_name, "role": u.role, "password": u.password,
         "billing_portal_user": u.role == "customer", "account_ids": list(u.account_ids)}
        for u in dataset.users
    ]
    groups = [
        {"id": g.group_id, "owner_user_id": user_id(g.owner_email), "name": g.name, "site_ids": list(g.site_ids)}
        for g in dataset.portfolio_groups
    ]
    return {"customers": customers, "users": users, "groups": groups}


def run_demo(settings: Settings, gateway_url: str, months: int = 13, console: Console | None = None,
             today: date | None = None) -> dict:
    """Seed the demo directory, then replay ``months`` of HH data, one file per month."""
    console = console or Console(stderr=True)
    today = today or datetime.now(LONDON).date()
    dataset = demo_dataset(today)
    ensure_user(settings, OPS_EMAIL, OPS_PASSWORD, "operations", "Operations desk")
    api = ApiClient(gateway_url).login(OPS_EMAIL, OPS_PASSWORD)
    api.put("/api/v1/admin/directory", directory(dataset))
    n_points = len(dataset.supply_points())
    api.wait_for(lambda s: s["ingest"]["supply_points"] >= n_points, "ingest to learn the demo supply points")

    # One file per month, as a data collector's monthly catch-up would send;
    # clock-change days go in files of their own whose header has 46 or 50 columns.
    files: dict[tuple[int, int, date | None], list] = defaultdict(list)
    for spec, day, reads in demo_reads(today, months):
        files[(day.year, day.month, day if periods_in_day(day) != 48 else None)].append((spec.mpxn, day, reads))
    totals: dict[str, int] = defaultdict(int)
    with Progress(TextColumn("replaying demo history"), BarColumn(), MofNCompleteColumn(), TextColumn("meter-days"),
                  TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("replay", total=sum(len(v) for v in files.values()))
        for (year, month, special_day), rows in sorted(files.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or date.min)):
            name = f"demo-{special_day or f'{year}-{month:02d}'}.csv"
            summary = api.upload(name, "".join(wide_csv(rows, header_day=special_day, flags=True)).encode())
            for key in ("accepted", "unchanged", "superseded", "rejected", "flagged"):
                totals[key] += summary["counts"].get(key, 0)
            progress.advance(task, len(rows))
    stored = api.wait_for(lambda s: s["portfolio"]["meter_days"] >= totals["accepted"], "portfolio to store the replay")

    table = Table(title="demo ready", show_header=False)
    for u in dataset.users:
        table.add_row(u.role, u.email, u.password)
    table.add_row("meter-days", f"{totals['accepted']} accepted, {totals['rejected']} rejected, {totals['flagged']} flagged",
                  f"{stored['portfolio']['meter_days']} stored")
    console.print(table)
    return dict(totals)

