/**
 * The fast path must never disagree with the zod schemas: whatever it accepts, zod accepts and maps
 * to the same value; whatever zod rejects, the fast path declines (returns null).
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { fastLog, fastMetric, fastSpan } from '../../../src/ingest/fast-path.ts';
import { decodeWithSchema } from '../../../src/ingest/parse-native.ts';
import { NativeLog, NativeMetric, NativeSpan } from '../../../src/ingest/schemas.ts';

const T = 1_764_000_000_000;
const metrics: unknown[] = [
  { name: 'a', value: 1, timestamp: T },
  { name: 'a.b/c:d-e_f', value: -1.5, timestamp: T, type: 'counter', tags: { k: 'v', e: '' }, unit: 'ms', id: 'x' },
  { name: 'a', value: 1, timestamp: T, type: 'counter', temporality: 'delta' },
  { name: 'a', value: 1, timestamp: new Date(T).toISOString() },
  { name: '', value: 1, timestamp: T },
  { name: '1a', value: 1, timestamp: T },
  { name: 'a', value: '1', timestamp: T },
  { name: 'a', value: 1, timestamp: -1 },
  { name: 'a', value: 1, timestamp: T, type: 'histogram' },
  { name: 'a', value: 1, timestamp: T, tags: { k: 1 } },
  { name: 'a', value: 1, timestamp: T, tags: { '': 'v' } },
  { name: 'a', value: 1, timestamp: T, tags: { k: 'v\u0000' } },
  { name: 'a', value: 1, timestamp: T, tags: [] },
  { name: 'a', value: 1, timestamp: T, extra: true },
  { name: 'a', value: 1, timestamp: T, tags: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
  { name: 'a', value: 1, timestamp: T, id: '' },
  { name: 'x'.repeat(201), value: 1, timestamp: T },
  null,
  [1],
];
const logs: unknown[] = [
  { timestamp: T, message: 'm' },
  { timestamp: T, message: 'm', level: 'WARNING', service: 's', attributes: { a: { b: [1] } }, trace_id: 'A'.repeat(32), span_id: 'b'.repeat(16), id: 'i' },
  { timestamp: T, message: 'm', level: 'loud' },
  { timestamp: T, message: 'm\u0000' },
  { timestamp: T, message: 'm', trace_id: 'xyz' },
  { timestamp: T, message: 'm', service: '' },
  { timestamp: T, message: 1 },
  { timestamp: T, message: 'm', attributes: 'a' },
  { timestamp: T, message: 'm', other: 1 },
];
const span = { trace_id: 'A'.repeat(32), span_id: 'b'.repeat(16), name: 'GET /x', start: T, duration: 12.5 };
const spans: unknown[] = [
  span,
  { ...span, duration: undefined, end: T + 3, parent_span_id: 'C'.repeat(16), service: 's', status: 'error', status_message: 'boom', kind: 'server', attributes: { a: { b: [1] } }, events: [], id: 'i' },
  { ...span, parent_span_id: null },
  { ...span, end: T + 1 },
  { ...span, duration: undefined },
  { ...span, duration: -1 },
  { ...span, start: new Date(T).toISOString() },
  { ...span, trace_id: 'xyz' },
  { ...span, span_id: 'b'.repeat(15) },
  { ...span, parent_span_id: 'zz' },
  { ...span, name: '' },
  { ...span, name: 'n\u0000' },
  { ...span, service: '' },
  { ...span, status: 'bad' },
  { ...span, kind: 'weird' },
  { ...span, attributes: [] },
  { ...span, events: [{ name: 'e', timestamp: T, attributes: {} }] },
  { ...span, events: {} },
  { ...span, id: '' },
  { ...span, other: 1 },
  null,
];

describe('fast path agrees with the schemas', () => {
  const cases = [
    ...metrics.map((item, i) => ['metrics', fastMetric, NativeMetric, i, item] as const),
    ...logs.map((item, i) => ['logs', fastLog, NativeLog, i, item] as const),
    ...spans.map((item, i) => ['spans', fastSpan, NativeSpan, i, item] as const),
  ];
  it.each(cases)('%s case %#', (kind, fast, schema, _, item) => {
    const decoded = (fast as (o: unknown) => object | null)(item);
    const slow = (schema as z.ZodType).safeParse(item);
    if (decoded) {
      expect(slow.success).toBe(true);
      expect(decoded).toEqual(decodeWithSchema(kind, item));
    }
    if (!slow.success) expect(decoded).toBeNull();
  });
  it('the fast path takes the common shapes', () => {
    expect(fastMetric(metrics[1])).not.toBeNull();
    expect(fastLog(logs[1])).not.toBeNull();
    expect(fastSpan(spans[0])).not.toBeNull();
    expect(fastSpan(spans[1])).not.toBeNull();
  });
});
