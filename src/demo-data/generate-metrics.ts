import type { DemoMetric } from './model.ts';
import { rngFor, type Rng } from './random.ts';
import { HOSTS, incidentAt, lastIncidentBefore, MINUTE, ROUTES, trafficAt, type Route } from './shop.ts';

/** Latency buckets (ms), as OpenTelemetry's HTTP semantic conventions suggest, scaled to ms. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 10000];
const DB_BOUNDS_MS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];
/** Latencies drawn one by one up to this many a series and minute; beyond, the counts are scaled. */
const MAX_SAMPLES = 2000;

/** Shares of a route's requests answered with each non-success status, calm and during its incident. */
function errorShares(route: Route, incident: ReturnType<typeof incidentAt>): Map<number, number> {
  const shares = new Map<number, number>();
  for (const status of route.statuses.slice(1)) {
    shares.set(status, status === 404 ? 0.03 : status === 400 ? 0.015 : status === 402 ? 0.04 : status === 503 ? 0.002 : 0.004);
  }
  const checkoutPath = route.route.endsWith('/checkout');
  if (incident?.kind === 'payments' && checkoutPath) {
    shares.set(500, 0.22);
    shares.set(503, 0.14);
  }
  if (incident?.kind === 'slow-db' && route.service !== 'checkout') shares.set(500, 0.05);
  return shares;
}

/** How much slower a route is during an incident. */
export function latencyFactor(route: Pick<Route, 'service' | 'route'>, incident: ReturnType<typeof incidentAt>): number {
  if (incident?.kind === 'payments' && route.route.endsWith('/checkout')) return 4;
  if (incident?.kind === 'slow-db') return route.service === 'api' ? 5 : route.service === 'web' ? 3 : 1.5;
  return 1;
}

function histogram(r: Rng, count: number, median: number, sigma: number, bounds: number[]) {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  const samples = Math.min(count, MAX_SAMPLES);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < samples; i++) {
    const v = Math.round(r.logNormal(median, sigma) * 100) / 100;
    let b = 0;
    while (b < bounds.length && v > bounds[b]!) b++;
    counts[b]!++;
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (samples < count) {
    // Scale to the full count, keeping whole numbers that add up to it.
    const scale = count / samples;
    let left = count;
    for (let b = 0; b < counts.length; b++) {
      const c = b === counts.length - 1 ? left : Math.min(left, Math.round(counts[b]! * scale));
      counts[b] = c;
      left -= c;
    }
    sum *= scale;
  }
  return { count, sum: Math.round(sum * 100) / 100, min: count ? min : null, max: count ? max : null, bounds, counts };
}

/** Depth of the payments queue: a few jobs, piling up while payments fail and draining after. */
function paymentsQueueDepth(seed: string, t: number, r: Rng): number {
  const base = 2 + r.count(1.5);
  const last = lastIncidentBefore(seed, t);
  if (!last || last.kind !== 'payments') return base;
  const grow = 18;
  const drain = 30;
  if (t < last.end) return base + Math.round(((t - last.start) / MINUTE) * grow);
  const peak = ((last.end - last.start) / MINUTE) * grow;
  return base + Math.max(0, Math.round(peak - ((t - last.end) / MINUTE) * drain));
}

/**
 * The metric points of one minute (`minuteMs`, a whole minute): request counts per route and
 * status (delta counters), a latency histogram per route, CPU and memory per host, queue depths and
 * the database's connections and query latencies. One point per series a minute, the finest
 * resolution the rollups keep.
 */
export function generateMetrics(seed: string, minuteMs: number): DemoMetric[] {
  const t = minuteMs;
  const traffic = trafficAt(seed, t);
  const incident = incidentAt(seed, t);
  const out: DemoMetric[] = [];

  for (const route of ROUTES) {
    const r = rngFor(seed, 'route', route.service, route.route, t);
    const base = { 'service.name': route.service, 'http.route': route.route, 'http.request.method': route.method };
    const total = r.count(route.peakPerMinute * traffic);
    const counts = new Map<number, number>();
    let errors = 0;
    for (const [status, share] of errorShares(route, incident)) {
      const n = Math.min(total - errors, r.count(total * share));
      counts.set(status, n);
      errors += n;
    }
    counts.set(route.statuses[0]!, total - errors);
    for (const status of route.statuses) {
      out.push({
        name: 'http.server.requests',
        type: 'counter',
        temporality: 'delta',
        unit: '{request}',
        value: counts.get(status) ?? 0,
        timestamp: t,
        tags: { ...base, 'http.response.status_code': String(status) },
      });
    }
    out.push({
      name: 'http.server.request.duration',
      type: 'histogram',
      unit: 'ms',
      timestamp: t,
      tags: base,
      histogram: histogram(r, total, route.medianMs * latencyFactor(route, incident), 0.55, LATENCY_BOUNDS_MS),
    });
  }

  for (const h of HOSTS) {
    const r = rngFor(seed, 'host', h.host, t);
    const tags = { 'service.name': h.service, 'host.name': h.host };
    const busy = h.service === 'postgres' ? 0.35 : h.service === 'checkout' ? 0.25 : 0.5;
    const bump = incident?.kind === 'slow-db' && h.service === 'postgres' ? 0.4 : incident?.kind === 'payments' && h.service === 'checkout' ? 0.2 : 0;
    const cpu = Math.min(0.99, Math.max(0.01, 0.05 + busy * traffic + bump + 0.03 * r.normal()));
    // Memory grows slowly and drops at each garbage collection (every 17 minutes here).
    const gc = ((t / MINUTE) % 17) / 17;
    const memory = h.memoryBytes * (0.45 + 0.15 * traffic + 0.12 * gc + 0.01 * r.normal());
    out.push({ name: 'system.cpu.utilization', type: 'gauge', unit: '1', value: Math.round(cpu * 10_000) / 10_000, timestamp: t, tags });
    out.push({ name: 'system.memory.usage', type: 'gauge', unit: 'By', value: Math.round(memory), timestamp: t, tags });
  }

  const q = rngFor(seed, 'queue', t);
  out.push({ name: 'queue.depth', type: 'gauge', unit: '{job}', value: paymentsQueueDepth(seed, t, q), timestamp: t, tags: { 'service.name': 'checkout', queue: 'payments' } });
  out.push({ name: 'queue.depth', type: 'gauge', unit: '{job}', value: q.count(3 * traffic), timestamp: t, tags: { 'service.name': 'checkout', queue: 'emails' } });

  const db = rngFor(seed, 'db', t);
  const slow = incident?.kind === 'slow-db';
  const used = Math.min(100, Math.round(6 + 22 * traffic + (slow ? 55 : 0) + 2 * db.normal()));
  const pg = { 'service.name': 'postgres', 'host.name': 'db-1' };
  out.push({ name: 'db.client.connections.usage', type: 'gauge', unit: '{connection}', value: Math.max(1, used), timestamp: t, tags: { ...pg, state: 'used' } });
  out.push({ name: 'db.client.connections.usage', type: 'gauge', unit: '{connection}', value: 100 - Math.max(1, used), timestamp: t, tags: { ...pg, state: 'idle' } });
  for (const [op, peak, median] of [
    ['SELECT', 900, 1.6],
    ['INSERT', 80, 3.2],
    ['UPDATE', 40, 2.8],
  ] as const) {
    out.push({
      name: 'db.client.operation.duration',
      type: 'histogram',
      unit: 'ms',
      timestamp: t,
      tags: { ...pg, 'db.operation.name': op },
      histogram: histogram(db, db.count(peak * traffic), median * (slow ? 8 : 1), 0.7, DB_BOUNDS_MS),
    });
  }
  return out;
}
