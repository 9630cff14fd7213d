// Consumption trackers: "tell me when I pass my amount", per site or portfolio.

import { ApiError, api, getOptional } from "../api.js";
import { clearFormError, field, fmt, formError, h, mount, notice, select, showErrorAt, showFormError } from "../dom.js";
import { ALL_SITES } from "../data.js";
import { addDays, today } from "../dates.js";
import { fuelsOf, sitesInView } from "../state.js";
import { portfoliosInView } from "./portfolios.js";

const PERIODS = [["day", "Each day"], ["week", "Each week (Monday to Sunday)"], ["month", "Each calendar month"], ["custom", "A date range of my choice"]];

function progressOf(t) {
  const p = t.progress;
  if (!p) return null;
  const amount = (v) => (t.unit === "money" ? `${t.currency} ${v.toFixed(2)}` : fmt.kwh(v));
  return h("div", { class: "progress" },
    h("progress", { max: 100, value: Math.min(p.percent, 100), "aria-label": `${Math.round(p.percent)} % of the amount used in ${p.period_label}` }),
    h("small", {}, `${p.period_label}: ${amount(p.actual)} of ${amount(p.amount)} (${Math.round(p.percent)} %)`
      + (p.projected !== null ? `, projected ${amount(p.projected)}` : "")));
}

function trackerItem(t, announce, rerender) {
  const id = encodeURIComponent(t.tracker_id);
  const act = (fn, done) => async () => {
    try { await fn(); announce(done); rerender(); } catch (err) { announce(err.message); }
  };
  return h("li", { class: "card tracker" },
    h("h3", {}, t.name),
    h("p", { class: "muted" }, `${fmt.fuel(t.fuel)} · ${t.scope === "site" ? "meter" : "portfolio"} ${t.scope_id} · ${PERIODS.find(([v]) => v === t.period)?.[1] ?? t.period} · `
      + `${t.unit === "money" ? `${t.currency} ${t.amount}` : fmt.kwh(Number(t.amount))}${t.paused ? " · paused" : ""}`),
    progressOf(t),
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: act(() => api.patch(`/api/v1/trackers/${id}`, { paused: !t.paused }), t.paused ? "Tracker resumed." : "Tracker paused.") },
        t.paused ? "Resume" : "Pause"),
      h("button", { type: "button", class: "danger", onclick: act(() => api.del(`/api/v1/trackers/${id}`), "Tracker deleted.") }, "Delete")));
}

function trackerForm(points, portfolios, announce, rerender) {
  const name = h("input", { name: "name", required: true, maxlength: 100 });
  const scope = h("select", { name: "scope" }, h("option", { value: "site" }, "A site"),
    portfolios.length ? h("option", { value: "portfolio" }, "A portfolio group") : null);
  const target = h("select", { name: "scope_id" });
  const fuel = select("fuel", fuelsOf(points).map((f) => [f, fmt.fuel(f)]));
  const period = select("period", PERIODS, "month");
  const start = h("input", { type: "date", name: "custom_start", value: today() });
  const end = h("input", { type: "date", name: "custom_end", value: addDays(today(), 30) });
  const custom = h("div", { class: "row", hidden: true }, field("From", start), field("To (inclusive)", end));
  const amount = h("input", { type: "number", name: "amount", required: true, step: "any", inputmode: "decimal" });
  const unit = select("unit", [["kWh", "kWh"], ["money", "£ (where your tariff is known)"]], "kWh");
  // A site tracker watches one meter (its MPxN) of the chosen fuel.
  const fillTargets = () => mount(target, (scope.value === "site"
    ? points.filter((p) => p.fuel === fuel.value).map((p) => [p.mpxn, `${p.site_name} (${p.mpxn})`]).sort((a, b) => a[1].localeCompare(b[1]))
    : portfolios.map((p) => [p.id, p.name])).map(([v, t]) => h("option", { value: v }, t)));
  scope.addEventListener("change", fillTargets);
  fuel.addEventListener("change", fillTargets);
  period.addEventListener("change", () => { custom.hidden = period.value !== "custom"; });
  fillTargets();

  const form = h("form", { class: "card", "aria-labelledby": "tracker-title", novalidate: true },
    h("h2", { id: "tracker-title" }, "Create a consumption tracker"),
    h("div", { class: "rules" },
      h("p", {}, "We notify you when actual consumption passes your amount, and warn you early when our projection for the period says it will."),
      h("p", {}, "Each notification is sent at most once per period; the tracker starts again with the next period. Days, weeks (Monday to Sunday) and months follow UK time, and late or corrected data is re-checked.")),
    field("Tracker name", name),
    h("div", { class: "row" }, field("Track", scope), field("Which one", target)),
    h("div", { class: "row" }, field("Fuel", fuel), field("Period", period)),
    custom,
    h("div", { class: "row" }, field("Amount", amount, "A positive amount for the whole period."), field("Unit", unit)),
    formError(),
    h("button", { type: "submit", class: "primary" }, "Create tracker"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormError(form);
    const body = { name: name.value.trim(), scope: scope.value, scope_id: target.value, fuel: fuel.value, period: period.value,
      amount: amount.value === "" ? null : amount.value, unit: unit.value };
    if (period.value === "custom") Object.assign(body, { custom_start: start.value || null, custom_end: end.value || null });
    try {
      await api.post("/api/v1/trackers", body);
      announce(`Tracker ${body.name} created.`);
      rerender();
    } catch (err) {
      if (err instanceof ApiError && err.notAvailable) return announce(showFormError(form, new Error("Trackers are not available yet.")));
      announce(showErrorAt(form, err, fieldsNamedIn));
    }
  });
  // The alerts API words its rule errors in plain text; these say which field each one is about
  // (first match wins, so "site … is not gas; choose the fuel" goes to Fuel, not the site).
  const emptyDates = () => [start, end].filter((c) => !c.value);
  const rules = [
    [/amount/i, () => [amount]],
    [/tariff|money|currenc/i, () => [unit]],
    [/only custom/i, () => [period]],
    [/must end on or after/i, () => [end]],
    [/start and an end date|date range|custom range/i, () => (emptyDates().length ? emptyDates() : [start, end])],
    [/period/i, () => [period]],
    [/fuel/i, () => [fuel]],
    [/supply point|portfolio|site/i, () => [target]],
  ];
  const fieldsNamedIn = (message) => rules.find(([pattern]) => pattern.test(message))?.[1]() ?? [];
  return form;
}

export async function trackersPage(view, { announce, rerender }) {
  const [trackers, points, portfolios] = await Promise.all([getOptional("/api/v1/trackers"), sitesInView(), portfoliosInView()]);
  const head = h("div", { class: "page-head" }, h("h1", {}, "Consumption trackers"));
  if (trackers === null) return mount(view, head, notice("info", "Consumption trackers are not available yet."));
  // Trackers watch the caller's own groups (of the customer in view); "All sites" is not one.
  const groups = portfolios.list.filter((p) => p.id !== ALL_SITES).map((p) => ({ id: p.id, name: p.name }));
  mount(view, head,
    trackers.length ? h("ul", { class: "trackers" }, trackers.map((t) => trackerItem(t, announce, rerender))) : h("p", { class: "muted" }, "You have no trackers yet."),
    trackerForm(points, groups, announce, rerender));
}
