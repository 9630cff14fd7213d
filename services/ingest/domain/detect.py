"""Layout detection from header names.

Header cells are classified into roles (MPxN, date, value, ...) and value slots
(time-labelled like ``00:30`` / ``01:00a`` or period-numbered like ``HH01``).
Labelling (interval start vs end) is inferred from the times present: a
``00:00`` column means start labels, ``24:00`` or a first column of ``00:30``
means end labels.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.ingest.domain.model import Labelling
from services.ingest.domain.profiles import FeedProfile

MIN_WIDE_SLOTS = 40

_TIME_SLOT = re.compile(
    r"(?P<prefix>[a-z][a-z ()/]*?)?\s*(?P<h>\d{1,2})[:.h]?(?P<m>[03]0)(?::00)?"
    r"(?:\s*(?:-|to)\s*(?P<h2>\d{1,2})[:.h]?(?P<m2>\d{2})(?::\d{2})?)?"
    r"\s*(?P<suffix>\(?(?:a|b|x|2|bst|gmt|extra|repeat(?:ed)?)\)?|\*)?"
)
_PERIOD_SLOT = re.compile(
    r"(?P<prefix>hh|p|sp|period|settlement period|half hour|hh period|kwh|wh|value|v|interval"
    r"|int|col|column|c|hr|reading|read)?\s*#?(?P<n>\d{1,2})"
)
_FLAG_WORD = re.compile(r"flag|status|qual(ity)?|\ba/?e\b|estimat\w*|actual|\btype\b|\bcode\b|indicator|method")
_ROLES: list[tuple[str, re.Pattern[str]]] = [(role, re.compile(rx)) for role, rx in [
    ("mpxn", r"mp[axr]n|\bmpr\b|meter ?point|supply ?point|meter ?ref"),
    ("timestamp", r"date ?/? ?time|timestamp|interval (start|end|from|to)|(period|reading|read|interval) ?"
                  r"(start|end|from|to)|^(start|end|from|to)( time)?$|^interval_(start|end)$"),
    ("date", r"\bdate\b|^day$|^dt$|^settlement day$"),
    ("time", r"\btime\b"),
    ("quality", r"read ?type|^type$|quality|status|flag|estimat|actual|\ba/?e\b|method"),
    ("unit", r"^units?$|^uom$|unit of measure"),
    ("total", r"total|\bsum\b|\bdaily\b"),
    ("period", r"^(settlement |hh |half ?hour )?period( no| number| num)?$|^sp$|^hh$|^half ?hour$"),
    ("value", r"consumption|\bvalue\b|\bkwh\b|\bwh\b|usage|volume|energy|\bamount\b|\bread(ing)?\b|\bm3\b"
              r"|demand|\badvance\b|register|\bindex\b|\bqty\b|quantity"),
]]
REGISTER_WORDS = re.compile(r"register|\bindex\b|meter ?read|^read(ing)?( value)?$|reading")
END_HINT = re.compile(r"\bend(ing)?\b|\bto\b")
START_HINT = re.compile(r"\bstart(ing)?\b|\bfrom\b|\bbegin")


def normalise(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.replace("\ufeff", "")).strip().strip('"').strip().lower()


@dataclass(frozen=True, slots=True)
class Slot:
    """A value column of a wide file, as labelled in the header.

    ``minute`` is the wall-clock time in the label (0-1440) for time-labelled
    columns; ``period`` the 1-based number for numbered ones; ``second`` marks the
    repeated autumn hour (``01:00a``, or columns 49/50 beside time labels).
    """

    column: int
    label: str
    minute: int | None
    period: int | None
    second: bool = False


@dataclass
class Columns:
    """Header classification: role -> column index, value slots and their flag columns."""

    names: list[str]
    roles: dict[str, int] = field(default_factory=dict)
    slots: list[Slot] = field(default_factory=list)
    flags: dict[int, int] = field(default_factory=dict)
    labelling: Labelling | None = None
    ignored: list[str] = field(default_factory=list)

    def name(self, role: str) -> str | None:
        index = self.roles.get(role)
        return self.names[index] if index is not None else None


def _time_slot(name: str) -> tuple[int, bool, str | None] | None:
    """(minute, second occurrence, labelling hint) of a time label, or None."""
    match = _TIME_SLOT.fullmatch(name)
    if not match:
        return None
    hour, minute = int(match["h"]), int(match["m"])
    if hour > 24 or (hour == 24 and minute):
        return None
    prefix = match["prefix"] or ""
    hint = None
    if match["h2"] is not None or START_HINT.search(prefix):
        hint = "interval_start"
    elif END_HINT.search(prefix):
        hint = "interval_end"
    suffix = (match["suffix"] or "").strip("()")
    second = bool(suffix) and suffix != "bst"
    return hour * 60 + minute, second, hint


def _period_slot(name: str) -> int | None:
    match = _PERIOD_SLOT.fullmatch(name)
    if not match:
        return None
    number = int(match["n"])
    return number if 1 <= number <= 50 else None


def classify(header: list[str], profile: FeedProfile | None = None) -> Columns:
    """Classify every header cell; profile column names win over detection."""
    names = [normalise(h) for h in header]
    cols = Columns(names=list(header))
    pinned = {normalise(v): role for role, v in (profile.columns.items() if profile else [])}
    times: list[tuple[int, int, bool]] = []
    periods: list[tuple[int, int]] = []
    flag_refs: list[tuple[int, tuple]] = []
    hints: set[str] = set()
    unassigned: list[int] = []
    for i, name in enumerate(names):
        if name in pinned:
            cols.roles.setdefault(pinned[name], i)
            continue
        if (slot := _time_slot(name)) is not None:
            times.append((i, slot[0], slot[1]))
            if slot[2]:
                hints.add(slot[2])
            continue
        if (number := _period_slot(name)) is not None:
            periods.append((i, number))
            continue
        if _FLAG_WORD.search(name):
            ref = normalise(_FLAG_WORD.sub(" ", name).strip(" -()/"))
            if (tslot := _time_slot(ref)) is not None:
                flag_refs.append((i, ("t", tslot[0], tslot[1])))
                continue
            if (number := _period_slot(ref)) is not None:
                flag_refs.append((i, ("p", number)))
                continue
        role = next((r for r, rx in _ROLES if rx.search(name)), None)
        if role and role not in cols.roles:
            cols.roles[role] = i
        else:
            unassigned.append(i)
    if "time" in cols.roles and "date" not in cols.roles and "timestamp" not in cols.roles:
        cols.roles["timestamp"] = cols.roles.pop("time")  # a lone "Reading Time" holds the date too
    _choose_slots(cols, header, times, periods, hints)
    _attach_flags(cols, names, flag_refs, unassigned)
    cols.ignored = [header[i] for i in unassigned if header[i].strip() and i not in cols.flags.values()]
    return cols


def _choose_slots(cols: Columns, header: list[str], times: list[tuple[int, int, bool]],
                  periods: list[tuple[int, int]], hints: set[str]) -> None:
    if len(times) >= MIN_WIDE_SLOTS:
        cols.slots = [Slot(i, header[i], minute, None, second) for i, minute, second in times]
        extras = [(i, n) for i, n in periods if n in (49, 50)]
        cols.slots += [Slot(i, header[i], None, n, True) for i, n in extras]
        firsts = {s.minute for s in cols.slots if s.minute is not None and not s.second}
        if len(hints) == 1:
            cols.labelling = hints.pop()  # type: ignore[assignment]
        elif 0 in firsts:
            cols.labelling = "interval_start"
        elif 1440 in firsts or min(firsts, default=0) == 30:
            cols.labelling = "interval_end"
        else:
            cols.labelling = "interval_start"
    elif len(periods) >= MIN_WIDE_SLOTS:
        cols.slots = [Slot(i, header[i], None, n) for i, n in sorted(periods, key=lambda p: p[1])]
        cols.labelling = "period_number"


def _attach_flags(cols: Columns, names: list[str], flag_refs: list[tuple[int, tuple]],
                  unassigned: list[int]) -> None:
    """Flag columns either name their interval ("00:30 flag") or follow each value column."""
    by_key: dict[tuple, int] = {}
    for order, slot in enumerate(cols.slots):
        by_key[("t", slot.minute, slot.second) if slot.minute is not None else ("p", slot.period)] = slot.column
        by_key.setdefault(("p", order + 1), slot.column)
    for flag_col, key in flag_refs:
        if key in by_key:
            cols.flags[by_key[key]] = flag_col
    if cols.flags or not cols.slots:
        return
    quality = cols.roles.get("quality")
    free = set(unassigned) | ({quality} if quality is not None else set())
    pairs = {s.column: s.column + 1 for s in cols.slots
             if s.column + 1 in free and (not names[s.column + 1] or _FLAG_WORD.search(names[s.column + 1])
                                          or len(names[s.column + 1]) <= 2)}
    if len(pairs) * 2 >= len(cols.slots):
        cols.flags = pairs
        if quality in pairs.values():
            del cols.roles["quality"]
