// Consumption series for the graphs and exports. Portfolio series come from the
// portfolio API; where a deployment does not offer it yet, they are summed here from
// the sites' own series, keeping gaps as gaps (null when no site reported).

import { ApiError, api, getOptional } from "./api.js";
import { addYears, ukMidnight } from "./dates.js";

export const ALL_SITES = "all";

/** Last year's values on this year's intervals, matched by local month-day-time. */
function alignByLabel(labels, previousLabels, previousY) {
  const byLabel = new Map(previousLabels.map((label, i) => [label.slice(5, 16), previousY[i]]));
  return labels.map((label) => byLabel.get(label.slice(5, 16)) ?? null);
}

function toSeries(body) {
  const intervals = body.intervals || [];
  const labels = intervals.map((i) => i.local_start);
  const previous = body.last_year?.intervals;
  return {
    lastYear: previous ? alignByLabel(labels, previous.map((i) => i.local_start), previous.map((i) => i.consumption)) : null,
    x: intervals.map((i) => Date.parse(i.interval_start) / 1000),
    ends: intervals.map((i) => Date.parse(i.interval_end) / 1000),
    labels,
    y: intervals.map((i) => (i.consumption === null || i.consumption === undefined ? null : i.consumption)),
    total: body.total ?? null,
    coverage: body.coverage ?? null,
  };
}

export async function siteSeries(mpxn, range, granularity, trend = false) {
  return toSeries(await api.get(`/api/v1/sites/${encodeURIComponent(mpxn)}/consumption`,
    { ...range, granularity, compare: trend ? "last_year" : undefined }));
}

/** Sum several supply points interval by interval; an interval no point reported stays null. */
export async function summedSeries(mpxns, range, granularity) {
  const parts = await Promise.all(mpxns.map((m) => siteSeries(m, range, granularity)));
  if (!parts.length) return { x: [], ends: [], labels: [], y: [], total: null, coverage: null, lastYear: null };
  const base = parts[0];
  const y = base.x.map((_, i) => {
    let sum = null;
    for (const p of parts) if (p.y[i] !== null && p.y[i] !== undefined) sum = (sum ?? 0) + p.y[i];
    return sum;
  });
  const present = y.filter((v) => v !== null);
  const reported = parts.reduce((n, p) => n + p.y.filter((v) => v !== null).length, 0);
  return { ...base, y, total: present.length ? present.reduce((a, b) => a + b, 0) : null,
    coverage: base.x.length ? reported / (base.x.length * parts.length) : null };
}

/**
 * A portfolio's series. `portfolio.scoped` marks a client-side subset of the API's portfolio
 * (a broker's "All sites" narrowed to one customer): it is summed here from its own sites.
 */
export async function portfolioSeries(portfolio, fuel, range, granularity, trend = false) {
  const mpxns = portfolio.points.filter((p) => p.fuel === fuel).map((p) => p.mpxn);
  if (portfolio.scoped) return summedSeries(mpxns, range, granularity);
  try {
    return toSeries(await api.get(`/api/v1/portfolios/${encodeURIComponent(portfolio.id)}/consumption`,
      { ...range, granularity, fuel, compare: trend ? "last_year" : undefined }));
  } catch (err) {
    if (!(err instanceof ApiError && err.notAvailable)) throw err;
  }
  return summedSeries(mpxns, range, granularity);
}

/** The same period a year earlier, fetched separately where the API did not send it along. */
export async function lastYear(fetchSeries, range, series) {
  const previous = await fetchSeries({ start: addYears(range.start, -1), end: addYears(range.end, -1) });
  return alignByLabel(series.labels, previous.labels, previous.y);
}

function pointsOf(body, key) {
  if (Array.isArray(body)) return body;
  return Array.isArray(body?.[key]) ? body[key] : [];
}

const timeOf = (p) => Date.parse(p.time ?? p.timestamp ?? p.interval_start ?? p.at ?? p.start) / 1000;

/** Mean of timed points falling in each chart interval (the hour's value for half-hours). */
function resample(points, series) {
  const sorted = points.filter((p) => Number.isFinite(p.t) && typeof p.v === "number").sort((a, b) => a.t - b.t);
  let first = 0;
  return series.x.map((start, i) => {
    const hourly = series.ends[i] - start <= 3600;
    const from = hourly ? Math.floor(start / 3600) * 3600 : start;
    const to = hourly ? from + 3600 : series.ends[i];
    while (first < sorted.length && sorted[first].t < from) first += 1;
    let sum = 0, n = 0;
    for (let k = first; k < sorted.length && sorted[k].t < to; k += 1) { sum += sorted[k].v; n += 1; }
    return n ? sum / n : null;
  });
}

/** Observed and forecast temperature for a site, on the chart's intervals; null when not offered. */
export async function temperature(mpxn, range, series) {
  const body = await getOptional(`/api/v1/sites/${encodeURIComponent(mpxn)}/temperature`, range);
  if (!body) return null;
  const valueOf = (p) => p.celsius ?? p.temperature_c ?? p.temperature ?? p.value;
  const observed = [], forecast = [];
  if (Array.isArray(body.observed) || Array.isArray(body.forecast)) {
    for (const p of body.observed || []) observed.push({ t: timeOf(p), v: valueOf(p) });
    for (const p of body.forecast || []) forecast.push({ t: timeOf(p), v: valueOf(p) });
  } else {
    for (const p of pointsOf(body, "hours")) {
      const t = timeOf(p);
      if ("observed" in p || "forecast" in p) {
        observed.push({ t, v: p.observed });
        forecast.push({ t, v: p.forecast });
      } else {
        ((p.kind ?? p.source) === "forecast" ? forecast : observed).push({ t, v: valueOf(p) });
      }
    }
  }
  return { observed: resample(observed, series), forecast: resample(forecast, series) };
}

/** One month's expectation; for a scoped portfolio, the sum of its own modelled sites. */
function expectation(answer, portfolio, fuel) {
  let { expected_kwh: mid, lower_kwh: low, upper_kwh: high } = answer;
  if (portfolio.scoped) {
    const mine = new Set(portfolio.points.filter((p) => p.fuel === fuel).map((p) => p.mpxn));
    const modelled = (answer.sites || []).filter((s) => mine.has(s.mpxn) && s.expected_kwh !== null);
    // The band combines every modelled site's residual variance, which the API does not itemise per site.
    [mid, low, high] = [modelled.length ? modelled.reduce((sum, s) => sum + s.expected_kwh, 0) : null, null, null];
  }
  if (mid === null || mid === undefined) return null;
  // Months run from UK local midnight to UK local midnight (an hour off UTC in summer).
  return { startDate: answer.period_start, endDate: answer.period_end,
    start: ukMidnight(answer.period_start), end: ukMidnight(answer.period_end), mid, low: low ?? null, high: high ?? null };
}

/**
 * The platform's expected consumption for this and next month with its band, spread
 * evenly over the chart's intervals (a month's total shared out by interval length).
 */
export async function expected(portfolio, fuel, series) {
  // A scoped "All sites" asks the API's whole portfolio and keeps its own sites' share.
  const path = `/api/v1/portfolios/${encodeURIComponent(portfolio.id)}/expected`;
  const answers = await Promise.all(["current", "next"].map((period) => getOptional(path, { fuel, period })));
  const periods = answers.filter(Boolean).map((a) => expectation(a, portfolio, fuel)).filter(Boolean);
  if (!periods.length) return null;
  const at = (key) => series.x.map((start, i) => {
    const p = periods.find((q) => start >= q.start && start < q.end);
    if (!p || p[key] === null || p[key] === undefined) return null;
    return p[key] * ((series.ends[i] - start) / (p.end - p.start));
  });
  return { periods, mid: at("mid"), low: at("low"), high: at("high") };
}
