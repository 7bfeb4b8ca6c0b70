/**
 * Opening hours per queue in an IANA time zone (pure: the instant to check is passed in).
 * Zone arithmetic uses Intl.DateTimeFormat only, so daylight-saving changes are those of the
 * platform's time-zone database.
 *
 *   hours:
 *     timezone: America/New_York
 *     weekly: { mon-fri: "08:00-20:00", sat-sun: ["10:00-13:00", "14:00-18:00"] }
 *     closed: ["2026-12-25"]
 */
import type { HoursConfig } from '../flow/schema';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  /** 0 = Sunday. */
  weekday: number;
  /** Minutes since local midnight. */
  minutes: number;
  /** 'YYYY-MM-DD' */
  date: string;
}

/** The wall-clock time in `tz` at instant `at`. */
export function localTime(at: Date, tz: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(at)) parts[p.type] = p.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  const hour = Number(parts.hour) % 24;
  return {
    year,
    month,
    day,
    weekday: DAYS.indexOf(parts.weekday.slice(0, 3).toLowerCase()),
    minutes: hour * 60 + Number(parts.minute),
    date: `${parts.year}-${parts.month}-${parts.day}`,
  };
}

/** Offset of `tz` from UTC at `at`, in ms (local = UTC + offset). */
function offsetMs(at: Date, tz: string): number {
  const l = localTime(at, tz);
  const secs = at.getUTCSeconds() * 1000 + at.getUTCMilliseconds();
  return Date.UTC(l.year, l.month - 1, l.day, 0, l.minutes) + secs - at.getTime();
}

/** The instant at which the wall clock in `tz` shows the given local date and minute (a time skipped by DST maps just after the gap). */
export function fromLocal(year: number, month: number, day: number, minutes: number, tz: string): Date {
  const guess = Date.UTC(year, month - 1, day, 0, minutes);
  let t = guess - offsetMs(new Date(guess), tz);
  t = guess - offsetMs(new Date(t), tz);
  return new Date(t);
}

type Ranges = [number, number][];

function parseRange(r: string): [number, number] {
  const [a, b] = r.split('-');
  const m = (x: string) => Number(x.slice(0, 2)) * 60 + Number(x.slice(3, 5));
  return [m(a), m(b)];
}

/** Day of week (0 = Sunday) → opening ranges in minutes. Later keys override earlier ones for the days they name. */
export function weeklyRanges(hours: HoursConfig): Ranges[] {
  const out: Ranges[] = DAYS.map(() => []);
  for (const [key, value] of Object.entries(hours.weekly)) {
    const [from, to] = key.split('-');
    const a = DAYS.indexOf(from);
    const b = to ? DAYS.indexOf(to) : a;
    const ranges: Ranges = value === 'closed' ? [] : (Array.isArray(value) ? value : [value]).map(parseRange);
    // mon-fri, or a wrapping range such as fri-mon.
    for (let i = a, n = 0; n < 7; i = (i + 1) % 7, n++) {
      out[i] = ranges;
      if (i === b) break;
    }
  }
  return out;
}

/** Is the queue open at `at`? No hours configured: always open. */
export function isOpen(hours: HoursConfig | undefined, at: Date): boolean {
  if (!hours) return true;
  const l = localTime(at, hours.timezone);
  if (hours.closed?.includes(l.date)) return false;
  return weeklyRanges(hours)[l.weekday].some(([a, b]) => l.minutes >= a && l.minutes < b);
}

/** The next instant the queue opens, after `at` (null: open now, or no opening in the next 14 days). */
export function nextOpening(hours: HoursConfig | undefined, at: Date): Date | null {
  if (!hours || isOpen(hours, at)) return null;
  const weekly = weeklyRanges(hours);
  const start = localTime(at, hours.timezone);
  for (let d = 0; d < 15; d++) {
    // Walk local calendar days: noon of the day d days after today, in UTC arithmetic on the date.
    const day = new Date(Date.UTC(start.year, start.month - 1, start.day + d, 12));
    const y = day.getUTCFullYear();
    const m = day.getUTCMonth() + 1;
    const dd = day.getUTCDate();
    const date = `${y}-${String(m).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
    if (hours.closed?.includes(date)) continue;
    const ranges = [...weekly[day.getUTCDay()]].sort((p, q) => p[0] - q[0]);
    for (const [a] of ranges) {
      const t = fromLocal(y, m, dd, a, hours.timezone);
      if (t.getTime() > at.getTime()) return t;
    }
  }
  return null;
}

/** "today at 8:00 AM EST", "tomorrow at 8:00 AM EST" or "Monday at 8:00 AM EST", in the queue's time zone. */
export function describeOpening(when: Date, now: Date, tz: string): string {
  const time = new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }).format(when);
  const a = localTime(now, tz);
  const b = localTime(when, tz);
  const days = Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000);
  if (days === 0) return `today at ${time}`;
  if (days === 1) return `tomorrow at ${time}`;
  const weekday = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'long' }).format(when);
  if (days < 7) return `${weekday} at ${time}`;
  const date = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'long', month: 'long', day: 'numeric' }).format(when);
  return `${date} at ${time}`;
}
