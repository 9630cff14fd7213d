"""Meter-days read in bulk (MeterDayBlocks from the wide parser) and meter-days read
row by row (packed into blocks by the pipeline) must be stored identically:
the same versions, values, flags, rejections with their reasons, outbox rows and
meter histories, whatever the file holds."""
from __future__ import annotations

from datetime import date

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from services.ingest import pipeline
from services.ingest.adapters import publishing
from services.ingest.adapters import tables as t
from services.ingest.domain import parsing
from shared import db, readmodel
from shared.contracts.events import SupplyPointChanged
from tests.unit.ingest.test_ingest_bulk_parse import FLAGS, HEADERS, odd_text

pytestmark = pytest.mark.integration

TODAY = date(2019, 12, 1)
SUPPLY_POINTS = [  # the MPxNs wide_files writes, less one left unknown
    SupplyPointChanged(mpxn="2000000000001", revision=1, fuel="electricity", site_id="S1", site_name="HQ",
                       account_id="A1", customer_id="C1", meter_type="smart", profile_class="03"),
    SupplyPointChanged(mpxn="2000000000002", revision=1, fuel="gas", site_id="S1", site_name="HQ",
                       account_id="A1", customer_id="C1", meter_type="amr"),
    SupplyPointChanged(mpxn="1234567890123", revision=1, fuel="electricity", site_id="S2", site_name="Works",
                       account_id="A1", customer_id="C1", meter_type="amr", profile_class="00", settlement="hh"),
]
MPXNS = ["2000000000001", "2000000000002", "1234567890123", "2000000000009"]
DATES = ["2019-11-13", "2019-11-14", "13/11/2019", "2019-10-27", "2019-03-31", "2019-12-25", "soon"]
value_text = st.one_of(  # mostly plain consumption, so most meter-days are stored
    *[st.floats(min_value=0, max_value=50, allow_nan=False).map(lambda x: f"{x:.3f}")] * 6,
    st.floats(min_value=0, max_value=1e4, allow_nan=False).map(repr), st.just(""), st.just("0"),
)


@st.composite
def stored_files(draw):
    """Wide files of mostly storable meter-days: known and unknown meters, gaps,
    flags, DST days, units, a value spike on a second day, repeats of a meter-day
    (the same or revised) and now and then a row that is not plain."""
    layout = draw(st.sampled_from(sorted(HEADERS)))
    header = HEADERS[layout]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    mpxn_column = next(i for i, h in enumerate(header) if h.startswith("MP"))
    date_column = next(i for i, h in enumerate(header) if h.endswith("Date"))
    lines = [delimiter.join(header)]
    for _ in range(draw(st.integers(1, 30))):
        if len(lines) > 1 and draw(st.integers(0, 5)) == 0:  # a meter-day again, as it was or revised
            cells = lines[draw(st.integers(1, len(lines) - 1))].split(delimiter)
            if draw(st.booleans()):
                cells[-2] = draw(value_text)
        else:
            cells = [draw(value_text) for _ in header]
            cells[mpxn_column] = draw(st.sampled_from(MPXNS))
            cells[date_column] = draw(st.sampled_from(DATES))
            if layout == "flags":
                for i in range(3, len(cells), 2):
                    cells[i] = draw(st.sampled_from(FLAGS))
            if layout == "extras":
                cells[4] = draw(st.sampled_from(["kWh", "Wh", "m3", ""]))
            if draw(st.integers(0, 9)) == 0:
                cells[draw(st.integers(0, len(cells) - 1))] = draw(odd_text)
        lines.append(delimiter.join(cells))
    return "\n".join(lines) + "\n"


STORED = [t.meter_days, t.rejections, t.meter_stats, t.batches, t.outbox]


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """Two ingest databases: one for bulk reading, one for row-by-row reading."""
    out = []
    for name in ("bulk", "rows"):
        url = f"sqlite:///{tmp_path_factory.mktemp(name)}/ingest.db"
        db.upgrade("ingest", url)
        engine = db.make_engine(url)
        with engine.begin() as conn:
            readmodel.apply(conn, t.supply_points, SUPPLY_POINTS)
        out.append(engine)
    yield out
    for engine in out:
        engine.dispose()


def _stored(engine, text: str, monkeypatch, bulk_lines: int) -> dict:
    with engine.begin() as conn:
        for table in STORED:
            conn.execute(delete(table))
        conn.execute(t.meter_stats.insert().values(mpxn=MPXNS[0], days=10, p95_period_kwh=1.0))  # flags spikes
    monkeypatch.setattr(parsing, "SAMPLE_ROWS", 2)
    monkeypatch.setattr(parsing, "BULK_LINES", bulk_lines)
    try:
        for _ in range(2):  # the second time: unchanged meter-days
            result = pipeline.ingest(engine, text.encode(), "file.csv", source="test", today=TODAY)
    except Exception as exc:  # noqa: BLE001 - an unreadable file must be refused alike
        return {"refused": repr(exc)}
    d, r, s = t.meter_days.c, t.rejections.c, t.meter_stats.c
    with engine.connect() as conn:
        return {
            "counts": result.counts.as_dict(),
            "versions": conn.execute(select(d.mpxn, d.settlement_date, d.version, d.current, d.content_hash, d.row_number,
                                            d.kwh, d.quality, d.source_unit, d.flags)
                                     .order_by(d.mpxn, d.settlement_date, d.version)).all(),
            "rejections": conn.execute(select(r.row_number, r.mpxn, r.settlement_date, r.reason_code, r.reason)
                                       .order_by(r.id)).all(),
            "to_publish": [(key, orjson.loads(payload)["event_id"], orjson.loads(payload)["fuel"])
                           for _, _, key, payload in publishing.pending_reads(conn, 0, 10_000)],
            "histories": conn.execute(select(s.mpxn, s.days, s.p95_period_kwh).order_by(s.mpxn)).all(),
        }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored_files())
def test_bulk_and_row_by_row_reading_store_the_same(engines, monkeypatch, text):
    bulk, rows = engines
    stored = _stored(bulk, text, monkeypatch, 7)
    assert stored == _stored(rows, text, monkeypatch, 0)  # 0: every row by the csv module
    versions = stored.get("versions", [])
    event(f"meter-days stored: {'none' if not versions else 'with gaps' if any('-' in v.quality for v in versions) else 'some'}")
    event(f"spikes flagged: {any('spike' in v.flags for v in versions)}")
