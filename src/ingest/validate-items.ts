import { FORBIDDEN_KEYS } from './schemas.ts';

/** Lone UTF-16 surrogates (possible in JSON "\ud800") are not text Postgres can store. */
const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
import { INGEST_LIMITS as L } from './limits.ts';
import type { DecodedBatch, ItemError, LogRecord, MetricPoint, Span } from './model.ts';

const isCount = (c: number) => Number.isSafeInteger(c) && c >= 0;

/**
 * Checks that apply to every decoded item whatever its format (native or OTLP): the timestamp
 * acceptance window, finite numbers, and attribute shapes Postgres' jsonb would refuse (NUL
 * characters) or that would poison objects (`__proto__`). Returns the batch without the bad items.
 */
export function validateItems(batch: DecodedBatch, now: Date): DecodedBatch {
  const earliest = now.getTime() - L.maxAgeMs;
  const latest = now.getTime() + L.maxFutureMs;
  const errors: ItemError[] = [...batch.errors];
  const keep = <T extends object>(items: T[], kind: string, check: (item: T) => [string, string] | null): T[] =>
    items.filter((item, i) => {
      const problem = check(item);
      if (!problem) return true;
      const origin = batch.origins?.get(item) ?? { index: i, field: `${kind}.${i}` };
      errors.push({ index: origin.index, field: `${origin.field}.${problem[0]}`, message: problem[1] });
      return false;
    });
  const window = (t: number, field: string): [string, string] | null =>
    !Number.isFinite(t)
      ? [field, 'must be a valid time']
      : t < earliest
        ? [field, `is older than the ${L.maxAgeMs / 86_400_000}-day acceptance window`]
        : t > latest
          ? [field, `is more than ${L.maxFutureMs / 60_000} minutes in the future`]
          : null;

  const metrics = keep<MetricPoint>(batch.metrics, 'metrics', (m) => {
    if (!Number.isFinite(m.value)) return ['value', 'must be a finite number'];
    if (m.histogram && ![m.histogram.count, m.histogram.sum ?? 0].every(Number.isFinite)) return ['histogram', 'must hold finite numbers'];
    if (m.histogram?.kind === 'explicit') {
      const { bounds, counts } = m.histogram;
      if (counts.length !== bounds.length + 1) return ['histogram.counts', 'must have bounds.length + 1 entries'];
      if (!bounds.every((b, i) => Number.isFinite(b) && (i === 0 || b > bounds[i - 1]!))) return ['histogram.bounds', 'must be finite and strictly increasing'];
    }
    if (m.histogram) {
      // Bucket counts are what percentiles are computed from: they must be whole observations that
      // add up to the point's count (as OTLP requires), or the rollups would disagree with themselves.
      const h = m.histogram;
      const buckets = h.kind === 'explicit' ? h.counts : [h.zeroCount, ...h.positive.counts, ...h.negative.counts];
      if (!isCount(h.count)) return ['histogram.count', 'must be a non-negative integer'];
      if (!buckets.every(isCount)) return [h.kind === 'explicit' ? 'histogram.counts' : 'histogram', 'bucket counts must be non-negative integers'];
      if (buckets.reduce((a, c) => a + c, 0) !== h.count) return ['histogram.count', 'must equal the sum of the bucket counts'];
    }
    let tags = 0;
    for (const k in m.tags) {
      if (++tags > L.maxTags) return ['tags', `at most ${L.maxTags} tags`];
      const v = m.tags[k]!;
      if (FORBIDDEN_KEYS.has(k) || k.length > L.maxTagKeyLength || k.includes('\u0000')) return [`tags.${k}`, 'is not an allowed tag key'];
      if (v.length > L.maxTagValueLength || v.includes('\u0000')) return [`tags.${k}`, `must be at most ${L.maxTagValueLength} characters without NUL`];
      if (!wellFormed(k) || !wellFormed(v)) return [`tags.${k}`, 'must be valid Unicode (no lone surrogates)'];
    }
    return window(m.timestamp, 'timestamp');
  });
  const logs = keep<LogRecord>(batch.logs, 'logs', (l) => {
    if (l.message.length > L.maxMessageLength) return ['message', `must be at most ${L.maxMessageLength} characters`];
    if (l.message.includes('\u0000') || l.service.includes('\u0000')) return ['message', 'must not contain NUL characters'];
    if (!wellFormed(l.message) || !wellFormed(l.service)) return ['message', 'must be valid Unicode (no lone surrogates)'];
    return checkAttributes(l.attributes, 'attributes') ?? checkAttributes(l.resource ?? {}, 'resource') ?? window(l.timestamp, 'timestamp');
  });
  const spans = keep<Span>(batch.spans, 'spans', (s) => {
    if (!(s.end >= s.start)) return ['end', 'must not be before start'];
    if (![s.name, s.service, s.statusMessage ?? ''].every(wellFormed)) return ['name', 'must be valid Unicode (no lone surrogates)'];
    for (const [i, e] of s.events.entries()) {
      const p = checkAttributes(e.attributes, `events.${i}.attributes`);
      if (p) return p;
    }
    return checkAttributes(s.attributes, 'attributes') ?? checkAttributes(s.resource ?? {}, 'resource') ?? window(s.start, 'start');
  });
  return { metrics, logs, spans, errors, ...(batch.origins ? { origins: batch.origins } : {}) };
}

/**
 * Depth, size, reserved keys and NUL characters, walking the value once. The path of a problem is
 * built only when there is one (from the keys on the way down), not for every key walked. Plain
 * functions, no closures: this runs for every log and span, and tsx wraps each closure it creates.
 */
function checkAttributes(value: Record<string, unknown>, field: string): [string, string] | null {
  const walk: AttributeWalk = { field, trail: [], size: 0 };
  const problem = walkAttribute(walk, value, 0);
  if (problem) return problem;
  return walk.size > L.maxAttributesBytes ? [field, `are larger than ${L.maxAttributesBytes} characters`] : null;
}

interface AttributeWalk {
  field: string;
  /** Keys and indexes from the top to the value being walked. */
  trail: Array<string | number>;
  size: number;
}

const walkPath = (w: AttributeWalk, last?: string) => [w.field, ...w.trail, ...(last === undefined ? [] : [last])].join('.');

function walkAttribute(w: AttributeWalk, v: unknown, depth: number): [string, string] | null {
  if (depth > L.maxAttributeDepth) return [walkPath(w), `nests deeper than ${L.maxAttributeDepth} levels`];
  if (typeof v === 'string') {
    w.size += v.length;
    if (v.includes('\u0000')) return [walkPath(w), 'must not contain NUL characters'];
    return wellFormed(v) ? null : [walkPath(w), 'must be valid Unicode (no lone surrogates)'];
  }
  if (typeof v === 'number') return Number.isFinite(v) ? null : [walkPath(w), 'must be a finite number'];
  if (v === null || typeof v === 'boolean') return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      w.trail.push(i);
      const p = walkAttribute(w, v[i], depth + 1);
      w.trail.pop();
      if (p) return p;
    }
    return null;
  }
  if (typeof v === 'object') {
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(k) || k.includes('\u0000') || !wellFormed(k)) return [walkPath(w, k), 'is not an allowed key'];
      w.size += k.length;
      w.trail.push(k);
      const p = walkAttribute(w, (v as Record<string, unknown>)[k], depth + 1);
      w.trail.pop();
      if (p) return p;
    }
    return null;
  }
  return [walkPath(w), `has an unsupported value of type ${typeof v}`];
}
