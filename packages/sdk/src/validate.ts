/**
 * Call-site checks: the same rules the ingest endpoint applies (the server's src/ingest/schemas.ts and
 * limits.ts), so a bad name or tag is refused where it is written, with a message that says why,
 * instead of coming back later as a rejected event. The checks that run on every call return a
 * number (an estimate of the event's bytes, or -1) so the hot path allocates nothing; the message
 * is worked out only when a check fails.
 */

export const LIMITS = {
  maxNameLength: 200,
  maxTags: 64,
  maxTagKeyLength: 100,
  maxTagValueLength: 1000,
  maxUnitLength: 50,
  maxMessageLength: 64 * 1024,
  maxBuckets: 500,
  /** Events in one request, and the request body after decompression (the server answers 413 past them). */
  maxBatchEvents: 10_000,
  maxBatchBytes: 5 * 1024 * 1024,
} as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a metric name is refused, or undefined when it is fine. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `metric name must be a string, got ${typeof name}`;
  if (name.length === 0 || name.length > LIMITS.maxNameLength) return `metric name "${name.slice(0, 50)}" must be 1-${LIMITS.maxNameLength} characters`;
  if (!NAME.test(name)) return `metric name "${name}" must start with a letter or "_" and contain only letters, digits and _ . : / -`;
  return undefined;
}

export type TagValue = string | number | boolean | undefined;
export type Tags = Record<string, TagValue>;

/**
 * Checks a tag set and answers an estimate of its JSON size, or -1 when a tag is not acceptable.
 * `fixed` are the instrument's own tags: a call's tag with the same key replaces one, so only new
 * keys count towards the limit of 64. Values may be strings, finite numbers or booleans (sent as
 * strings); an undefined value means "no such tag". for...in over a plain object allocates nothing.
 */
export function checkTags(tags: Tags, fixed: Record<string, string> | undefined, fixedCount: number): number {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return -1;
  let count = fixedCount;
  let bytes = 2;
  for (const key in tags) {
    const value = tags[key];
    if (value === undefined) continue;
    if (key.length === 0 || key.length > LIMITS.maxTagKeyLength || RESERVED.has(key) || key.includes('\u0000')) return -1;
    if (typeof value === 'string') {
      if (value.length > LIMITS.maxTagValueLength || value.includes('\u0000')) return -1;
      bytes += key.length + value.length + 6;
    } else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') {
      bytes += key.length + 24;
    } else {
      return -1;
    }
    if (fixed === undefined || !(key in fixed)) count++;
  }
  return count > LIMITS.maxTags ? -1 : bytes;
}

/** The message for a tag set checkTags refused (the slow path, run only then). */
export function tagsProblem(tags: unknown, fixed: Record<string, string> | undefined, fixedCount: number): string {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return `tags must be an object of strings, got ${Array.isArray(tags) ? 'an array' : tags === null ? 'null' : typeof tags}`;
  let count = fixedCount;
  for (const [key, value] of Object.entries(tags)) {
    if (value === undefined) continue;
    if (key.length === 0 || key.length > LIMITS.maxTagKeyLength) return `tag key "${key.slice(0, 50)}" must be 1-${LIMITS.maxTagKeyLength} characters`;
    if (RESERVED.has(key)) return `tag key "${key}" is reserved`;
    if (key.includes('\u0000')) return `tag key "${key}" must not contain NUL characters`;
    if (typeof value === 'string') {
      if (value.length > LIMITS.maxTagValueLength) return `tag "${key}" is longer than ${LIMITS.maxTagValueLength} characters`;
      if (value.includes('\u0000')) return `tag "${key}" must not contain NUL characters`;
    } else if (!((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')) {
      return `tag "${key}" must be a string, a finite number or a boolean, got ${value === null ? 'null' : typeof value}`;
    }
    if (fixed === undefined || !(key in fixed)) count++;
  }
  return count > LIMITS.maxTags ? `at most ${LIMITS.maxTags} tags per point (with the instrument's and the client's)` : 'invalid tags';
}

/** A tag set fixed when an instrument or client is made: checked once, values made strings. */
export function fixedTags(tags: Tags | undefined): { tags: Record<string, string>; count: number } | string {
  if (tags === undefined) return { tags: {}, count: 0 };
  if (checkTags(tags, undefined, 0) < 0) return tagsProblem(tags, undefined, 0);
  const out: Record<string, string> = {};
  let count = 0;
  for (const [k, v] of Object.entries(tags)) {
    if (v === undefined) continue;
    out[k] = String(v);
    count++;
  }
  return { tags: out, count };
}

/** Histogram bounds: finite, strictly increasing, at most 500 (the server's rule). */
export function bucketsProblem(bounds: unknown): string | undefined {
  if (!Array.isArray(bounds) || bounds.length > LIMITS.maxBuckets) return `buckets must be an array of at most ${LIMITS.maxBuckets} numbers`;
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i];
    if (typeof b !== 'number' || !Number.isFinite(b)) return `buckets[${i}] must be a finite number`;
    if (i > 0 && b <= bounds[i - 1]) return 'buckets must be strictly increasing';
  }
  return undefined;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
