// Consumption series for the graphs and exports. Portfolio series come from the
// portfolio API; where a deployment does not offer it yet, they are summed here from
// the sites' own series, keeping gaps as gaps (null when no site reported).

import { ApiError, api, getOptional } from "./api.js";
import { addYears } from "./dates.js";

export const ALL_SITES = "all";

function toSeries(body) {
  const intervals = body.intervals || [];
  return {
    x: intervals.map((i) => Date.parse(i.interval_start) / 1000),
    ends: intervals.map((i) => Date.parse(i.interval_end) / 1000),
    labels: intervals.map((i) => i.local_start),
    y: intervals.map((i) => (i.consumption === null || i.consumption === undefined ? null : i.consumption)),
    total: body.total ?? null,
    coverage: body.coverage ?? null,
  };
}

export async function siteSeries(mpxn, range, granularity) {
  return toSeries(await api.get(`/api/v1/sites/${encodeURIComponent(mpxn)}/consumption`, { ...range, granularity }));
}

/** Sum several supply points interval by interval; an interval no point reported stays null. */
export async function summedSeries(mpxns, range, granularity) {
  const parts = await Promise.all(mpxns.map((m) => siteSeries(m, range, granularity)));
  if (!parts.length) return { x: [], ends: [], labels: [], y: [], total: null, coverage: null };
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

export async function portfolioSeries(portfolio, fuel, range, granularity) {
  if (portfolio.id !== ALL_SITES) {
    try {
      return toSeries(await api.get(`/api/v1/portfolios/${encodeURIComponent(portfolio.id)}/consumption`,
        { ...range, granularity, fuel }));
    } catch (err) {
      if (!(err instanceof ApiError && err.notAvailable)) throw err;
    }
  }
  return summedSeries(portfolio.points.filter((p) => p.fuel === fuel).map((p) => p.mpxn), range, granularity);
}

/** The same period a year earlier, aligned to this year's intervals by local month-day-time. */
export async function lastYear(fetchSeries, range, series) {
  const previous = await fetchSeries({ start: addYears(range.start, -1), end: addYears(range.end, -1) });
  const byLabel = new Map(previous.labels.map((label, i) => [label.slice(5, 16), previous.y[i]]));
  return series.labels.map((label) => byLabel.get(label.slice(5, 16)) ?? null);
}

function pointsOf(body, key) {
  if (Array.isArray(body)) return body;
  if (Array.isArray(body?.[key])) return body[key];
  return Object.values(body || {}).find(Array.isArray) || [];
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
  const valueOf = (p) => p.temperature_c ?? p.temperature ?? p.value;
  const observed = [], forecast = [];
  if (Array.isArray(body.observed) || Array.isArray(body.forecast)) {
    for (const p of body.observed || []) observed.push({ t: timeOf(p), v: valueOf(p) });
    for (const p of body.forecast || []) forecast.push({ t: timeOf(p), v: valueOf(p) });
  } else {
    for (const p of pointsOf(body, "points")) {
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

/**
 * The platform's expected consumption with its band, spread over the chart's intervals.
 * Per-interval answers map directly; period totals are spread evenly over their period.
 */
export async function expected(portfolio, fuel, series) {
  if (portfolio.id === ALL_SITES) return null;
  const body = await getOptional(`/api/v1/portfolios/${encodeURIComponent(portfolio.id)}/expected`, { fuel });
  if (!body) return null;
  const periods = pointsOf(body, "periods").map((p) => ({
    start: Date.parse(p.start ?? p.interval_start ?? p.period_start) / 1000,
    end: Date.parse(p.end ?? p.interval_end ?? p.period_end) / 1000,
    mid: p.expected ?? p.expected_kwh ?? p.value, low: p.lower ?? p.low ?? p.lower_kwh, high: p.upper ?? p.high ?? p.upper_kwh,
  })).filter((p) => Number.isFinite(p.start) && Number.isFinite(p.end) && p.mid !== undefined);
  const at = (key) => series.x.map((start, i) => {
    const p = periods.find((q) => start >= q.start && start < q.end);
    if (!p || p[key] === undefined || p[key] === null) return null;
    return p[key] * ((series.ends[i] - start) / (p.end - p.start));
  });
  return { periods, mid: at("mid"), low: at("low"), high: at("high") };
}
