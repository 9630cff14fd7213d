// Portfolio export dialog: the three export options, CSV or XLSX, any date range.
// The portfolio API streams the file; where it is not deployed yet the CSV is built
// here from the sites' series (gaps left empty).

import { ApiError, request } from "../api.js";
import { siteSeries, summedSeries } from "../data.js";
import { defaultRange } from "../dates.js";
import { field, h, setFieldError } from "../dom.js";

export const OPTIONS = [
  ["long", "Half-hourly rows per site", "One row per site and half-hour: MPxN, fuel, start time (UTC and UK local), kWh."],
  ["wide", "One row per site and day", "48 half-hour columns per day (46 or 50 on clock-change days)."],
  ["totals", "Portfolio totals", "The portfolio's total per interval at the granularity you choose, for the fuel in view."],
];

const csvCell = (v) => (v === null || v === undefined ? "" : /[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
const csv = (rows) => rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";

async function buildCsv(portfolio, option, range, granularity, fuel) {
  const rows = [];
  if (option === "totals") {
    rows.push(["fuel", "interval_start_utc", "interval_start_local", "kwh", "coverage"]);
    const s = await summedSeries(portfolio.points.filter((p) => p.fuel === fuel).map((p) => p.mpxn), range, granularity);
    s.x.forEach((t, i) => rows.push([fuel, new Date(t * 1000).toISOString(), s.labels[i], s.y[i], null]));
    return csv(rows);
  }
  const series = await Promise.all(portfolio.points.map(async (p) => [p, await siteSeries(p.mpxn, range, "hh")]));
  if (option === "long") {
    rows.push(["mpxn", "fuel", "site", "interval_start_utc", "interval_start_local", "kwh"]);
    for (const [p, s] of series) s.x.forEach((t, i) => rows.push([p.mpxn, p.fuel, p.site_name, new Date(t * 1000).toISOString(), s.labels[i], s.y[i]]));
    return csv(rows);
  }
  rows.push(["mpxn", "fuel", "site", "date", "periods", ...Array.from({ length: 50 }, (_, i) => `hh${String(i + 1).padStart(2, "0")}`)]);
  for (const [p, s] of series) {
    const days = new Map();
    s.labels.forEach((label, i) => {
      const day = label.slice(0, 10);
      if (!days.has(day)) days.set(day, []);
      days.get(day).push(s.y[i]);
    });
    for (const [day, values] of days) rows.push([p.mpxn, p.fuel, p.site_name, day, values.length, ...values]);
  }
  return csv(rows);
}

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function filenameOf(response, fallback) {
  const match = /filename="?([^";]+)"?/.exec(response.headers.get("content-disposition") || "");
  return match ? match[1] : fallback;
}

/**
 * A button that opens the export dialog for `portfolio`; totals are for the fuel in view
 * (`fuel()`), row exports hold every fuel. `announce` reports the outcome.
 */
export function exportButton(portfolio, fuel, announce) {
  const dialog = h("dialog", { class: "card export-dialog", "aria-labelledby": "export-title" });
  const range = defaultRange("day");
  const start = h("input", { type: "date", name: "start", value: range.start, required: true });
  const end = h("input", { type: "date", name: "end", value: range.end, required: true });
  const granularity = h("select", { name: "granularity" },
    [["hh", "Half-hourly"], ["hour", "Hourly"], ["day", "Daily"], ["week", "Weekly"], ["month", "Monthly"]].map(([v, t]) => h("option", { value: v, selected: v === "day" }, t)));
  const format = h("select", { name: "format" }, h("option", { value: "csv" }, "CSV"), h("option", { value: "xlsx" }, "Excel (XLSX)"));
  const status = h("p", { class: "muted", role: "status" });
  const options = h("fieldset", {}, h("legend", {}, "What to export"),
    OPTIONS.map(([value, label, hint], i) => h("label", { class: "option" },
      h("input", { type: "radio", name: "option", value, checked: i === 0 }),
      h("span", {}, h("strong", {}, label), h("small", { class: "hint" }, hint)))));
  const form = h("form", { method: "dialog" },
    h("h2", { id: "export-title" }, `Export ${portfolio.name}`),
    options,
    h("div", { class: "row" }, field("From", start), field("To (exclusive)", end)),
    h("div", { class: "row" }, field("Totals granularity", granularity, "Used by Portfolio totals."), field("Format", format)),
    status,
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "primary", value: "export" }, "Download")));
  dialog.append(form);
  dialog.addEventListener("close", () => dialog.remove());

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    setFieldError(end, null);
    if (end.value <= start.value) {
      setFieldError(end, "The end date must be after the start date.");
      end.focus();
      return;
    }
    const option = form.elements.option.value;
    const params = { layout: option, format: format.value, start: start.value, end: end.value, granularity: granularity.value,
      fuel: option === "totals" ? fuel() : undefined };
    const fallbackName = `${portfolio.id}-${option}-${start.value}-${end.value}.${format.value}`;
    status.textContent = "Preparing your file…";
    try {
      // Built here when the API cannot serve it: not deployed, or a scoped portfolio (one
      // customer's share of a broker's "All sites", which the API has no parameter for).
      const buildHere = async () => {
        if (format.value !== "csv") throw new Error(portfolio.scoped ? "Excel export of one customer's sites is not available; choose CSV." : "Excel export is not available yet; choose CSV.");
        const text = await buildCsv(portfolio, option, { start: start.value, end: end.value }, granularity.value, fuel());
        return [new Blob([text], { type: "text/csv" }), fallbackName];
      };
      let blob, name;
      if (portfolio.scoped) [blob, name] = await buildHere();
      else {
        try {
          const response = await request("GET", `/api/v1/portfolios/${encodeURIComponent(portfolio.id)}/export`, { params, raw: true });
          [blob, name] = [await response.blob(), filenameOf(response, fallbackName)];
        } catch (err) {
          if (!(err instanceof ApiError && err.notAvailable)) throw err;
          [blob, name] = await buildHere();
        }
      }
      download(blob, name);
      status.textContent = `Downloaded ${name} (${Math.ceil(blob.size / 1024)} KB).`;
      announce(status.textContent);
    } catch (err) {
      status.textContent = "";
      setFieldError(format, err.message);
      announce(err.message);
    }
  });

  const button = h("button", { type: "button", onclick: () => { document.body.append(dialog); dialog.showModal(); } }, "Export…");
  return button;
}
