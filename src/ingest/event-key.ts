import type { LogRecord, MetricPoint, Span } from './model.ts';

/**
 * A 53-bit hash (cyrb53) of a string, returned with its two 32-bit halves: the halves drive the bloom
 * filter's double hashing; the 53-bit value is stored with the row (event_key) to confirm "maybe
 * seen" answers exactly. Not cryptographic: an attacker colliding keys only dedups their own events.
 */
export interface EventKey {
  key: number;
  h1: number;
  h2: number;
}

export function hashKey(str: string, seed = 0): EventKey {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return { key: 4294967296 * (2097151 & h2) + (h1 >>> 0), h1: h1 >>> 0, h2: h2 >>> 0 };
}

export function sortedTags(tags: Record<string, string>): string {
  return Object.keys(tags)
    .sort()
    .map((k) => `${k}=${tags[k]}`)
    .join('\u0001');
}

/** Identity of an event: its client id when given, else its content. */
export function metricKey(m: MetricPoint, tagString: string): EventKey {
  if (m.id) return hashKey(`m\u0002id\u0002${m.id}`);
  const h = m.histogram ? `${m.histogram.count}` + ('counts' in m.histogram ? m.histogram.counts.join(',') : '') : '';
  return hashKey(`m\u0002${m.name}\u0002${tagString}\u0002${m.timestamp}\u0002${m.value}\u0002${h}`);
}

export function logKey(l: LogRecord): EventKey {
  if (l.id) return hashKey(`l\u0002id\u0002${l.id}`);
  return hashKey(`l\u0002${l.timestamp}\u0002${l.service}\u0002${l.level}\u0002${l.message}\u0002${l.traceId ?? ''}\u0002${l.spanId ?? ''}\u0002${JSON.stringify(l.attributes)}`);
}

/** A span is identified by its trace and span ids (unique by the OpenTelemetry spec). */
export function spanKey(s: Span): EventKey {
  return hashKey(s.id ? `s\u0002id\u0002${s.id}` : `s\u0002${s.traceId}\u0002${s.spanId}`);
}
