"""Reading a CRM migration export (Corcentric/CQMS) into a portfolio ``Directory``.

Pure: bytes in, a ``Directory`` plus the refused rows out. Applying it is
``adapters.repository.apply_directory`` (idempotent upsert), so importing the
same export twice changes nothing the second time.

Two packagings carry the same columns:

* one CSV with a ``record_type`` column naming each row's type, the other
  columns being the union of the per-type columns below (a row ignores the
  columns of other types);
* a ZIP of per-type CSVs named ``customers.csv``, ``accounts.csv``,
  ``sites.csv``, ``supply_points.csv``, ``contacts.csv``, ``users.csv`` and
  ``brokers.csv`` (any folder inside the ZIP; ``record_type`` optional and,
  when present, must name the file's type).

Files are UTF-8 (a BOM is fine), comma-separated, with a header row; header
names are case-insensitive. Rows may come in any order. ``*`` marks required
columns; flags are yes/no, true/false, y/n or 1/0; dates YYYY-MM-DD or
DD/MM/YYYY; lists of ids are separated by ``;`` or ``|``.

=============  ==========================================================================
record_type    columns
=============  ==========================================================================
customer       customer_id*, name*, micro_business (flag, default no)
account        account_id* (the 300... billing account number), customer_id*, name*,
               enrolment_notice_on (date the HH data notice was sent; starts a
               micro-business's 7-day opt-out window), active (default yes),
               bill_cycle_day (1-28, default 1), has_modelled_rates, budget_billing,
               unit_rate_per_kwh, standing_charge_per_day
site           site_id*, account_id*, name*, postcode (UK format), weather_location
supply_point   mpxn*, site_id*, fuel* (electricity/power or gas), meter_type* (smart or amr),
               profile_class (electricity 00-08; 00 = half-hourly settled), settlement
               (hh or nhh; default hh for profile class 00, else nhh), ldz (gas only),
               active (default yes), registered_on
contact        contact_id*, account_id*, contact_type* ("General" contacts come from
               billing records and are read-only in the portal), name*, email, phone
user           email*, name*, role* (customer or broker), account_ids, billing_portal_user
broker         email*, name*, account_ids* (the accounts the broker manages),
               billing_portal_user
=============  ==========================================================================

People are identified by email (an existing user keeps their id; a new one
gets an id derived from the email). A person may appear on several user or
broker rows (one per account, as CRM exports often list them): the rows merge
when they agree on everything but the accounts. Identical duplicate rows of other types merge silently; a
duplicate id with different values is refused (the first row wins).

Every parent a row names must be in the same export (user and broker
``account_ids`` may also name accounts already in the portfolio); children of
a refused row are refused too, saying why. HH-settled power is imported as it
is: onboarding it is the portal's decision (it shows as "not onboarded").

Deliberately not imported: passwords (a CRM never holds usable credentials:
imported users get none and log in after a password-set flow, which is out of
scope here; an existing user's password is kept), operations users (created
with ``meterstream users``; rows naming one are refused), and deletions
(records absent from an export are left as they are).

``tests/fixtures/portfolio/crm_sample.csv`` is a realistic example, bad rows included.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath

from pydantic import BaseModel, ValidationError

from services.portfolio.domain.directory import (
    AccountIn, ContactIn, CustomerIn, Directory, SiteIn, SupplyPointIn, UserIn,
)

RECORD_TYPES = ("customer", "account", "site", "supply_point", "contact", "user", "broker")
ZIP_MEMBERS = {f"{t}s.csv": t for t in RECORD_TYPES}
LDZS = frozenset({"SC", "NO", "NW", "NE", "EM", "WM", "WN", "WS", "EA", "NT", "SE", "SO", "SW"})
MPAN_PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)
# Column limits of the portfolio store: longer values are refused here rather
# than failing (or being silently truncated) in the database.
ID_MAX, NAME_MAX, EMAIL_MAX, PHONE_MAX, CONTACT_TYPE_MAX, PLACE_MAX = 64, 200, 254, 40, 20, 60

_ID = re.compile(r"[\w.:@+\-]{1,64}")  # what the API can address (see entrypoints.http.known_id)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}")
_TRUE, _FALSE = {"yes", "y", "true", "t", "1"}, {"no", "n", "false", "f", "0"}
_IMPORTED_ROLES = {"customer", "broker"}


class CrmFormatError(ValueError):
    """The upload is not a CRM export at all (nothing can be read row by row)."""


class CrmTooLarge(CrmFormatError):
    """The export unpacks to more than the size limit."""


@dataclass(frozen=True)
class Refusal:
    row: int  # line in its file, the header being line 1
    record_type: str
    reason: str
    file: str


@dataclass
class CrmExport:
    directory: Directory
    refused: list[Refusal]
    rows: int
    account_ids: list[str] = field(default_factory=list)  # the accounts the export carries


@dataclass(frozen=True)
class _Row:
    file: str
    line: int
    record_type: str
    values: dict[str, str]


class _Refused(Exception):
    pass


_OVERFLOW = ""  # the values key of a row with more cells than the header has columns


def mpan_check_digit_ok(core: str) -> bool:
    """Elexon MPAN core check digit: prime-weighted sum of the first twelve, mod 11, mod 10."""
    return sum(int(d) * p for d, p in zip(core[:12], MPAN_PRIMES)) % 11 % 10 == int(core[12])


def user_id_for(email: str) -> str:
    """A stable id for a user new to the portfolio."""
    return "USR-" + hashlib.sha256(email.lower().encode()).hexdigest()[:20].upper()


# --- reading the packaging ------------------------------------------------------------------------

def read_rows(data: bytes, filename: str, max_content_bytes: int | None = None) -> list[_Row]:
    if not data.strip():
        raise CrmFormatError("the file is empty")
    if data.startswith(b"PK\x03\x04") or zipfile.is_zipfile(io.BytesIO(data)):
        return _zip_rows(data, max_content_bytes)
    return list(_csv_rows(_text(data, filename), filename, None))


def _text(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise CrmFormatError(f"{name}: binary content, expected a CSV text file or a ZIP of CSVs")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CrmFormatError(f"{name}: not UTF-8 text (byte {exc.start}); save the export as CSV UTF-8") from exc


def _zip_rows(data: bytes, max_content_bytes: int | None) -> list[_Row]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and not _ignored(m.filename)]
        if max_content_bytes is not None and sum(m.file_size for m in members) > max_content_bytes:
            raise CrmTooLarge(f"the ZIP unpacks to more than the {max_content_bytes} byte upload limit")
        by_type: dict[str, zipfile.ZipInfo] = {}
        for m in members:
            name = PurePosixPath(m.filename).name.lower()
            if name not in ZIP_MEMBERS:
                raise CrmFormatError(f"unexpected file {m.filename} in the ZIP; expected {', '.join(ZIP_MEMBERS)}")
            if ZIP_MEMBERS[name] in by_type:
                raise CrmFormatError(f"{name} appears twice in the ZIP")
            by_type[ZIP_MEMBERS[name]] = m
        if not by_type:
            raise CrmFormatError(f"the ZIP holds none of {', '.join(ZIP_MEMBERS)}")
        rows: list[_Row] = []
        for record_type, m in by_type.items():
            # Read one byte past the declared size: a lying header cannot unpack more than the limit.
            with archive.open(m) as f:
                content = f.read(m.file_size + 1)
            if len(content) > m.file_size:
                raise CrmFormatError(f"{m.filename}: corrupt ZIP entry")
            rows += _csv_rows(_text(content, m.filename), PurePosixPath(m.filename).name, record_type)
        return rows
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise CrmFormatError(f"unreadable ZIP: {exc}") from exc


def _ignored(name: str) -> bool:
    """Folders and the metadata macOS adds to ZIPs it makes."""
    path = PurePosixPath(name)
    return path.parts[0] == "__MACOSX" or path.name.startswith(".")


def _csv_rows(text: str, name: str, fixed_type: str | None) -> Iterator[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if not any(header):
            raise CrmFormatError(f"{name}: no header row")
        if fixed_type is None and "record_type" not in header:
            raise CrmFormatError(f"{name}: no record_type column (or upload a ZIP of per-type CSVs)")
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            values = {h: c.strip() for h, c in zip(header, cells) if h}
            record_type = values.get("record_type", "").lower() or fixed_type or ""
            if fixed_type is not None and record_type != fixed_type:
                record_type = f"{record_type} (in {name})"
            if len(cells) > len(header):
                values[_OVERFLOW] = ""
            yield _Row(name, reader.line_num, record_type, values)
    except csv.Error as exc:
        raise CrmFormatError(f"{name}: not a readable CSV (line {reader.line_num}: {exc})") from exc


# --- reading fields -------------------------------------------------------------------------------

class _Fields:
    def __init__(self, values: dict[str, str]):
        self._v = values

    def text(self, name: str, max_len: int = NAME_MAX, required: bool = False) -> str | None:
        value = self._v.get(name, "")
        if not value:
            if required:
                raise _Refused(f"missing required field {name}")
            return None
        if len(value) > max_len:
            raise _Refused(f"{name} longer than {max_len} characters")
        return value

    def required(self, name: str, max_len: int = NAME_MAX) -> str:
        return self.text(name, max_len, required=True)  # type: ignore[return-value]

    def id(self, name: str) -> str:
        value = self.required(name, ID_MAX)
        if not _ID.fullmatch(value):
            raise _Refused(f"{name} {value!r}: ids are letters, digits and . : @ + - _ only")
        return value

    def ids(self, name: str, required: bool = False) -> list[str]:
        raw = self.text(name, 10_000, required)
        ids = list(dict.fromkeys(i.strip() for i in re.split(r"[;|]", raw or "") if i.strip()))
        for i in ids:
            if not _ID.fullmatch(i):
                raise _Refused(f"{name}: {i!r} is not an id")
        return ids

    def email(self, name: str) -> str | None:
        value = self.text(name, EMAIL_MAX)
        if value is not None and not _EMAIL.fullmatch(value):
            raise _Refused(f"{name} {value!r} is not an email address")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self._v.get(name, "").lower()
        if not value:
            return default
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        raise _Refused(f"{name} {value!r}: expected yes or no")

    def day(self, name: str) -> date | None:
        value = self.text(name, 10)
        if value is None:
            return None
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                pass
        raise _Refused(f"{name} {value!r}: expected a date as YYYY-MM-DD or DD/MM/YYYY")

    def number(self, name: str) -> float | None:
        value = self.text(name, 30)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise _Refused(f"{name} {value!r} is not a number") from None
        if not 0 <= number < float("inf"):
            raise _Refused(f"{name} must be zero or more")
        return number

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        value = self.text(name, 10)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise _Refused(f"{name} {value!r}: expected a whole number from {low} to {high}")
        return int(value)

    def choice(self, name: str, options: dict[str, str], required: bool = False) -> str | None:
        value = (self.text(name, 40, required) or "").lower()
        if not value:
            return None
        if value not in options:
            raise _Refused(f"unknown {name} {value!r} (expected {' or '.join(sorted(set(options.values())))})")
        return options[value]


# --- one row to one record ------------------------------------------------------------------------

Parents = tuple[tuple[str, str], ...]  # (record type, id) of each record a row needs
_Parsed = tuple[str, Parents, BaseModel]  # the record's id (email for people), its parents, the record


def _customer(f: _Fields) -> _Parsed:
    c = CustomerIn(id=f.id("customer_id"), name=f.required("name"), micro_business=f.flag("micro_business", False))
    return c.id, (), c


def _account(f: _Fields) -> _Parsed:
    customer_id = f.id("customer_id")
    a = AccountIn(
        id=f.id("account_id"), name=f.required("name"), enrolment_notice_on=f.day("enrolment_notice_on"),
        active=f.flag("active", True), bill_cycle_day=f.integer("bill_cycle_day", 1, 28, 1),
        has_modelled_rates=f.flag("has_modelled_rates", False), budget_billing=f.flag("budget_billing", False),
        unit_rate_per_kwh=f.number("unit_rate_per_kwh"), standing_charge_per_day=f.number("standing_charge_per_day"),
    )
    return a.id, (("customer", customer_id),), a


def _site(f: _Fields) -> _Parsed:
    account_id = f.id("account_id")
    postcode = f.text("postcode", 12)
    if postcode is not None:
        postcode = re.sub(r"\s+", " ", postcode.upper())
        if not _POSTCODE.fullmatch(postcode):
            raise _Refused(f"postcode {postcode!r} is not a UK postcode")
    s = SiteIn(id=f.id("site_id"), name=f.required("name"), postcode=postcode,
               weather_location=f.text("weather_location", PLACE_MAX))
    return s.id, (("account", account_id),), s


def _electricity(mpxn: str, profile_class: str | None, settlement: str | None, ldz: str | None) -> tuple[str | None, str]:
    if len(mpxn) != 13:
        raise _Refused(f"invalid MPAN {mpxn}: an MPAN core has 13 digits, not {len(mpxn)}")
    if not mpan_check_digit_ok(mpxn):
        raise _Refused(f"invalid MPAN {mpxn}: wrong check digit")
    if ldz is not None:
        raise _Refused("ldz applies to gas supply points only")
    if profile_class is not None:
        if not profile_class.isdigit() or int(profile_class) > 8:
            raise _Refused(f"profile_class {profile_class!r}: expected 00 (half-hourly settled) to 08")
        profile_class = f"{int(profile_class):02d}"
        if settlement is not None and (profile_class == "00") != (settlement == "hh"):
            raise _Refused(f"profile class {profile_class} contradicts settlement {settlement} (00 means half-hourly)")
    return profile_class, settlement or ("hh" if profile_class == "00" else "nhh")


def _gas(mprn: str, profile_class: str | None, ldz: str | None) -> str | None:
    if not 6 <= len(mprn) <= 10:
        raise _Refused(f"invalid MPRN {mprn}: an MPRN has 6 to 10 digits, not {len(mprn)}")
    if profile_class is not None:
        raise _Refused("profile_class applies to electricity supply points only")
    if ldz is not None and ldz.upper() not in LDZS:
        raise _Refused(f"unknown LDZ {ldz!r} (one of {', '.join(sorted(LDZS))})")
    return ldz.upper() if ldz else None


def _supply_point(f: _Fields) -> _Parsed:
    mpxn = re.sub(r"[\s-]", "", f.required("mpxn", 40))
    site_id = f.id("site_id")
    fuel = f.choice("fuel", {"electricity": "electricity", "power": "electricity", "gas": "gas"}, required=True)
    if not mpxn.isdigit():
        raise _Refused(f"invalid MPxN {mpxn!r}: digits only")
    profile_class, ldz = f.text("profile_class", 2), f.text("ldz", 2)
    settlement = f.choice("settlement", {"hh": "hh", "nhh": "nhh"})
    if fuel == "electricity":
        profile_class, settlement = _electricity(mpxn, profile_class, settlement, ldz)
    else:
        ldz = _gas(mpxn, profile_class, ldz)
    sp = SupplyPointIn(mpxn=mpxn, fuel=fuel, meter_type=f.choice("meter_type", {"smart": "smart", "amr": "amr"}, True),
                       profile_class=profile_class, settlement=settlement or "nhh", ldz=ldz,
                       active=f.flag("active", True), registered_on=f.day("registered_on"))
    return sp.mpxn, (("site", site_id),), sp


def _contact(f: _Fields) -> _Parsed:
    account_id = f.id("account_id")
    c = ContactIn(id=f.id("contact_id"), type=f.required("contact_type", CONTACT_TYPE_MAX), name=f.required("name"),
                  email=f.email("email"), phone=f.text("phone", PHONE_MAX))
    return c.id, (("account", account_id),), c


def _person(f: _Fields, broker: bool) -> _Parsed:
    email = f.required("email", EMAIL_MAX).lower()
    if not _EMAIL.fullmatch(email):
        raise _Refused(f"email {email!r} is not an email address")
    role = (f.text("role", 40, required=not broker) or "broker").lower()
    if role == "operations":
        raise _Refused("operations users are not imported from the CRM (create them with `meterstream users`)")
    if role not in _IMPORTED_ROLES:
        raise _Refused(f"unknown role {role!r} (expected customer or broker)")
    if broker and role != "broker":
        raise _Refused(f"a broker row cannot have role {role}")
    account_ids = f.ids("account_ids", required=broker)
    u = UserIn(id=user_id_for(email), email=email, name=f.required("name"), role=role,  # type: ignore[arg-type]
               billing_portal_user=f.flag("billing_portal_user", False), account_ids=account_ids)
    return email, tuple(("account", a) for a in account_ids), u


_PARSERS: dict[str, Callable[[_Fields], _Parsed]] = {
    "customer": _customer, "account": _account, "site": _site, "supply_point": _supply_point,
    "contact": _contact, "user": lambda f: _person(f, broker=False), "broker": lambda f: _person(f, broker=True),
}
_ID_COLUMN = {"customer": "customer_id", "account": "account_id", "site": "site_id", "supply_point": "mpxn",
              "contact": "contact_id"}
_PEOPLE = ("user", "broker")  # one namespace: a person is a user or a broker, by email


@dataclass(frozen=True)
class _Record:
    row: _Row
    key: str
    parents: Parents
    model: BaseModel


# --- the whole export -----------------------------------------------------------------------------

def parse_crm(data: bytes, filename: str = "upload.csv", known_accounts: Iterable[str] = (),
              operations_emails: Iterable[str] = (), max_content_bytes: int | None = None) -> CrmExport:
    """The export as a directory and the rows refused, each with its reason.
    ``known_accounts`` are accounts already in the portfolio (users may name them);
    ``operations_emails`` are operations users, whom an import must not change.
    Raises CrmFormatError when the upload cannot be read at all."""
    rows = read_rows(data, filename, max_content_bytes)
    refused: list[Refusal] = []
    refused_ids: dict[tuple[str, str], _Row] = {}

    def refuse(row: _Row, reason: str) -> None:
        refused.append(Refusal(row.line, row.record_type, reason, row.file))
        if raw_id := row.values.get(_ID_COLUMN.get(row.record_type, ""), ""):
            refused_ids.setdefault((row.record_type, raw_id), row)

    # Parse every row, keeping one record per id.
    accepted: dict[str, dict[str, _Record]] = {t: {} for t in RECORD_TYPES}
    for row in rows:
        if _OVERFLOW in row.values:
            refuse(row, "more values than header columns")
        elif row.record_type not in _PARSERS:
            refuse(row, f"unknown record_type {row.record_type!r} (expected {', '.join(RECORD_TYPES)})")
        elif reason := _accept(row, accepted):
            refuse(row, reason)

    # Keep the records whose parents made it, parents first so refusals cascade to children.
    known, staff = set(known_accounts), {e.lower() for e in operations_emails}
    kept: dict[str, dict[str, _Record]] = {t: {} for t in RECORD_TYPES}
    for record_type in RECORD_TYPES:
        also_known = known if record_type in _PEOPLE else set()
        for key, record in accepted[record_type].items():
            missing = [_missing(parent, refused_ids) for parent in record.parents
                       if parent[1] not in kept[parent[0]] and parent[1] not in also_known]
            if record_type in _PEOPLE and key in staff:
                refuse(record.row, f"{key} is an operations user: the CRM import does not change operations users")
            elif missing:
                refuse(record.row, "; ".join(missing))
            else:
                kept[record_type][key] = record

    refused.sort(key=lambda r: (r.file, r.row))
    return CrmExport(_directory(kept), refused, len(rows), list(kept["account"]))


def _accept(row: _Row, accepted: dict[str, dict[str, _Record]]) -> str | None:
    """Parse the row into ``accepted``; the reason it is refused, if it is."""
    try:
        key, parents, model = _PARSERS[row.record_type](_Fields(row.values))
    except _Refused as exc:
        return str(exc)
    except ValidationError as exc:
        err = exc.errors()[0]
        return f"{'.'.join(map(str, err['loc'])) or 'row'}: {err['msg']}"
    record = _Record(row, key, parents, model)
    if row.record_type in _PEOPLE:
        other = next((accepted[t][key] for t in _PEOPLE if t != row.record_type and key in accepted[t]), None)
        if other is not None:
            return f"{key} is already a {other.row.record_type} (row {other.row.line})"
    first = accepted[row.record_type].get(key)
    if first is None:
        accepted[row.record_type][key] = record
        return None
    merged = _merge(first, record)
    if merged is None:
        return (f"duplicate {row.record_type} {key} with a different "
                f"{', '.join(_differences(first, record))} than row {first.row.line}")
    accepted[row.record_type][key] = merged
    return None


def _merge(first: _Record, again: _Record) -> _Record | None:
    """The record both rows describe, or None when they disagree. A person's
    rows merge their accounts (exports often list one row per user and account)."""
    if first.model == again.model and first.parents == again.parents:
        return first
    if isinstance(first.model, UserIn) and isinstance(again.model, UserIn) and not _differences(first, again):
        accounts = list(dict.fromkeys(first.model.account_ids + again.model.account_ids))
        return _Record(first.row, first.key, tuple(("account", a) for a in accounts),
                       first.model.model_copy(update={"account_ids": accounts}))
    return None


def _differences(a: _Record, b: _Record) -> list[str]:
    if isinstance(a.model, UserIn):
        return [k for k, v in a.model.model_dump(exclude={"account_ids"}).items() if getattr(b.model, k) != v]
    fields = [k for k, v in a.model.model_dump().items() if getattr(b.model, k) != v]
    return fields + [f"{parent[0]}_id" for parent, other in zip(a.parents, b.parents) if parent != other]


def _missing(parent: tuple[str, str], refused_ids: dict[tuple[str, str], _Row]) -> str:
    record_type, key = parent
    if parent in refused_ids:
        return f"{record_type} {key} was refused (row {refused_ids[parent].line})"
    return f"unknown {record_type} {key}"


def _directory(kept: dict[str, dict[str, _Record]]) -> Directory:
    by_parent: dict[tuple[str, str], list] = defaultdict(list)
    for record_type in ("account", "site", "supply_point", "contact"):
        for r in kept[record_type].values():
            by_parent[(record_type, r.parents[0][1])].append(r.model)

    def site(s: SiteIn) -> SiteIn:
        return s.model_copy(update={"supply_points": by_parent[("supply_point", s.id)]})

    def account(a: AccountIn) -> AccountIn:
        return a.model_copy(update={"sites": [site(s) for s in by_parent[("site", a.id)]],
                                    "contacts": by_parent[("contact", a.id)]})

    customers = [c.model.model_copy(update={"accounts": [account(a) for a in by_parent[("account", c.key)]]})
                 for c in kept["customer"].values()]
    users = [r.model for t in _PEOPLE for r in kept[t].values()]
    return Directory(customers=customers, users=users)  # type: ignore[arg-type]
