/**
 * The demo shop's generators (src/demo-data): every event they make passes the real ingest parser
 * and validation, the same (seed, time) gives the same events, windows add up, and what a user
 * would look for is there: a daily cycle, error bursts, nested traces with slow DB spans, logs that
 * point at real spans, one service attribute everywhere.
 */
import { describe, expect, it } from 'vitest';
import { generateEvents, splitEvents } from '../../../src/demo-data/generate-events.ts';
import { generateLogs } from '../../../src/demo-data/generate-logs.ts';
import { generateMetrics } from '../../../src/demo-data/generate-metrics.ts';
import { generateTraces } from '../../../src/demo-data/generate-traces.ts';
import { eventCount, type DemoEvents, type DemoSpan } from '../../../src/demo-data/model.ts';
import { backoffMs, parseRetryAfter } from '../../../src/demo-data/send-batch.ts';
import { incidentAt, MINUTE, SERVICES } from '../../../src/demo-data/shop.ts';
import { parseNative } from '../../../src/ingest/parse-native.ts';
import { validateItems } from '../../../src/ingest/validate-items.ts';

const SEED = 'unit-seed';
const HOUR = 3_600_000;
/** A fixed "now": 2026-12-06 18:00 UTC, a whole minute. */
const NOW = Date.parse('2026-12-06T18:00:00Z');
const SIX_HOURS = generateEvents(SEED, NOW - 6 * HOUR, NOW);

const keyOf = {
  metric: (m: DemoEvents['metrics'][number]) => `${m.name}|${JSON.stringify(m.tags)}|${m.timestamp}`,
  log: (l: DemoEvents['logs'][number]) => l.id,
  span: (s: DemoSpan) => `${s.trace_id}|${s.span_id}`,
};
const sorted = (e: DemoEvents) => ({
  metrics: [...e.metrics].sort((a, b) => keyOf.metric(a).localeCompare(keyOf.metric(b))),
  logs: [...e.logs].sort((a, b) => keyOf.log(a).localeCompare(keyOf.log(b))),
  spans: [...e.spans].sort((a, b) => keyOf.span(a).localeCompare(keyOf.span(b))),
});

describe('demo data generators', () => {
  it('make events the ingest accepts, every one of them', () => {
    for (const batch of splitEvents(SIX_HOURS, 5000)) {
      const decoded = validateItems(parseNative(new TextEncoder().encode(JSON.stringify(batch)), 'json', { at: NOW, requestId: 'req_unit' }), new Date(NOW));
      expect(decoded.errors).toEqual([]);
      expect(decoded.metrics.length + decoded.logs.length + decoded.spans.length).toBe(eventCount(batch));
    }
  });

  it('are a function of (seed, time): the same window twice is the same, another seed differs', () => {
    expect(generateEvents(SEED, NOW - HOUR, NOW)).toEqual(generateEvents(SEED, NOW - HOUR, NOW));
    const other = generateEvents('another-seed', NOW - HOUR, NOW);
    expect(other.spans.map((s) => s.trace_id)).not.toEqual(generateEvents(SEED, NOW - HOUR, NOW).spans.map((s) => s.trace_id));
  });

  it('add up: windows cut anywhere give exactly the events of their union, once each', () => {
    const from = NOW - HOUR;
    const cuts = [from, from + 7_300, from + 61_234, from + 10 * MINUTE, from + 10 * MINUTE + 10_000, from + 47 * MINUTE + 999, NOW];
    const pieces: DemoEvents = { metrics: [], logs: [], spans: [] };
    for (let i = 0; i < cuts.length - 1; i++) {
      const e = generateEvents(SEED, cuts[i]!, cuts[i + 1]!);
      pieces.metrics.push(...e.metrics);
      pieces.logs.push(...e.logs);
      pieces.spans.push(...e.spans);
    }
    expect(sorted(pieces)).toEqual(sorted(generateEvents(SEED, from, NOW)));
  });

  it('stay bounded: a 6 h backfill of a few tens of thousands of events, a 10 s tick of a few hundred at most', () => {
    const total = eventCount(SIX_HOURS);
    expect(total).toBeGreaterThan(20_000);
    expect(total).toBeLessThan(50_000);
    let largest = 0;
    for (let t = NOW - 6 * HOUR; t < NOW; t += 10_000) largest = Math.max(largest, eventCount(generateEvents(SEED, t, t + 10_000)));
    expect(largest).toBeLessThan(300);
    expect(largest).toBeGreaterThan(40); // a tick on a minute boundary carries that minute's points
  });

  it('send one point per series a minute, histograms whose buckets add up to their count', () => {
    const points = generateMetrics(SEED, NOW);
    const series = new Set(points.map((m) => `${m.name}|${JSON.stringify(m.tags)}`));
    expect(series.size).toBe(points.length);
    expect(new Set(SIX_HOURS.metrics.map((m) => `${m.name}|${JSON.stringify(m.tags)}`)).size).toBe(series.size);
    for (const m of points.filter((p) => p.type === 'histogram')) {
      expect(m.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(m.histogram!.count);
      expect(m.histogram!.counts).toHaveLength(m.histogram!.bounds.length + 1);
    }
    expect([...new Set(points.map((m) => m.name))].sort()).toEqual([
      'db.client.connections.usage',
      'db.client.operation.duration',
      'http.server.request.duration',
      'http.server.requests',
      'queue.depth',
      'system.cpu.utilization',
      'system.memory.usage',
    ]);
  });

  it('follow a daily cycle: more requests in the afternoon (UTC) than before dawn', () => {
    const requests = (at: string) => {
      let n = 0;
      for (let t = Date.parse(at); t < Date.parse(at) + 30 * MINUTE; t += MINUTE) {
        n += generateMetrics(SEED, t).filter((m) => m.name === 'http.server.requests').reduce((a, m) => a + m.value!, 0);
      }
      return n;
    };
    expect(requests('2026-12-06T16:00:00Z')).toBeGreaterThan(2 * requests('2026-12-06T04:00:00Z'));
  });

  it('have error bursts: during a payments incident checkout fails far more often than in calm minutes', () => {
    // Find an incident of each kind within a few days, deterministically.
    const found: Record<string, number> = {};
    for (let t = NOW - 72 * HOUR; t < NOW && Object.keys(found).length < 2; t += MINUTE) {
      const i = incidentAt(SEED, t);
      if (i && !(i.kind in found)) found[i.kind] = t;
    }
    expect(Object.keys(found).sort()).toEqual(['payments', 'slow-db']);
    const failures = (t: number) => {
      const counts = generateMetrics(SEED, t).filter((m) => m.name === 'http.server.requests' && m.tags['service.name'] === 'checkout');
      const total = counts.reduce((a, m) => a + m.value!, 0);
      const bad = counts.filter((m) => Number(m.tags['http.response.status_code']) >= 500).reduce((a, m) => a + m.value!, 0);
      return bad / Math.max(1, total);
    };
    let calm = 0;
    let calmMinutes = 0;
    for (let t = NOW - 72 * HOUR; t < NOW; t += 7 * MINUTE) {
      if (!incidentAt(SEED, t)) {
        calm += failures(t);
        calmMinutes++;
      }
    }
    expect(failures(found.payments!)).toBeGreaterThan(0.15);
    expect(calm / calmMinutes).toBeLessThan(0.05);
    // The slow-db incident slows the API: its latency histogram's mean rises several times.
    const apiMeanMs = (t: number) => {
      const h = generateMetrics(SEED, t).find((m) => m.name === 'http.server.request.duration' && m.tags['http.route'] === '/api/products/:id')!.histogram!;
      return h.sum / Math.max(1, h.count);
    };
    expect(apiMeanMs(found['slow-db']!)).toBeGreaterThan(3 * apiMeanMs(found['slow-db']! - 3 * HOUR));
  });

  it('build traces of 3 to 8 nested spans, some failing, some with slow DB calls', () => {
    const traces = new Map<string, DemoSpan[]>();
    for (const s of SIX_HOURS.spans) traces.set(s.trace_id, [...(traces.get(s.trace_id) ?? []), s]);
    expect(traces.size).toBeGreaterThan(500);
    for (const spans of traces.values()) {
      expect(spans.length).toBeGreaterThanOrEqual(3);
      expect(spans.length).toBeLessThanOrEqual(8);
      const roots = spans.filter((s) => !s.parent_span_id);
      expect(roots).toHaveLength(1);
      const byId = new Map(spans.map((s) => [s.span_id, s]));
      for (const s of spans) {
        if (!s.parent_span_id) continue;
        const parent = byId.get(s.parent_span_id)!;
        expect(parent).toBeDefined();
        // A child lies within its parent.
        expect(s.start).toBeGreaterThanOrEqual(parent.start);
        expect(s.start + s.duration).toBeLessThanOrEqual(parent.start + parent.duration + 1e-6);
      }
      // Web calls another service: at least two services per trace.
      expect(new Set(spans.map((s) => s.service)).size).toBeGreaterThanOrEqual(2);
    }
    const all = [...traces.values()];
    expect(all.filter((t) => t.some((s) => s.status === 'error')).length).toBeGreaterThan(5);
    expect(SIX_HOURS.spans.filter((s) => s.attributes['db.system'] === 'postgresql' && s.duration > 200).length).toBeGreaterThan(5);
    expect(new Set(all.map((t) => t.length)).size).toBeGreaterThanOrEqual(4);
  });

  it('write logs at info, warn and error, many pointing at spans that exist', () => {
    const spans = new Set(SIX_HOURS.spans.map((s) => `${s.trace_id}|${s.span_id}`));
    const linked = SIX_HOURS.logs.filter((l) => l.trace_id);
    expect(linked.length).toBeGreaterThan(SIX_HOURS.logs.length / 2);
    for (const l of linked) expect(spans.has(`${l.trace_id}|${l.span_id}`)).toBe(true);
    const levels = new Set(SIX_HOURS.logs.map((l) => l.level));
    expect([...levels].sort()).toEqual(['error', 'info', 'warn']);
    // An access log line names route, status, user and duration.
    const access = linked.find((l) => l.service === 'web')!;
    expect(Object.keys(access.attributes)).toEqual(expect.arrayContaining(['http.route', 'http.response.status_code', 'user.id', 'duration_ms']));
    // Log ids are unique (the ingest's identity of a line with an id).
    expect(new Set(SIX_HOURS.logs.map((l) => `${l.id}|${l.timestamp}`)).size).toBe(SIX_HOURS.logs.length);
  });

  it('name services the same way in metrics, logs and traces', () => {
    const names = new Set<string>(SERVICES);
    expect(SIX_HOURS.metrics.every((m) => names.has(m.tags['service.name']!))).toBe(true);
    expect(SIX_HOURS.logs.every((l) => names.has(l.service))).toBe(true);
    expect(SIX_HOURS.spans.every((s) => names.has(s.service))).toBe(true);
    expect(new Set(SIX_HOURS.metrics.map((m) => m.tags['service.name']))).toEqual(names);
    expect(new Set(SIX_HOURS.logs.map((l) => l.service))).toEqual(names);
  });

  it('time logs and traces inside the window asked for', () => {
    const from = NOW - 5 * MINUTE + 1234;
    const to = NOW - 2 * MINUTE;
    const traces = generateTraces(SEED, from, to);
    const roots = traces.spans.filter((s) => !s.parent_span_id);
    expect(roots.every((s) => s.start >= from && s.start < to)).toBe(true);
    expect(generateLogs(SEED, NOW - 5 * MINUTE).every((l) => l.timestamp >= NOW - 5 * MINUTE && l.timestamp < NOW - 4 * MINUTE)).toBe(true);
    expect(generateEvents(SEED, from, to).metrics.every((m) => m.timestamp >= from && m.timestamp < to)).toBe(true);
  });

  it('split into batches of at most the size asked, losing nothing', () => {
    const batches = splitEvents(SIX_HOURS, 2000);
    expect(batches.every((b) => eventCount(b) <= 2000)).toBe(true);
    expect(batches.reduce((a, b) => a + eventCount(b), 0)).toBe(eventCount(SIX_HOURS));
    expect(batches.flatMap((b) => b.spans)).toEqual(SIX_HOURS.spans);
    expect(splitEvents({ metrics: [], logs: [], spans: [] }, 10)).toEqual([]);
  });
});

describe('demo data sender backoff', () => {
  it.each([
    // [attempt, Retry-After ms, random, expected wait]
    [1, undefined, 0.5, 500], // first failure: up to 1 s
    [1, undefined, 0, 250], // never a busy loop
    [3, undefined, 1, 4000], // doubling
    [20, undefined, 1, 60_000], // capped at a minute
    [1, 30_000, 0.5, 30_000], // never sooner than the server asked
  ])('attempt %s, Retry-After %s: waits %s ms', (attempt, retryAfter, random, expected) => {
    expect(backoffMs(attempt, retryAfter, () => random)).toBe(expected);
  });

  it.each([
    ['7', 7000],
    [new Date(Date.parse('2026-12-06T18:00:05Z')).toUTCString(), 5000],
    ['soon', undefined],
    [null, undefined],
  ])('reads Retry-After %s as %s ms', (value, expected) => {
    expect(parseRetryAfter(value, Date.parse('2026-12-06T18:00:00Z'))).toBe(expected);
  });
});
