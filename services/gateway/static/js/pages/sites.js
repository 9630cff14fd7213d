// Sites list (with the gas/power toggle when both fuels are present and the missing
// locations view) and the site graph with temperature on a second axis.

import { ALL_SITES, siteSeries, temperature } from "../data.js";
import { defaultRange } from "../dates.js";
import { fmt, h, mount, notice } from "../dom.js";
import { graphSection } from "../graph.js";
import { allSites, fuelsOf, groupBySite, severalCustomers, sitesInView } from "../state.js";
import { missingLocations } from "./missing.js";

/** Power/gas switch, rendered only when `fuels` holds both. */
export function fuelToggle(name, fuels, value, onChange, { all = false } = {}) {
  if (fuels.length < 2) return null;
  const choices = [...(all ? [["all", "All fuels"]] : []), ...fuels.map((f) => [f, fmt.fuel(f)])];
  return h("fieldset", { class: "segmented fuel-toggle" }, h("legend", {}, "Fuel"),
    choices.map(([v, label]) => h("label", {},
      h("input", { type: "radio", name, value: v, checked: v === value, onchange: () => onChange(v) }), label)));
}

function statusBadge(status) {
  return h("span", { class: `badge status-${status}` }, fmt.status(status));
}

export async function sitesPage(view, { query }) {
  const points = await sitesInView();
  const fuels = fuelsOf(points);
  const fuel = fuels.includes(query.get("fuel")) ? query.get("fuel") : "all";
  const shown = points.filter((p) => fuel === "all" || p.fuel === fuel);
  const sites = groupBySite(shown);
  const allPoints = { id: ALL_SITES, name: "All sites", points, scoped: await severalCustomers() };
  const missing = missingLocations(allPoints, () => defaultRange("hour"));
  const held = points.filter((p) => p.enrolment_status !== "active");

  mount(view,
    h("div", { class: "page-head" },
      h("h1", {}, "Sites"),
      h("p", { class: "muted" }, points[0] ? points[0].customer_name : "")),
    points.length === 0 ? notice("info", "No sites are linked to your login yet.") : null,
    held.some((p) => p.enrolment_status === "opt_out_window")
      ? notice("info", "An account is in its opt-out window: its half-hourly data is held until the window closes. ",
        h("a", { href: "#/accounts" }, "See your choice")) : null,
    h("div", { class: "toolbar" },
      fuelToggle("sites-fuel", fuels, fuel, (v) => { location.hash = v === "all" ? "#/sites" : `#/sites?fuel=${v}`; }, { all: true }),
      groupBySite(points).length > 1 ? h("a", { class: "button", href: `#/portfolios/${ALL_SITES}` }, "Portfolio graph of all sites") : null,
      missing.button),
    missing.panel,
    h("table", { class: "sites-table" },
      h("caption", {}, `${sites.length} sites, ${shown.length} meters`),
      h("thead", {}, h("tr", {}, ["Site", "Postcode", "Account", "Meters", "Status"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, sites.map((s) => h("tr", {},
        h("th", { scope: "row" }, s.site_name),
        h("td", { "data-label": "Postcode" }, s.postcode || "–"),
        h("td", { "data-label": "Account" }, `${s.account_name} (${s.account_id})`),
        h("td", { "data-label": "Meters" }, h("ul", { class: "meters" }, s.points.map((p) => h("li", {},
          h("a", { href: `#/sites/${encodeURIComponent(p.mpxn)}` }, `${fmt.fuel(p.fuel)} ${p.mpxn}`),
          p.settlement === "hh" ? h("small", { class: "hint" }, " (half-hourly settled: not onboarded yet)") : null)))),
        h("td", { "data-label": "Status" }, statusBadge(s.points[0].enrolment_status)))))));
}

export async function siteGraphPage(view, { params: [mpxn], query, announce }) {
  const point = (await allSites()).find((p) => p.mpxn === mpxn);
  if (!point) return mount(view, notice("error", `Meter ${mpxn} is not among your sites.`), h("a", { href: "#/sites" }, "Back to sites"));
  mount(view,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/sites" }, "Sites"), " / ", point.site_name),
    h("div", { class: "page-head" },
      h("h1", {}, `${point.site_name} – ${fmt.fuel(point.fuel)}`),
      h("p", { class: "muted" }, `${point.mpxn} · ${point.meter_type} · ${point.postcode || ""} · weather: ${point.weather_location || "–"}`)),
    point.enrolment_status !== "active" ? notice("info", `Data not shown: ${fmt.status(point.enrolment_status)}.`) : null,
    graphSection({
      name: "site-graph", query, announce, title: `${point.site_name} ${fmt.fuel(point.fuel)} consumption`,
      load: (range, granularity, trend) => siteSeries(mpxn, range, granularity, trend),
      extras: async (range, series) => ({ temperature: await temperature(mpxn, range, series) }),
    }));
}
