// Dates and times in the reader's language.

const DAY = 86_400_000;

// Building an Intl formatter is slow; rows format many times each: keep them.
const formatters = new Map<string, Intl.DateTimeFormat>();
function fmt(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, f);
  }
  return f;
}

function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** A key that is equal for two moments of the same local day. */
export function dayKey(ms: number): number {
  const d = new Date(ms);
  return d.getFullYear() * 10000 + d.getMonth() * 100 + d.getDate();
}

export function formatTime(ms: number, locale: string): string {
  return fmt(locale, { hour: '2-digit', minute: '2-digit', hour12: false }).format(ms);
}

/** For the conversation list: a time today, a weekday this week, a date before. */
export function formatListTime(ms: number, locale: string, now = Date.now()): string {
  if (!ms) return '';
  const today = startOfDay(now);
  if (ms >= today) return formatTime(ms, locale);
  if (ms >= today - 6 * DAY) return fmt(locale, { weekday: 'short' }).format(ms);
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return fmt(locale, sameYear ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' }).format(ms);
}

/** For day separators: "today", "yesterday" (as given), else the full date. */
export function formatDay(ms: number, locale: string, words: { today: string; yesterday: string }, now = Date.now()): string {
  const today = startOfDay(now);
  if (ms >= today) return words.today;
  if (ms >= today - DAY) return words.yesterday;
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return fmt(locale, sameYear ? { month: 'long', day: 'numeric', weekday: 'long' } : { year: 'numeric', month: 'long', day: 'numeric' }).format(ms);
}

export function formatDateTime(ms: number, locale: string): string {
  return fmt(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(ms);
}
