import { z } from 'zod';

/**
 * Prometheus durations (`30s`, `5m`, `1h30m`, `500ms`, `1w`, `1y`), as Alertmanager reads its timers.
 *
 * Invariants (Prometheus' model.ParseDuration and Duration.String):
 * - units y (365d), w, d, h, m, s, ms, each at most once, from largest to smallest, integer amounts;
 * - `0` alone is allowed; an empty string, fractions, signs, spaces or unknown units are errors;
 * - `formatDuration` is canonical and `parseDuration(formatDuration(ms)) === ms`; years and weeks
 *   are used only when they divide the rest exactly (`90d`, not `12w6d`), as Prometheus prints them.
 */

const UNITS = [
  ['y', 365 * 86_400_000],
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

const HINT = "use integers with units y, w, d, h, m, s, ms, largest first, like '1h30m'";

/** Milliseconds in a Prometheus duration; throws a DurationError saying what is wrong. */
export function parseDuration(text: string): number {
  if (text === '') throw new DurationError('empty duration');
  if (text === '0') return 0;
  let ms = 0;
  let last = -1; // index in UNITS of the previous unit, to enforce order and uniqueness
  // Tokens are an amount and the letters after it, so '5min' is an unknown unit, not '5m' + 'in'.
  const re = /(\d+)([a-zA-Z]+)/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new DurationError(`invalid duration '${text}': ${problemAt(text, pos)}; ${HINT}`);
    const unit = UNITS.findIndex(([u]) => u === m[2]);
    if (unit < 0) throw new DurationError(`invalid duration '${text}': unknown unit '${m[2]}'; ${HINT}`);
    if (unit <= last) {
      const why = unit === last ? `repeats the unit '${m[2]}'` : `has '${m[2]}' after '${UNITS[last]![0]}'`;
      throw new DurationError(`invalid duration '${text}': ${why}; ${HINT}`);
    }
    last = unit;
    ms += Number(m[1]) * UNITS[unit]![1];
    pos = re.lastIndex;
  }
  if (!Number.isSafeInteger(ms)) throw new DurationError(`invalid duration '${text}': too long`);
  return ms;
}

function problemAt(text: string, pos: number): string {
  const rest = text.slice(pos);
  if (/^[+-]/.test(rest)) return 'durations have no sign';
  if (/^\d+[.,]/.test(rest)) return 'fractions are not allowed';
  if (/^\d+$/.test(rest)) return `'${rest}' has no unit`;
  if (/^\d*\s/.test(rest)) return 'spaces are not allowed';
  return /^\d/.test(rest) ? `unexpected '${rest[rest.search(/\D/)]}'` : `expected a number, found '${rest[0]}'`;
}

/** The canonical text of a duration in milliseconds (Prometheus' format): 5_400_000 -> '1h30m'. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in milliseconds: ${ms}`);
  if (ms === 0) return '0s';
  let out = '';
  let rest = ms;
  for (const [unit, size] of UNITS) {
    // Years and weeks only when exact: '90d' reads better than '12w6d'.
    if ((unit === 'y' || unit === 'w') && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/** A duration string parsed to milliseconds, optionally bounded (bounds are durations too: '1s'). */
export function durationSchema(bounds: { min?: string; max?: string } = {}) {
  const min = bounds.min === undefined ? undefined : parseDuration(bounds.min);
  const max = bounds.max === undefined ? undefined : parseDuration(bounds.max);
  return z
    .string({ error: "must be a duration like '5m'" })
    .max(64)
    .transform((text, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch (err) {
        if (!(err instanceof DurationError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
        return z.NEVER;
      }
      if (min !== undefined && ms < min) ctx.addIssue({ code: 'custom', message: `must be at least ${bounds.min}` });
      else if (max !== undefined && ms > max) ctx.addIssue({ code: 'custom', message: `must be at most ${bounds.max}` });
      return ms;
    });
}

/** Any Prometheus duration, in milliseconds. */
export const Duration = durationSchema();
export type Duration = z.output<typeof Duration>;
