/**
 * The pure half of ingest (src/ingest/prepare-batch.ts): what a decoded request becomes before any
 * I/O. Each case is a request and what must come out of it.
 */
import { describe, expect, it } from 'vitest';
import type { DecodedBatch, LogRecord, MetricPoint } from '../../../src/ingest/model.ts';
import { prepareBatch } from '../../../src/ingest/prepare-batch.ts';

const NOW = new Date('2026-12-06T12:00:00Z');
const t = NOW.getTime() - 60_000;
const point = (over: Partial<MetricPoint> = {}): MetricPoint => ({ name: 'cpu', type: 'gauge', value: 1, timestamp: t, tags: { host: 'a' }, ...over });
const log = (over: Partial<LogRecord> = {}): LogRecord => ({ timestamp: t, level: 'info', message: 'm', service: 's', attributes: {}, ...over });
const batch = (over: Partial<DecodedBatch>): DecodedBatch => ({ metrics: [], logs: [], spans: [], errors: [], ...over });

describe('prepareBatch', () => {
  it.each<[string, DecodedBatch, { metrics: number; logs: number; duplicates: number; errors: number; series: number }]>([
    ['an empty request prepares nothing', batch({}), { metrics: 0, logs: 0, duplicates: 0, errors: 0, series: 0 }],
    // The same point twice in one request: stored once, the copy counted as a duplicate.
    ['a point sent twice in one request', batch({ metrics: [point(), point()] }), { metrics: 1, logs: 0, duplicates: 1, errors: 0, series: 1 }],
    ['two values at one time are two events of one series', batch({ metrics: [point(), point({ value: 2 })] }), { metrics: 2, logs: 0, duplicates: 0, errors: 0, series: 1 }],
    ['other tags are another series', batch({ metrics: [point(), point({ tags: { host: 'b' } })] }), { metrics: 2, logs: 0, duplicates: 0, errors: 0, series: 2 }],
    // A client id decides identity: two points with one id are one event, whatever their values.
    ['one client id twice', batch({ metrics: [point({ id: 'e1' }), point({ id: 'e1', value: 9 })] }), { metrics: 1, logs: 0, duplicates: 1, errors: 0, series: 1 }],
    ['a log line sent twice', batch({ logs: [log(), log()] }), { metrics: 0, logs: 1, duplicates: 1, errors: 0, series: 0 }],
    // Outside the acceptance window: refused with an error, not prepared.
    ['a point from a year ago', batch({ metrics: [point({ timestamp: t - 366 * 86_400_000 })] }), { metrics: 0, logs: 0, duplicates: 0, errors: 1, series: 0 }],
    ['decoding errors are kept', batch({ errors: [{ index: 3, field: 'metrics.3.value', message: 'must be a number' }] }), { metrics: 0, logs: 0, duplicates: 0, errors: 1, series: 0 }],
  ])('%s', (_, decoded, expected) => {
    const p = prepareBatch(decoded, NOW);
    expect({ metrics: p.metrics.length, logs: p.logs.length, duplicates: p.duplicates, errors: p.errors.length, series: p.specs.size }).toEqual(expected);
  });

  it('counts the points of each series and keeps the event keys distinct', () => {
    const p = prepareBatch(batch({ metrics: [point(), point({ value: 2 }), point({ tags: { host: 'b' } })] }), NOW);
    expect([...p.specs.values()].map((s) => [s.tags, s.points])).toEqual([
      [{ host: 'a' }, 2],
      [{ host: 'b' }, 1],
    ]);
    expect(new Set(p.metrics.map((m) => m.key.key)).size).toBe(3);
  });

  it('is pure: the same request prepares the same keys, and the input is not changed', () => {
    const decoded = batch({ metrics: [point(), point({ tags: { host: 'b' } })], logs: [log()] });
    const before = structuredClone(decoded);
    const a = prepareBatch(decoded, NOW);
    const b = prepareBatch(decoded, NOW);
    expect(decoded).toEqual(before);
    expect(a.metrics.map((m) => m.key.key)).toEqual(b.metrics.map((m) => m.key.key));
    expect(a.logs.map((l) => l.key.key)).toEqual(b.logs.map((l) => l.key.key));
  });
});
