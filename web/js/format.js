// Number, money and date formatting for the dashboard. Money arrives from the API as JSON
// numbers with two decimals (PostgreSQL numeric text); it is only ever printed, never summed,
// so what is shown is exact to the cent.

const moneyFormat = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const countFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

/** "$12,345.60"; "–" for null. */
export function money(value) {
  if (value === null || value === undefined) return '–';
  return (value < 0 ? '−$' : '$') + moneyFormat.format(Math.abs(value));
}

/** "12,345.60" (no currency sign). */
export function decimal2(value) {
  return value === null || value === undefined ? '–' : moneyFormat.format(value);
}

/** "12,345"; "–" for null. */
export function count(value) {
  return value === null || value === undefined ? '–' : countFormat.format(value);
}

/** "12.3" */
export function decimal1(value) {
  return value === null || value === undefined ? '–' : oneDecimal.format(value);
}

/** A duration in seconds for people: "85 ms", "4.2 s", "3 min 5 s", "2 h 10 min". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${oneDecimal.format(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  return `${countFormat.format(Math.floor(seconds / 86400))} d`;
}

/** Date <-> "YYYY-MM-DD", in UTC so that no time zone shifts a day. */
export function parseIsoDate(text) {
  const [year, month, day] = text.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day));
}
export function isoDate(date) {
  return date.toISOString().slice(0, 10);
}
export function addDays(text, days) {
  const date = parseIsoDate(text);
  date.setUTCDate(date.getUTCDate() + days);
  return isoDate(date);
}
export function daysBetween(first, last) {
  return Math.round((parseIsoDate(last) - parseIsoDate(first)) / 86400000) + 1;
}

/** "Mon 5 Feb 2024" */
export function longDate(text) {
  return parseIsoDate(text).toLocaleDateString('en-GB', {
    weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
  });
}

/** "5 Feb" */
export function shortDate(text) {
  return parseIsoDate(text).toLocaleDateString('en-GB', {
    day: 'numeric', month: 'short', timeZone: 'UTC',
  });
}
