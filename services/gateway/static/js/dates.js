// Calendar dates as YYYY-MM-DD strings (the API reads them as local Europe/London midnight).

export function isoDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export function addDays(iso, days) {
  const d = new Date(`${iso}T12:00:00`);
  d.setDate(d.getDate() + days);
  return isoDate(d);
}

export function addYears(iso, years) {
  const [y, m, d] = iso.split("-").map(Number);
  const last = new Date(y + years, m, 0).getDate(); // 29 Feb -> 28 Feb
  return `${y + years}-${String(m).padStart(2, "0")}-${String(Math.min(d, last)).padStart(2, "0")}`;
}

export const today = () => isoDate(new Date());

/** Default range per granularity: enough to be useful, small enough to draw at once. */
export function defaultRange(granularity) {
  const end = today();
  const days = { hh: 7, hour: 31, day: 365 }[granularity] ?? 31;
  return { start: addDays(end, -days), end };
}
