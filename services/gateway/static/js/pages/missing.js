// "View missing locations": which sites of a portfolio have no or incomplete data and why.
// From the portfolio API when it offers it; otherwise worked out here from the sites'
// enrolment facts and their daily coverage over the range.

import { ApiError, api } from "../api.js";
import { ALL_SITES, siteSeries } from "../data.js";
import { fmt, h, mount, notice } from "../dom.js";

const STATUS_REASONS = {
  opt_out_window: "In the micro-business opt-out window: data is held until the window closes.",
  opted_out: "Opted out of half-hourly data.",
  awaiting_contact_details: "Awaiting contact details before data can be shown.",
};

async function missingHere(points, range) {
  const rows = [];
  await Promise.all(points.map(async (p) => {
    if (p.settlement === "hh") {
      rows.push({ ...p, reason: "Not onboarded yet: half-hourly settled power sites need import/export handling." });
    } else if (STATUS_REASONS[p.enrolment_status]) {
      rows.push({ ...p, reason: STATUS_REASONS[p.enrolment_status] });
    } else {
      const s = await siteSeries(p.mpxn, range, "day");
      if (!s.coverage) rows.push({ ...p, reason: "No data received in this period." });
      else if (s.coverage < 1) rows.push({ ...p, reason: `Incomplete data: ${fmt.pct(s.coverage)} of half-hours received.`, coverage: s.coverage });
    }
  }));
  return rows;
}

async function missingFor(portfolio, range) {
  try {
    const list = await api.get(`/api/v1/portfolios/${encodeURIComponent(portfolio.id)}/missing-sites`, range);
    // A scoped portfolio is one customer's share of the API's (a broker's "All sites"): keep its own meters.
    const mine = new Set(portfolio.points.map((p) => p.mpxn));
    return list.filter((m) => !portfolio.scoped || mine.has(m.mpxn)).map((m) => ({ ...m, reason: m.detail || fmt.status(m.reason) }));
  } catch (err) {
    // The API offers "All sites" only to callers with more than one site.
    const single = portfolio.id === ALL_SITES && err.status === 404;
    if (!(err instanceof ApiError && (err.notAvailable || single))) throw err;
  }
  return missingHere(portfolio.points, range);
}

/** A button that opens the missing-locations panel for `portfolio` over `range()`. */
export function missingLocations(portfolio, range) {
  const panel = h("section", { class: "card missing", id: "missing-locations", hidden: true, "aria-labelledby": "missing-title", tabindex: "-1" });
  const button = h("button", { type: "button", "aria-expanded": "false", "aria-controls": panel.id }, "View missing locations");
  button.addEventListener("click", async () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (!open) return;
    const r = range();
    mount(panel, h("h2", { id: "missing-title" }, "Missing locations"), h("p", { class: "muted" }, "Checking…"));
    panel.focus();
    try {
      const rows = (await missingFor(portfolio, r)).sort((a, b) => String(a.site_name).localeCompare(String(b.site_name)));
      mount(panel, h("h2", { id: "missing-title" }, "Missing locations"),
        h("p", { class: "muted" }, `${fmt.date(r.start)} to ${fmt.date(r.end)} (end exclusive)`),
        rows.length ? h("table", {}, h("caption", { class: "visually-hidden" }, "Sites with missing data and why"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Site"), h("th", { scope: "col" }, "Meter"), h("th", { scope: "col" }, "Why"))),
          h("tbody", {}, rows.map((m) => h("tr", {}, h("td", {}, m.site_name), h("td", {}, m.mpxn ? `${fmt.fuel(m.fuel)} ${m.mpxn}` : "–"), h("td", {}, m.reason)))))
          : notice("info", "Every location has complete data in this period."));
    } catch (err) {
      mount(panel, h("h2", { id: "missing-title" }, "Missing locations"), notice("error", err.message));
    }
  });
  return { button, panel };
}
