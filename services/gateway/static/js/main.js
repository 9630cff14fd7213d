// Portal shell: login, header, hash routing (#/page/id?query) so the gateway can serve
// one static index.html with no server-side fallback route.

import { ApiError, login, session, whenUnauthorised } from "./api.js";
import { h, mount, notice, select } from "./dom.js";
import { accountsPage } from "./pages/accounts.js";
import { contactsPage } from "./pages/contacts.js";
import { notificationsPage } from "./pages/notifications.js";
import { portfolioGraphPage, portfoliosPage } from "./pages/portfolios.js";
import { siteGraphPage, sitesPage } from "./pages/sites.js";
import { thresholdsPage } from "./pages/thresholds.js";
import { trackersPage } from "./pages/trackers.js";
import { allSites, clearCustomer, customersOf, forgetSites, selectCustomer, selectedCustomer } from "./state.js";

const main = document.getElementById("main");
const live = document.getElementById("live");

const ROUTES = [
  [/^sites$/, sitesPage],
  [/^sites\/([^/]+)$/, siteGraphPage],
  [/^portfolios$/, portfoliosPage],
  [/^portfolios\/([^/]+)$/, portfolioGraphPage],
  [/^trackers$/, trackersPage],
  [/^alerts$/, thresholdsPage],
  [/^notifications$/, notificationsPage],
  [/^contacts$/, contactsPage],
  [/^accounts$/, accountsPage],
];

/** Tell screen-reader users what changed (errors, loaded data, zoom range). */
export function announce(message) {
  live.textContent = "";
  requestAnimationFrame(() => { live.textContent = message; });
}

function parseHash() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  return { path: path || "sites", query: new URLSearchParams(query || "") };
}

let renderSeq = 0;
async function render() {
  if (!session.token) return showLogin();
  document.getElementById("topbar").hidden = false;
  document.getElementById("who").textContent = `${session.user.name} (${session.user.role})`;
  const { path, query } = parseHash();
  for (const link of document.querySelectorAll("#nav a")) {
    const current = path === link.hash.slice(2) || path.startsWith(`${link.hash.slice(2)}/`);
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  const seq = ++renderSeq;
  const view = h("div", { class: "view" });
  mount(main, view);
  if (!route) return mount(view, notice("error", `There is no page at #/${path}.`));
  try {
    await renderCustomerPicker();
    if (seq !== renderSeq) return;
    await route[1](view, { params: path.match(route[0]).slice(1).map(decodeURIComponent), query, announce, rerender: render });
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof ApiError && err.status === 401) return;
    mount(view, notice("error", `Something went wrong: ${err.message}`));
    announce(err.message);
  }
}

/** Brokers (or anyone whose sites span several customers) choose the customer in view. */
async function renderCustomerPicker() {
  const host = document.getElementById("customer-picker");
  const customers = customersOf(await allSites());
  if (customers.length < 2) return mount(host);
  const picker = select("customer", customers.map((c) => [c.id, c.name]), selectedCustomer(await allSites()));
  picker.id = "customer-select";
  picker.addEventListener("change", () => {
    selectCustomer(picker.value);
    announce(`Now showing ${picker.selectedOptions[0].textContent}`);
    location.hash = "#/sites";
    render();
  });
  mount(host, h("label", { for: "customer-select" }, "Customer "), picker);
}

function showLogin(message) {
  document.getElementById("topbar").hidden = true;
  const email = h("input", { id: "email", name: "username", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "field-error", id: "login-error", role: "alert" }, message || "");
  const form = h("form", { class: "card login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Sign in to your energy portal"),
    h("p", { class: "muted" }, "Half-hourly consumption for your business sites."),
    h("div", { class: "field" }, h("label", { for: "email" }, "Email"), email),
    h("div", { class: "field" }, h("label", { for: "password" }, "Password"), password),
    error,
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      await login(email.value, password.value);
      forgetSites();
      clearCustomer();
      if (!location.hash || location.hash === "#/login") location.hash = "#/sites";
      render();
    } catch (err) {
      error.textContent = err.status === 401 ? "Wrong email or password." : err.message;
      password.select();
    }
  });
  mount(main, form);
  email.focus();
}

function logout(message) {
  session.clear();
  forgetSites();
  clearCustomer();
  history.replaceState(null, "", location.pathname);
  showLogin(message);
}

whenUnauthorised(() => logout("Your session has ended; please sign in again."));
document.getElementById("logout").addEventListener("click", () => logout());
document.getElementById("nav-toggle").addEventListener("click", (e) => {
  const open = e.currentTarget.getAttribute("aria-expanded") !== "true";
  e.currentTarget.setAttribute("aria-expanded", String(open));
  document.getElementById("nav").classList.toggle("open", open);
});
document.getElementById("nav").addEventListener("click", () => {
  document.getElementById("nav-toggle").setAttribute("aria-expanded", "false");
  document.getElementById("nav").classList.remove("open");
});
window.addEventListener("hashchange", () => { render(); main.focus({ preventScroll: true }); });
render();
