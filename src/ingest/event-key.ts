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
  return hashFinish(hashUpdate(hashStart(seed), str), '');
}

/** cyrb53's state before the first character. */
const hashStart = (seed = 0): HashState => ({ h1: 0xdeadbeef ^ seed, h2: 0x41c6ce57 ^ seed });

/** cyrb53's running state: it reads a string one character at a time, so a common prefix's state can be kept. */
export interface HashState {
  h1: number;
  h2: number;
}

export function hashUpdate(state: HashState, str: string): HashState {
  let { h1, h2 } = state;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  return { h1, h2 };
}

/** The key of (prefix whose state is given) + rest: equal to hashKey(prefix + rest). */
export function hashFinish(state: HashState, rest: string): EventKey {
  let { h1, h2 } = hashUpdate(state, rest);
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return { key: 4294967296 * (2097151 & h2) + (h1 >>> 0), h1: h1 >>> 0, h2: h2 >>> 0 };
}

/**
 * A tag set as text: `k=v` pairs in key order joined by U+0001. That reads back unambiguously only
 * when no key holds `=` or U+0001 and no value holds U+0001; a tag set that breaks this (before
 * 2026-11-26 it could share its text, so its series and event keys, with another tag set: `{a: "1\u0001b=2"}`
 * and `{a: "1", b: "2"}`) is written instead as U+0001 followed by the JSON of its sorted pairs,
 * which no unambiguous text starts with (its keys hold no U+0001). Every other tag set keeps the text
 * it always had, so existing series keep their fingerprints.
 */
export function sortedTags(tags: Record<string, string>): string {
  const keys = Object.keys(tags).sort();
  let plain = true;
  for (const k of keys) if (k.includes('=') || k.includes('\u0001') || tags[k]!.includes('\u0001')) plain = false;
  if (!plain) return `\u0001${JSON.stringify(keys.map((k) => [k, tags[k]]))}`;
  return keys.map((k) => `${k}=${tags[k]}`).join('\u0001');
}

/**
 * Identity of an event: its client id when given, else its content. A metric point's content key is
 * hashed in two parts: its series' part (`metricKeyPrefix`, the same for every point of the series,
 * so a caller can keep its state with the series), then the point's own time, value and histogram.
 */
export function metricKey(m: MetricPoint, tagString: string): EventKey {
  if (m.id) return hashKey(`m\u0002id\u0002${m.id}`);
  const h = m.histogram ? `${m.histogram.count}` + ('counts' in m.histogram ? m.histogram.counts.join(',') : '') : '';
  return pointKey(metricKeyPrefix(m.name, tagString), `${m.timestamp}`, `${m.value}`, h);
}

export function metricKeyPrefix(name: string, tagString: string): HashState {
  return hashUpdate(hashStart(), `m\u0002${name}\u0002${tagString}\u0002`);
}

/** The rest of metricKey after the series' part, from the time and value as text (and histogram part). */
export function pointKey(prefix: HashState, timeText: string, valueText: string, histogram = ''): EventKey {
  return hashFinish(prefix, `${timeText}\u0002${valueText}\u0002${histogram}`);
}

export function logKey(l: LogRecord): EventKey {
  if (l.id) return hashKey(`l\u0002id\u0002${l.id}`);
  return hashKey(`l\u0002${l.timestamp}\u0002${l.service}\u0002${l.level}\u0002${l.message}\u0002${l.traceId ?? ''}\u0002${l.spanId ?? ''}\u0002${JSON.stringify(l.attributes)}`);
}

/** A span is identified by its trace and span ids (unique by the OpenTelemetry spec). */
export function spanKey(s: Span): EventKey {
  return hashKey(s.id ? `s\u0002id\u0002${s.id}` : `s\u0002${s.traceId}\u0002${s.spanId}`);
}
