"""Reading CRM migration exports: the sample, every refusal reason, and the
single CSV and ZIP packagings giving the same directory."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest

from services.portfolio.domain.crm import CrmFormatError, CrmTooLarge, parse_crm, user_id_for

SAMPLE = Path(__file__).parents[2] / "fixtures" / "portfolio" / "crm_sample.csv"

CUSTOMER = {"record_type": "customer", "customer_id": "C1", "name": "Acme Ltd"}
ACCOUNT = {"record_type": "account", "account_id": "3001000001", "customer_id": "C1", "name": "Acme main"}
SITE = {"record_type": "site", "site_id": "S1", "account_id": "3001000001", "name": "Works", "postcode": "s9 1xh"}
POWER = {"record_type": "supply_point", "mpxn": "2300018455300", "site_id": "S1", "fuel": "electricity",
         "meter_type": "smart", "profile_class": "03"}
GAS = {"record_type": "supply_point", "mpxn": "7310042286", "site_id": "S1", "fuel": "gas", "meter_type": "amr",
       "ldz": "ne"}
USER = {"record_type": "user", "email": "Jo@Acme.example", "name": "Jo", "role": "customer",
        "account_ids": "3001000001"}
BASE = [CUSTOMER, ACCOUNT, SITE, POWER, GAS, USER]


def csv_bytes(rows: list[dict], columns: list[str] | None = None) -> bytes:
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def parse(*rows: dict, **kwargs):
    return parse_crm(csv_bytes(list(rows)), "crm.csv", **kwargs)


def reasons(export) -> list[tuple[int, str, str]]:
    return [(r.row, r.record_type, r.reason) for r in export.refused]


def only_reason(*rows: dict, **kwargs) -> str:
    export = parse(*rows, **kwargs)
    assert len(export.refused) == 1, export.refused
    return export.refused[0].reason


def test_sample_export():
    export = parse_crm(SAMPLE.read_bytes(), SAMPLE.name)
    d = export.directory
    assert export.rows == 35
    assert [c.name for c in d.customers] == ["Acme Engineering Ltd", "Harbour Bakery", "Fenwick Logistics Ltd"]
    assert export.account_ids == ["3001120001", "3001120002", "3002230001", "3003340001"]
    bakery = d.customers[1]
    assert bakery.micro_business and bakery.accounts[0].enrolment_notice_on.isoformat() == "2024-09-24"
    points = {p.mpxn: p for c in d.customers for a in c.accounts for s in a.sites for p in s.supply_points}
    assert len(points) == 6
    assert points["1100045128731"].settlement == "hh"  # HH-settled power is imported; onboarding is the portal's call
    assert points["2200091284412"].profile_class == "03"
    assert points["5830019924"].fuel == "gas" and points["5830019924"].ldz == "SW"
    general = [ct for c in d.customers for a in c.accounts for ct in a.contacts if ct.type == "General"]
    assert {ct.id for ct in general} == {"CRM-K-30001", "CRM-K-30003"}
    users = {u.email: u for u in d.users}
    assert users["jo.bennett@acme-eng.example"].account_ids == ["3001120001", "3001120002"]  # two rows merged
    broker = users["lucy.grant@greenline-brokers.example"]
    assert broker.role == "broker" and broker.billing_portal_user
    assert broker.account_ids == ["3001120001", "3001120002", "3003340001"]  # two customers
    assert all(u.password is None for u in d.users)
    assert {(r.row, r.record_type) for r in export.refused} == {
        (5, "customer"), (10, "account"), (15, "site"), (16, "site"), (17, "site"), (24, "supply_point"),
        (25, "supply_point"), (26, "supply_point"), (33, "user"), (35, "broker"), (36, "invoice")}


def test_clean_export_and_normalisation():
    export = parse(*BASE)
    assert export.refused == []
    site = export.directory.customers[0].accounts[0].sites[0]
    assert site.postcode == "S9 1XH" and [p.ldz for p in site.supply_points] == [None, "NE"]
    (user,) = export.directory.users
    assert user.email == "jo@acme.example" and user.id == user_id_for("jo@acme.example")


def test_row_order_does_not_matter():
    children_first = [USER, POWER, GAS, SITE, ACCOUNT, CUSTOMER]
    assert parse(*children_first).directory == parse(*BASE).directory


@pytest.mark.parametrize("row, reason", [
    ({**CUSTOMER, "customer_id": "C2", "name": ""}, "missing required field name"),
    ({**SITE, "site_id": "S2", "account_id": "3009999999"}, "unknown account 3009999999"),
    ({**POWER, "mpxn": "230001845530"}, "invalid MPAN 230001845530: an MPAN core has 13 digits, not 12"),
    ({**POWER, "mpxn": "2300018455301"}, "invalid MPAN 2300018455301: wrong check digit"),
    ({**POWER, "mpxn": "23000184553A0"}, "invalid MPxN '23000184553A0': digits only"),
    ({**GAS, "mpxn": "73100422861"}, "invalid MPRN 73100422861: an MPRN has 6 to 10 digits, not 11"),
    ({**GAS, "mpxn": "73100"}, "invalid MPRN 73100: an MPRN has 6 to 10 digits, not 5"),
    ({**GAS, "mpxn": "7310042287", "ldz": "XX"}, "unknown LDZ 'XX'"),
    ({**GAS, "mpxn": "7310042287", "profile_class": "03"}, "profile_class applies to electricity supply points only"),
    ({**POWER, "ldz": "NE"}, "ldz applies to gas supply points only"),
    ({**POWER, "profile_class": "09"}, "profile_class '09': expected 00 (half-hourly settled) to 08"),
    ({**POWER, "profile_class": "00", "settlement": "nhh"}, "profile class 00 contradicts settlement nhh"),
    ({**POWER, "fuel": "water"}, "unknown fuel 'water'"),
    ({**POWER, "meter_type": "dumb"}, "unknown meter_type 'dumb'"),
    ({**USER, "email": "x@y.example", "role": "admin"}, "unknown role 'admin'"),
    ({**USER, "email": "x@y.example", "role": "operations"}, "operations users are not imported from the CRM"),
    ({**USER, "email": "not-an-email"}, "email 'not-an-email' is not an email address"),
    ({"record_type": "broker", "email": "b@x.example", "name": "B"}, "missing required field account_ids"),
    ({"record_type": "broker", "email": "b@x.example", "name": "B", "role": "customer", "account_ids": "3001000001"},
     "a broker row cannot have role customer"),
    ({**CUSTOMER, "customer_id": "C2", "micro_business": "maybe"}, "micro_business 'maybe': expected yes or no"),
    ({**ACCOUNT, "account_id": "3001000002", "enrolment_notice_on": "Sept 24"}, "expected a date"),
    ({**ACCOUNT, "account_id": "3001000002", "bill_cycle_day": "29"}, "expected a whole number from 1 to 28"),
    ({**ACCOUNT, "account_id": "3001000002", "unit_rate_per_kwh": "-0.1"}, "unit_rate_per_kwh must be zero or more"),
    ({**SITE, "site_id": "S2", "postcode": "NOT A CODE"}, "postcode 'NOT A CODE' is not a UK postcode"),
    ({**SITE, "site_id": "S 2"}, "site_id 'S 2': ids are letters"),
    ({**SITE, "site_id": "S2", "name": "x" * 201}, "name longer than 200 characters"),
    ({**SITE, "name": "Old works"}, "duplicate site S1 with a different name than row 4"),
    ({**GAS, "mpxn": "7310042287", "site_id": "S9"}, "unknown site S9"),
    ({**USER, "record_type": "broker", "role": "broker"}, "jo@acme.example is already a user (row 7)"),
    ({"record_type": "invoice", "account_id": "3001000001"}, "unknown record_type 'invoice'"),
])
def test_refusals(row, reason):
    got = only_reason(*BASE, row)
    assert reason in got


def test_refused_parent_cascades_with_the_reason():
    bad_account = {**ACCOUNT, "account_id": "3001000002", "bill_cycle_day": "31"}
    export = parse(CUSTOMER, bad_account, {**SITE, "account_id": "3001000002"}, {**POWER},
                   {**USER, "account_ids": "3001000002"})
    assert reasons(export) == [
        (3, "account", "bill_cycle_day '31': expected a whole number from 1 to 28"),
        (4, "site", "account 3001000002 was refused (row 3)"),
        (5, "supply_point", "site S1 was refused (row 4)"),
        (6, "user", "account 3001000002 was refused (row 3)"),
    ]
    assert export.directory.customers[0].accounts == [] and export.directory.users == []


def test_identical_duplicates_merge_and_a_person_merges_accounts():
    second = {**ACCOUNT, "account_id": "3001000002", "name": "Acme depots"}
    export = parse(*BASE, dict(POWER), second, {**USER, "account_ids": "3001000002"})
    assert export.refused == []
    assert export.directory.users[0].account_ids == ["3001000001", "3001000002"]
    conflicting = parse(*BASE, {**USER, "name": "Joanna"})
    assert reasons(conflicting) == [(8, "user", "duplicate user jo@acme.example with a different name than row 7")]


def test_more_values_than_columns():
    data = csv_bytes([CUSTOMER]) + b"customer,C2,Other Ltd,surplus\n"
    assert reasons(parse_crm(data, "crm.csv")) == [(3, "customer", "more values than header columns")]


def test_users_may_name_stored_accounts_and_never_change_operations_users():
    stored = {**USER, "account_ids": "3007777777"}
    assert only_reason(*BASE[:-1], stored) == "unknown account 3007777777"
    assert parse(*BASE[:-1], stored, known_accounts=["3007777777"]).refused == []
    assert only_reason(*BASE, operations_emails=["JO@acme.example"]).startswith("jo@acme.example is an operations user")


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary content"),
    ("record_type,customer_id,name\ncustomer,C1,Caf\xe9\n".encode("latin-1"), "not UTF-8"),
    (b"customer_id,name\nC1,Acme\n", "no record_type column"),
    (b"PK\x03\x04garbage", "unreadable ZIP"),
])
def test_unreadable_uploads(data, message):
    with pytest.raises(CrmFormatError, match=message):
        parse_crm(data, "crm.csv")


def sample_as_zip(folder: str = "") -> bytes:
    rows = list(csv.DictReader(io.StringIO(SAMPLE.read_text())))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("__MACOSX/._customers.csv", b"\x00\x05\x16\x07")
        for record_type in ("customer", "account", "site", "supply_point", "contact", "user", "broker"):
            mine = [{k: v for k, v in r.items() if k != "record_type"} for r in rows if r["record_type"] == record_type]
            z.writestr(f"{folder}{record_type}s.csv", csv_bytes(mine, [k for k in rows[0] if k != "record_type"]))
    return buffer.getvalue()


def test_zip_of_per_type_files_equals_the_single_csv():
    single = parse_crm(SAMPLE.read_bytes(), SAMPLE.name)
    zipped = parse_crm(sample_as_zip("export-2024-09/"), "crm.zip")
    assert zipped.directory == single.directory
    assert zipped.account_ids == single.account_ids
    def refusals(export) -> list[tuple[str, str]]:  # row numbers differ between the packagings
        return sorted((r.record_type, re.sub(r"row \d+", "row N", r.reason)) for r in export.refused)

    assert refusals(zipped) == [r for r in refusals(single) if r[0] != "invoice"]
    assert {r.file for r in zipped.refused} >= {"sites.csv", "supply_points.csv", "brokers.csv"}


def test_zip_members_are_checked():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("customers.csv", csv_bytes([{k: v for k, v in CUSTOMER.items() if k != "record_type"}]))
        z.writestr("invoices.csv", b"id\n1\n")
    with pytest.raises(CrmFormatError, match="unexpected file invoices.csv"):
        parse_crm(buffer.getvalue(), "crm.zip")
    with zipfile.ZipFile(buffer := io.BytesIO(), "w") as z:
        z.writestr("customers.csv", csv_bytes([{**CUSTOMER, "record_type": "account"}]))
    assert [r.record_type for r in parse_crm(buffer.getvalue(), "crm.zip").refused] == ["account (in customers.csv)"]


def test_zip_bomb_is_too_large():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("customers.csv", b"customer_id,name\n" + b"C1,Acme\n" * 200_000)
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(CrmTooLarge):
        parse_crm(buffer.getvalue(), "crm.zip", max_content_bytes=1_000_000)
