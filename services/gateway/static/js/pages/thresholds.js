// High Bill Alert personal threshold: cost or usage, with the rules that decide which.

import { ApiError, api } from "../api.js";
import { clearFormError, field, formError, h, mount, notice, showErrorAt } from "../dom.js";
import { allSites, selectedCustomer } from "../state.js";

const STEP = { cost: "0.01", usage: "1" };

export async function thresholdsPage(view, { announce, rerender }) {
  const customer = selectedCustomer(await allSites());
  const head = h("div", { class: "page-head" }, h("h1", {}, "High Bill Alerts"),
    h("p", { class: "muted" }, "We compare your projected bill with your threshold and alert you before the bill arrives."));
  let t;
  try {
    t = await api.get("/api/v1/thresholds", { customer_id: customer });
  } catch (err) {
    // 404 = the supplier has not enabled personal thresholds (the API explains what applies instead).
    if (err instanceof ApiError && err.status === 404) {
      return mount(view, head, notice("info", err.notAvailable ? "High Bill Alert settings are not available yet." : err.message));
    }
    throw err;
  }
  const kind = t.allowed_kind;
  const { min, max } = t.allowed_range;
  const currency = t.effective?.currency || "GBP";
  const value = h("input", { type: "number", name: "value", inputmode: "decimal", required: true, min, max, step: STEP[kind],
    value: t.personal?.value ?? (kind === "usage" ? t.effective?.value ?? "" : "") });
  const form = h("form", { class: "card", "aria-labelledby": "threshold-title", novalidate: true },
    h("h2", { id: "threshold-title" }, "Your personal threshold"),
    h("div", { class: "rules" },
      h("p", {}, "A cost threshold (1 to 100,000,000 in your account currency) is possible only when every active account has modelled rates and none is on budget billing. Otherwise you set a usage threshold: 0 to 1000 % above the same bill period last year."),
      h("p", {}, kind === "cost" ? `Your accounts allow a cost threshold in ${currency}.` : "Your accounts allow a usage threshold."),
      h("p", {}, t.explanation),
      h("p", {}, "We alert only with at least 75 % of the possible meter reads since the bill period started (95 % priced for a cost alert) and a year of history to compare with.")),
    h("input", { type: "hidden", name: "kind", value: kind }),
    field(kind === "cost" ? `Threshold (${currency})` : "Threshold (% above last year)", value,
      kind === "cost" ? `Between ${min} and ${Number(max).toLocaleString("en-GB")}.` : `Between ${min} and ${max} %; the standard is 30 %.`),
    formError(),
    h("button", { type: "submit", class: "primary" }, "Save threshold"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormError(form);
    try {
      await api.put("/api/v1/thresholds", { customer_id: customer, kind, value: value.value === "" ? null : value.value });
      announce("Threshold saved.");
      rerender();
    } catch (err) {
      // The rules live in the API; its 422 message goes next to the value.
      announce(showErrorAt(form, err, () => (err.status === 422 ? [value] : [])));
    }
  });
  mount(view, head, form);
}
