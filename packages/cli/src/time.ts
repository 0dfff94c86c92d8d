/** Durations (`90s`, `15m`, `1h30m`, `7d`, `2w`) and times (ISO 8601, `now`, or an age: `15m` = 15 minutes ago). */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d+)(ms|s|m|h|d|w)/;

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  let rest = text.trim();
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const m = DURATION.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** An ISO 8601 instant for a time flag, or undefined when `text` is neither a time, `now`, nor an age. */
export function parseTime(text: string, now: number): string | undefined {
  const t = text.trim();
  if (t === 'now') return new Date(now).toISOString();
  const age = parseDuration(t);
  if (age !== undefined) return new Date(now - age).toISOString();
  // A date or a date-time: Date.parse reads both; a bare number is not a time here.
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** `90s` -> `1m30s`, for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join('');
}
