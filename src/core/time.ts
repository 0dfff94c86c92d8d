/**
 * Timestamps with Postgres' microseconds. SQL hands them over as epoch microseconds (an exact
 * integer as text, or a float8, which holds them exactly until the year 2255); answers print ISO
 * 8601 with six fraction digits when there are microseconds, three otherwise. Date.parse reads both.
 */
export function isoMicros(us: number | string): string {
  const whole = typeof us === 'string' ? BigInt(us) : BigInt(Math.round(us));
  const ms = whole / 1000n - (whole % 1000n < 0n ? 1n : 0n);
  const micros = Number(whole - ms * 1000n);
  const iso = new Date(Number(ms)).toISOString();
  return micros === 0 ? iso : `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

/** A timestamp (a Date, ISO text or epoch milliseconds) as ISO 8601 text; null stays null. */
export function toIso(d: Date | string | number): string;
export function toIso(d: Date | string | number | null): string | null;
export function toIso(d: Date | string | number | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}

/** A timestamp (a Date or ISO text, as SQL rows hold them) as epoch milliseconds; null stays null. */
export function toMs(d: Date | string): number;
export function toMs(d: Date | string | null): number | null;
export function toMs(d: Date | string | null): number | null {
  return d === null ? null : new Date(d).getTime();
}
