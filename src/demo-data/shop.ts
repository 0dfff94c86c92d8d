import { rngFor } from './random.ts';

/**
 * The demo's imaginary shop: a web front end, an API, a checkout service and the Postgres they share,
 * on six hosts. Every signal names its service with the same attribute (`service.name` in metric
 * tags, `service` on logs and spans) and its route with `http.route`, so a chart, a log line and a
 * trace of the same request can be joined by hand or by the dashboard.
 */
export const SERVICES = ['web', 'api', 'checkout', 'postgres'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const HOSTS: ReadonlyArray<{ host: string; service: ServiceName; memoryBytes: number }> = [
  { host: 'web-1', service: 'web', memoryBytes: 512 * 2 ** 20 },
  { host: 'web-2', service: 'web', memoryBytes: 512 * 2 ** 20 },
  { host: 'api-1', service: 'api', memoryBytes: 1024 * 2 ** 20 },
  { host: 'api-2', service: 'api', memoryBytes: 1024 * 2 ** 20 },
  { host: 'checkout-1', service: 'checkout', memoryBytes: 768 * 2 ** 20 },
  { host: 'db-1', service: 'postgres', memoryBytes: 4096 * 2 ** 20 },
];

export interface Route {
  service: 'web' | 'api' | 'checkout';
  method: 'GET' | 'POST';
  route: string;
  /** Requests a minute at the daily peak. */
  peakPerMinute: number;
  /** Median latency (ms) in calm times. */
  medianMs: number;
  /** Status codes this route answers, the first being success; each gets its own counter series. */
  statuses: readonly number[];
}

/** The web routes' traffic drives the API's and checkout's (each web request calls them). */
export const ROUTES: readonly Route[] = [
  { service: 'web', method: 'GET', route: '/', peakPerMinute: 240, medianMs: 42, statuses: [200, 500] },
  { service: 'web', method: 'GET', route: '/products/:id', peakPerMinute: 300, medianMs: 58, statuses: [200, 404, 500] },
  { service: 'web', method: 'POST', route: '/cart', peakPerMinute: 60, medianMs: 75, statuses: [200, 400, 500] },
  { service: 'web', method: 'POST', route: '/checkout', peakPerMinute: 18, medianMs: 420, statuses: [200, 402, 500, 503] },
  { service: 'api', method: 'GET', route: '/api/products', peakPerMinute: 240, medianMs: 24, statuses: [200, 500] },
  { service: 'api', method: 'GET', route: '/api/products/:id', peakPerMinute: 300, medianMs: 31, statuses: [200, 404, 500] },
  { service: 'api', method: 'POST', route: '/api/cart/items', peakPerMinute: 60, medianMs: 44, statuses: [201, 400, 500] },
  { service: 'checkout', method: 'POST', route: '/checkout', peakPerMinute: 18, medianMs: 360, statuses: [201, 402, 500, 503] },
];

export const MINUTE = 60_000;

/**
 * Traffic as a share of the daily peak at a minute: low at 04:00 UTC, highest at 16:00, with a few
 * percent of noise per minute.
 */
export function trafficAt(seed: string, minuteMs: number): number {
  const hour = (minuteMs % 86_400_000) / 3_600_000;
  const daily = 0.3 + 0.7 * (0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 4)) / 24));
  const noise = 1 + 0.06 * rngFor(seed, 'traffic', minuteMs).normal();
  return Math.max(0.05, daily * noise);
}

export type IncidentKind = 'payments' | 'slow-db';

export interface Incident {
  kind: IncidentKind;
  start: number;
  end: number;
}

/** Incidents come at most one per two-hour block, in most blocks, lasting 4 to 12 minutes. */
const BLOCK = 120 * MINUTE;

function incidentOfBlock(seed: string, block: number): Incident | null {
  const r = rngFor(seed, 'incident', block);
  if (r.next() >= 0.7) return null;
  const kind: IncidentKind = r.next() < 0.5 ? 'payments' : 'slow-db';
  const start = block * BLOCK + r.int(5, 100) * MINUTE;
  return { kind, start, end: start + r.int(4, 12) * MINUTE };
}

/** The incident in progress at `t` (ms), if any. */
export function incidentAt(seed: string, t: number): Incident | null {
  const i = incidentOfBlock(seed, Math.floor(t / BLOCK));
  return i && t >= i.start && t < i.end ? i : null;
}

/** The latest incident that started at or before `t` (this block's or the one before). */
export function lastIncidentBefore(seed: string, t: number): Incident | null {
  const block = Math.floor(t / BLOCK);
  for (const b of [block, block - 1]) {
    const i = incidentOfBlock(seed, b);
    if (i && i.start <= t) return i;
  }
  return null;
}
