// The graph section shared by the site and portfolio pages: granularity, date range,
// trend against the same period last year, zoom/pan/reset, a text summary for screen
// readers, and performance marks around fetch + first draw (read by the bench).

import { ApiError } from "./api.js";
import { consumptionChart } from "./chart.js";
import { defaultRange } from "./dates.js";
import { fmt, h, mount, notice } from "./dom.js";
import { lastYear } from "./data.js";

const GRANULARITIES = [["hh", "Half-hourly"], ["hour", "Hourly"], ["day", "Daily"]];

/**
 * `load(range, granularity, trend)` resolves to the consumption series (with `lastYear` when
 * trend is asked and the API sends it along); `extras(range, series)`
 * to {temperature?, expected?} drawn once they arrive, after the first paint.
 */
export function graphSection({ name, query, load, extras = async () => ({}), announce, title = "Consumption" }) {
  const granularity = GRANULARITIES.some(([g]) => g === query.get("granularity")) ? query.get("granularity") : "hour";
  const state = { granularity, ...defaultRange(granularity), trend: query.get("trend") === "1" };
  if (query.get("start")) state.start = query.get("start");
  if (query.get("end")) state.end = query.get("end");

  const chartHost = h("div", { class: "chart", role: "img", "aria-label": `${title} chart` });
  const summary = h("p", { class: "chart-summary", "aria-live": "polite" });
  const rangeText = h("p", { class: "muted range-text", id: `${name}-range`, "aria-live": "polite" });
  const section = h("section", { class: "graph card", "aria-label": title, dataset: { state: "loading" } });
  let chart = null;

  const radios = h("fieldset", { class: "segmented" }, h("legend", {}, "Detail"),
    GRANULARITIES.map(([value, label]) => h("label", {},
      h("input", { type: "radio", name: `${name}-granularity`, value, checked: value === state.granularity,
        onchange: () => { Object.assign(state, { granularity: value }, defaultRange(value)); syncInputs(); reload(); } }),
      label)));
  const start = h("input", { type: "date", id: `${name}-start`, value: state.start });
  const end = h("input", { type: "date", id: `${name}-end`, value: state.end });
  const trend = h("input", { type: "checkbox", id: `${name}-trend`, checked: state.trend,
    onchange: () => { state.trend = trend.checked; reload(); } });
  const syncInputs = () => { start.value = state.start; end.value = state.end; };
  const applyRange = h("button", { type: "button", onclick: () => {
    if (!start.value || !end.value || end.value <= start.value) {
      summary.textContent = "Choose an end date after the start date.";
      return;
    }
    Object.assign(state, { start: start.value, end: end.value });
    reload();
  } }, "Show");

  const zoomBar = h("div", { class: "zoom-bar", role: "group", "aria-label": "Zoom and pan" },
    h("button", { type: "button", "aria-label": "Pan left", onclick: () => chart?.pan(-1) }, "◀ Earlier"),
    h("button", { type: "button", onclick: () => chart?.zoom(0.5) }, "Zoom in"),
    h("button", { type: "button", onclick: () => chart?.zoom(2) }, "Zoom out"),
    h("button", { type: "button", class: "reset-zoom", onclick: () => chart?.reset() }, "Reset zoom"),
    h("button", { type: "button", "aria-label": "Pan right", onclick: () => chart?.pan(1) }, "Later ▶"));

  mount(section,
    h("div", { class: "graph-controls" }, radios,
      h("div", { class: "field inline" }, h("label", { for: start.id }, "From"), start),
      h("div", { class: "field inline" }, h("label", { for: end.id }, "To (exclusive)"), end),
      applyRange,
      h("label", { class: "check" }, trend, "Compare with the same period last year")),
    h("p", { class: "hint" }, "Drag across the graph to zoom in; use the buttons or the arrow keys to move along, Esc to reset. Gaps mean no data was received."),
    chartHost, zoomBar, rangeText, summary);

  const showRange = (min, max, zoomed) => {
    const text = `Showing ${fmt.dateTime(min * 1000)} to ${fmt.dateTime(max * 1000)}${zoomed ? " (zoomed)" : ""}`;
    rangeText.textContent = text;
    section.dataset.zoomed = String(zoomed);
  };

  let seq = 0;
  async function reload() {
    const mine = ++seq;
    const range = { start: state.start, end: state.end };
    section.dataset.state = "loading";
    section.dataset.complete = "false";
    summary.textContent = "Loading…";
    performance.clearMarks(`${name}:start`);
    performance.mark(`${name}:start`);
    let series;
    try {
      series = await load(range, state.granularity, state.trend);
    } catch (err) {
      if (mine !== seq) return;
      section.dataset.state = "error";
      chart?.destroy();
      chart = null;
      const message = err instanceof ApiError && err.notAvailable ? "Consumption for this view is not available yet." : err.message;
      mount(chartHost, notice("error", message));
      summary.textContent = "";
      announce(message);
      return;
    }
    if (mine !== seq) return;
    const draw = (layers) => {
      const scale = chart && chart.plot.scales.x;
      chart?.destroy();
      mount(chartHost);
      if (!series.x.length) return mount(chartHost, notice("info", "No intervals in this range."));
      chart = consumptionChart(chartHost, { series, ...layers }, showRange);
      if (scale && layers.keepZoom) chart.plot.setScale("x", { min: scale.min, max: scale.max });
      else showRange(series.x[0], series.x[series.x.length - 1], false);
    };
    draw({ lastYear: state.trend ? series.lastYear : null });
    requestAnimationFrame(() => {
      if (mine !== seq) return;
      performance.mark(`${name}:painted`);
      performance.measure(name, `${name}:start`, `${name}:painted`);
      section.dataset.state = "ready";
      section.dataset.points = String(series.x.length);
    });
    const gaps = series.y.filter((v) => v === null).length;
    summary.textContent = `Total ${fmt.kwh(series.total)} over ${series.x.length} intervals; data coverage ${fmt.pct(series.coverage)}`
      + (gaps ? `; ${gaps} intervals with no data are shown as gaps.` : ".");
    announce(`${title} loaded.`);

    const [previous, more] = await Promise.all([
      !state.trend ? null : series.lastYear ?? lastYear((r) => load(r, state.granularity), range, series).catch(() => null),
      extras(range, series).catch(() => ({})),
    ]);
    if (mine !== seq) return;
    if (previous !== series.lastYear || more.temperature || more.expected) draw({ lastYear: previous, ...more, keepZoom: true });
    section.dataset.complete = "true"; // every layer drawn (tests and the bench wait for "ready", the first paint)
    if (state.trend && previous) {
      const before = previous.filter((v) => v !== null).reduce((a, b) => a + b, 0);
      summary.textContent += ` Same period last year: ${fmt.kwh(before)}.`;
    }
  }

  reload();
  return section;
}
