// Enrolment status per account and, for micro-businesses within their window, the
// opt-out choice and what it means.

import { ApiError, api, getOptional } from "../api.js";
import { fmt, h, mount, notice } from "../dom.js";
import { allSites, ofCustomerInView } from "../state.js";

const EXPLAINED = {
  active: "Enrolled: half-hourly data is shown and updated daily with the previous day's reads.",
  opt_out_window: "You are a micro-business, so you have 7 days from our notice to tell us you do not want your half-hourly data shown. It is held until then.",
  opted_out: "You opted out: half-hourly data for this account is not shown.",
  awaiting_contact_details: "We need contact details for this account before enrolling it.",
};

/** The caller's accounts as {id, name, customer_id, …}: from the API, or worked out from the sites. */
export async function accounts() {
  const list = await getOptional("/api/v1/accounts");
  if (list) return (Array.isArray(list) ? list : list.accounts || list.items || []).map((a) => ({ ...a, id: a.id ?? a.account_id, name: a.name ?? a.account_name }));
  const byId = new Map();
  for (const p of await allSites()) {
    if (!byId.has(p.account_id)) {
      byId.set(p.account_id, { id: p.account_id, name: p.account_name, customer_id: p.customer_id, customer_name: p.customer_name, enrolment_status: p.enrolment_status });
    }
  }
  return [...byId.values()];
}

function optOut(account, announce, rerender) {
  const id = encodeURIComponent(account.id);
  const status = h("p", { class: "form-error", role: "alert", hidden: true });
  const ends = account.opt_out_window_ends ?? account.window_ends;
  return h("div", { class: "opt-out" },
    h("p", {}, ends ? `Your window closes on ${fmt.date(ends)}. ` : "",
      "If you do nothing, your half-hourly data appears in the portal when the window closes. If you opt out, it will not be shown; your bills and supply are not affected."),
    h("button", { type: "button", class: "danger", onclick: async () => {
      if (!confirm("Opt out of showing half-hourly data for this account?")) return;
      try {
        await api.post(`/api/v1/accounts/${id}/opt-out`);
        announce("You have opted out.");
        rerender();
      } catch (err) {
        status.textContent = err instanceof ApiError && err.notAvailable ? "Opting out online is not available yet; please contact us." : err.message;
        status.hidden = false;
        announce(status.textContent);
      }
    } }, "Opt out of half-hourly data"),
    status);
}

export async function accountsPage(view, { announce, rerender }) {
  const list = await ofCustomerInView(await accounts());
  mount(view, h("div", { class: "page-head" }, h("h1", {}, "Accounts and enrolment")),
    list.length ? h("ul", { class: "accounts" }, list.map((a) => {
      const status = a.enrolment_status ?? a.status;
      return h("li", { class: "card account" },
        h("h2", {}, a.name, " ", h("span", { class: "muted" }, a.id)),
        h("p", {}, "Enrolment: ", h("span", { class: `badge status-${status}` }, fmt.status(status))),
        h("p", { class: "muted" }, EXPLAINED[status] ?? ""),
        status === "opt_out_window" ? optOut(a, announce, rerender) : null);
    })) : notice("info", "No accounts are linked to your login."));
}
