// Calendar dates as YYYY-MM-DD strings (the API reads them as local Europe/London midnight)
// and the instants of UK local midnights, whatever time zone the browser is in.

export const UK_TIME_ZONE = "Europe/London";

const ukParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: UK_TIME_ZONE, hourCycle: "h23",
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
});

/** Europe/London wall-clock fields of an instant (ms since the epoch). */
function ukFields(ms) {
  const parts = Object.fromEntries(ukParts.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { year: +parts.year, month: +parts.month, day: +parts.day, hour: +parts.hour, minute: +parts.minute, second: +parts.second };
}

/** Offset of UK local time from UTC at an instant, in ms (0 in winter, one hour in summer). */
function ukOffset(ms) {
  const f = ukFields(ms);
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant (seconds since the epoch) of UK local midnight starting `iso` (YYYY-MM-DD).
 * UK clocks change at 01:00 UTC, so midnight always exists and is never ambiguous.
 */
export function ukMidnight(iso) {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  const utcMidnight = Date.UTC(y, m - 1, d);
  // The offset at the guess can differ from the offset at the answer only across a clock change; check once more.
  let instant = utcMidnight - ukOffset(utcMidnight);
  instant = utcMidnight - ukOffset(instant);
  return instant / 1000;
}

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

/** Today's date in the UK (the settlement day), not in the browser's own time zone. */
export function today() {
  const f = ukFields(Date.now());
  return `${f.year}-${String(f.month).padStart(2, "0")}-${String(f.day).padStart(2, "0")}`;
}

/** Default range per granularity: enough to be useful, small enough to draw at once. */
export function defaultRange(granularity) {
  const end = today();
  const days = { hh: 7, hour: 31, day: 365 }[granularity] ?? 31;
  return { start: addDays(end, -days), end };
}
