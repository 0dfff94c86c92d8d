/**
 * The benchmark's events: 1,000 metric series (10 metric names x 100 tag sets), realistic log lines
 * from a few services, and spans. Shared by the HTTP load generator and the COPY ceiling so both
 * store the same rows.
 */
export type Scenario = 'metrics' | 'logs' | 'mix';

const METRICS = ['http.server.duration', 'http.server.requests', 'db.client.duration', 'cpu.usage', 'memory.rss', 'queue.depth', 'cache.hits', 'cache.misses', 'gc.pause', 'net.bytes'];
const SERVICES = ['checkout', 'payments', 'search', 'auth', 'inventory'];
const ROUTES = ['/api/cart', '/api/pay', '/api/search', '/api/login', '/api/items'];
const LEVELS = ['info', 'info', 'info', 'info', 'debug', 'warn', 'error'];
const WORDS = 'request completed user order payment cache miss timeout retry database connection pool upstream latency slow query index scan token refresh session expired inventory reserved shipment created'.split(' ');

const BASE = Date.now() - 60_000;
/** Differs per process, so two runs never produce the same event (dedup would drop it). */
const SALT = (process.pid % 4096) * 1e9 + (Date.now() % 1e9);

export function metricEvent(n: number) {
  const s = n % 1000;
  return {
    name: METRICS[s % 10]!,
    value: ((n * 7919) % 1000) / 10 + (SALT % 1000) / 1e6,
    timestamp: BASE + n / 1000,
    tags: { service: SERVICES[s % 5]!, route: ROUTES[Math.floor(s / 10) % 5]!, instance: `i-${Math.floor(s / 50)}` },
  };
}

export function logEvent(n: number) {
  const words = Array.from({ length: 12 }, (_, i) => WORDS[(n * 31 + i * 17) % WORDS.length]).join(' ');
  return {
    timestamp: BASE + n / 1000,
    level: LEVELS[n % LEVELS.length]!,
    service: SERVICES[n % 5]!,
    message: `${words} id=${SALT + n} took ${(n % 997) / 10}ms`,
    attributes: { 'http.route': ROUTES[n % 5], 'user.id': `u${n % 5000}` },
    trace_id: (SALT + n).toString(16).padStart(32, '0').slice(-32),
  };
}

export function spanEvent(n: number) {
  return {
    trace_id: `${(SALT + n).toString(16).padStart(16, '0').slice(-16)}${'f'.repeat(16)}`,
    span_id: (SALT + n).toString(16).padStart(16, '0').slice(-16),
    name: `GET ${ROUTES[n % 5]}`,
    service: SERVICES[n % 5]!,
    start: BASE + n / 1000,
    duration: (n % 500) / 3,
    status: n % 50 === 0 ? 'error' : 'ok',
    kind: 'server',
    attributes: { 'http.status_code': n % 50 === 0 ? 500 : 200 },
  };
}

/** One request body of `size` events, numbered from `first` (unique per client via the stride). */
export function makeBatch(scenario: Scenario, size: number, first: number, client: number): string {
  const base = client * 1e7 + first;
  if (scenario === 'metrics') return JSON.stringify({ metrics: Array.from({ length: size }, (_, i) => metricEvent(base + i)) });
  if (scenario === 'logs') return JSON.stringify({ logs: Array.from({ length: size }, (_, i) => logEvent(base + i)) });
  const m = Math.round(size * 0.7);
  const l = Math.round(size * 0.25);
  return JSON.stringify({
    metrics: Array.from({ length: m }, (_, i) => metricEvent(base + i)),
    logs: Array.from({ length: l }, (_, i) => logEvent(base + m + i)),
    spans: Array.from({ length: size - m - l }, (_, i) => spanEvent(base + m + l + i)),
  });
}
