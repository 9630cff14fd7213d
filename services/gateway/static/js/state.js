// Session-wide state: the caller's supply points (fetched once per login) and, for
// brokers whose sites span several customers, which customer they are looking at.

import { api } from "./api.js";

const CUSTOMER_KEY = "meterstream.customer";
let sites = null;

export async function allSites() {
  if (!sites) sites = await api.get("/api/v1/sites");
  return sites;
}

export function forgetSites() { sites = null; }

export function customersOf(points) {
  const byId = new Map();
  for (const p of points) byId.set(p.customer_id, p.customer_name);
  return [...byId].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
}

export function selectedCustomer(points) {
  const customers = customersOf(points);
  const chosen = sessionStorage.getItem(CUSTOMER_KEY);
  return customers.find((c) => c.id === chosen) ? chosen : customers[0]?.id ?? null;
}

export function selectCustomer(id) { sessionStorage.setItem(CUSTOMER_KEY, id); }
export function clearCustomer() { sessionStorage.removeItem(CUSTOMER_KEY); }

/** True when the caller's sites span several customers (a broker), so views follow the selected one. */
export async function severalCustomers() {
  return customersOf(await allSites()).length > 1;
}

/** The items (accounts, contacts…) of the customer in view; all of them for a single-customer login. */
export async function ofCustomerInView(items) {
  const points = await allSites();
  if (customersOf(points).length < 2) return items;
  const customer = selectedCustomer(points);
  return items.filter((item) => item.customer_id === customer);
}

/** The supply points of the customer in view (all of them when there is only one customer). */
export async function sitesInView() {
  const points = await allSites();
  const customer = selectedCustomer(points);
  return points.filter((p) => p.customer_id === customer);
}

export function fuelsOf(points) {
  return [...new Set(points.map((p) => p.fuel))].sort();
}

/** Supply points grouped by site, keeping the site's facts once. */
export function groupBySite(points) {
  const sitesById = new Map();
  for (const p of points) {
    if (!sitesById.has(p.site_id)) {
      sitesById.set(p.site_id, { site_id: p.site_id, site_name: p.site_name, postcode: p.postcode,
        account_id: p.account_id, account_name: p.account_name, customer_id: p.customer_id, points: [] });
    }
    sitesById.get(p.site_id).points.push(p);
  }
  return [...sitesById.values()].sort((a, b) => a.site_name.localeCompare(b.site_name));
}
