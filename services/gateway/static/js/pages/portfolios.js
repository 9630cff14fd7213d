// Portfolio groups (create, rename, add/remove sites, delete) and the portfolio graph
// with the fuel toggle, expected consumption band, missing locations and export.

import { ApiError, api, getOptional } from "../api.js";
import { ALL_SITES, expected, portfolioSeries } from "../data.js";
import { addDays } from "../dates.js";
import { field, fmt, h, mount, notice, setFieldError } from "../dom.js";
import { graphSection } from "../graph.js";
import { allSites, fuelsOf, groupBySite, selectedCustomer, severalCustomers, sitesInView } from "../state.js";
import { exportButton } from "./export.js";
import { missingLocations } from "./missing.js";
import { fuelToggle } from "./sites.js";

/**
 * Portfolios with their supply points: the API's list (its implicit "All sites" first),
 * or, where the API is not deployed yet, an "All sites" portfolio built here.
 *
 * The portfolios API has no customer parameter, so for a broker whose sites span several
 * customers the list is narrowed here to the selected customer by the sites' customer_id:
 * groups holding none of its sites are left out, and "All sites" becomes that customer's
 * sites (`scoped`: its figures are then worked out from those sites, see data.js).
 */
export async function portfoliosInView() {
  const [list, points, own, several] = await Promise.all([getOptional("/api/v1/portfolios"), allSites(), sitesInView(), severalCustomers()]);
  if (list === null) {
    const builtIn = { id: ALL_SITES, name: "All sites", editable: false, siteIds: new Set(own.map((p) => p.site_id)), points: own };
    return { available: false, list: groupBySite(own).length > 1 ? [builtIn] : [] };
  }
  const customer = selectedCustomer(points);
  const shown = [];
  for (const g of list) {
    const siteIds = new Set(g.site_ids);
    const members = points.filter((p) => siteIds.has(p.site_id));
    if (g.id === ALL_SITES) {
      if (!several) shown.push({ ...g, siteIds, points: members });
      else if (groupBySite(own).length > 1) shown.push({ ...g, scoped: true, siteIds: new Set(own.map((p) => p.site_id)), points: own });
      continue;
    }
    const others = members.filter((p) => p.customer_id !== customer);
    if (several && members.length && others.length === members.length) continue;
    shown.push({ ...g, siteIds, points: members, otherCustomers: several && others.length > 0 });
  }
  return { available: true, list: shown };
}

function showApiError(err, control, announce) {
  const message = err instanceof ApiError && err.notAvailable ? "Changing portfolio groups is not available yet." : err.message;
  setFieldError(control, message);
  announce(message);
}

function siteChooser(name, sites, chosen) {
  return h("fieldset", { class: "site-chooser" }, h("legend", {}, "Sites"),
    sites.map((s) => h("label", { class: "check" },
      h("input", { type: "checkbox", name, value: s.site_id, checked: chosen.has(s.site_id) }),
      `${s.site_name} (${s.points.map((p) => fmt.fuel(p.fuel)).join(", ")})`)));
}

const checked = (form, name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);

function createForm(sites, announce, rerender) {
  const name = h("input", { name: "name", required: true, maxlength: 100 });
  const form = h("form", { class: "card", "aria-labelledby": "create-title" },
    h("h2", { id: "create-title" }, "Create a portfolio group"),
    field("Name", name), siteChooser("new-sites", sites, new Set()),
    h("button", { type: "submit", class: "primary" }, "Create group"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    setFieldError(name, null);
    try {
      await api.post("/api/v1/portfolios", { name: name.value.trim(), site_ids: checked(form, "new-sites") });
      announce(`Created ${name.value}.`);
      rerender();
    } catch (err) { showApiError(err, name, announce); }
  });
  return form;
}

function groupCard(group, sites, announce, rerender) {
  const path = `/api/v1/portfolios/${encodeURIComponent(group.id)}`;
  const name = h("input", { name: "name", value: group.name, required: true, maxlength: 100 });
  const editor = h("form", { class: "group-edit", hidden: true, "aria-label": `Edit ${group.name}` },
    field("Name", name), siteChooser(`sites-${group.id}`, sites, group.siteIds),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save changes"),
      h("button", { type: "button", onclick: () => { editor.hidden = true; } }, "Cancel")));
  editor.addEventListener("submit", async (e) => {
    e.preventDefault();
    setFieldError(name, null);
    const wanted = new Set(checked(editor, `sites-${group.id}`));
    const offered = new Set(sites.map((s) => s.site_id)); // other customers' sites are not in the chooser: keep them
    try {
      await api.patch(path, { name: name.value.trim() === group.name ? undefined : name.value.trim(),
        add_site_ids: [...wanted].filter((id) => !group.siteIds.has(id)),
        remove_site_ids: [...group.siteIds].filter((id) => offered.has(id) && !wanted.has(id)) });
      announce(`Saved ${name.value}.`);
      rerender();
    } catch (err) { showApiError(err, name, announce); }
  });
  const remove = async () => {
    if (!confirm(`Delete the portfolio group "${group.name}"? Its sites are not affected.`)) return;
    try {
      await api.del(path);
      announce(`Deleted ${group.name}.`);
      rerender();
    } catch (err) { showApiError(err, name, announce); }
  };
  return h("li", { class: "card group", dataset: { id: group.id } },
    h("h2", {}, h("a", { href: `#/portfolios/${encodeURIComponent(group.id)}` }, group.name)),
    h("p", { class: "muted" }, `${group.siteIds.size} sites · ${fuelsOf(group.points).map(fmt.fuel).join(" and ") || "no meters"}`),
    group.otherCustomers ? h("p", { class: "hint" }, "Also holds sites of other customers you manage; its graph covers them all.") : null,
    h("div", { class: "actions" },
      h("a", { class: "button", href: `#/portfolios/${encodeURIComponent(group.id)}` }, "Open graph"),
      group.editable ? [
        h("button", { type: "button", onclick: () => { editor.hidden = false; name.focus(); } }, "Rename or change sites"),
        h("button", { type: "button", class: "danger", onclick: remove }, "Delete")] : null),
    group.editable ? editor : h("p", { class: "hint" },
      group.scoped ? `Always available: every site of ${group.points[0].customer_name}.` : "Always available: every site you can see."));
}

export async function portfoliosPage(view, { announce, rerender }) {
  const [{ available, list }, points] = await Promise.all([portfoliosInView(), sitesInView()]);
  const sites = groupBySite(points);
  mount(view,
    h("div", { class: "page-head" }, h("h1", {}, "Portfolios"),
      h("p", { class: "muted" }, "Group your sites to see and export their combined consumption.")),
    list.length ? h("ul", { class: "groups" }, list.map((g) => groupCard(g, sites, announce, rerender)))
      : h("p", { class: "muted" }, "No portfolios yet. All sites appears when there is more than one site; groups you create are listed here."),
    available ? createForm(sites, announce, rerender)
      : notice("info", "Your own portfolio groups are not available yet; the All sites portfolio is."));
}

function describeMonth(p, portfolio) {
  const range = p.low !== null ? ` (likely ${fmt.kwh(p.low)} to ${fmt.kwh(p.high)})`
    : portfolio.scoped ? " (no likely range for one customer's share)" : "";
  return `${fmt.date(p.startDate)}–${fmt.date(addDays(p.endDate, -1))} ${fmt.kwh(p.mid)}${range}`;
}

export async function portfolioGraphPage(view, { params: [id], query, announce }) {
  const portfolio = (await portfoliosInView()).list.find((g) => g.id === id);
  if (!portfolio) return mount(view, notice("error", "This portfolio does not exist or is not yours."), h("a", { href: "#/portfolios" }, "Back to portfolios"));
  const fuels = fuelsOf(portfolio.points);
  const fuel = fuels.includes(query.get("fuel")) ? query.get("fuel") : fuels[0];
  const graphQuery = new URLSearchParams(query);
  const go = (changes) => {
    for (const [k, v] of Object.entries(changes)) graphQuery.set(k, v);
    location.hash = `#/portfolios/${encodeURIComponent(id)}?${graphQuery}`;
  };
  let currentRange = null;
  const missing = missingLocations(portfolio, () => currentRange);
  const expectation = h("p", { class: "expected-text muted", "aria-live": "polite" });
  const graph = fuel ? graphSection({
    name: "portfolio-graph", query, announce, title: `${portfolio.name} ${fmt.fuel(fuel)} consumption`,
    load: (range, granularity, trend) => { currentRange = range; return portfolioSeries(portfolio, fuel, range, granularity, trend); },
    extras: async (_, series) => {
      const exp = await expected(portfolio, fuel, series);
      if (exp?.periods.length) expectation.textContent = `Expected by the platform: ${exp.periods.map((p) => describeMonth(p, portfolio)).join("; ")}`;
      return { expected: exp };
    },
  }) : notice("info", "This portfolio has no meters yet.");
  mount(view,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/portfolios" }, "Portfolios"), " / ", portfolio.name),
    h("div", { class: "page-head" }, h("h1", {}, portfolio.name),
      h("p", { class: "muted" }, `${groupBySite(portfolio.points).length} sites`
        + (portfolio.scoped ? ` of ${portfolio.points[0].customer_name}` : ""))),
    h("div", { class: "toolbar" },
      fuelToggle("portfolio-fuel", fuels, fuel, (v) => go({ fuel: v })),
      missing.button, exportButton(portfolio, () => fuel, announce)),
    missing.panel, graph, expectation);
}
