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

/**
 * A log line's 12 words, which depend only on n modulo the word count: made once, not per line (the
 * load generator shares the cores with what it measures).
 */
const PHRASES = Array.from({ length: WORDS.length }, (_, r) => Array.from({ length: 12 }, (_, i) => WORDS[(r * 31 + i * 17) % WORDS.length]).join(' '));

export function logEvent(n: number) {
  return {
    timestamp: BASE + n / 1000,
    level: LEVELS[n % LEVELS.length]!,
    service: SERVICES[n % 5]!,
    message: `${PHRASES[n % WORDS.length]} id=${SALT + n} took ${(n % 997) / 10}ms`,
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

/**
 * One request body of `size` events, numbered from `first` (unique per client via the stride). The
 * text is built by templates, not JSON.stringify of the event objects: the load generator shares the
 * two cores with the gateway, Postgres and Redis, and stringify cost it about 2 µs an event (a fifth
 * of a core at 70K events/s), CPU the system under test then lacked. The strings here need no JSON
 * escaping (names, words, hex ids), numbers print as JSON prints them, and `batchMatchesStringify`
 * checks the two agree (the load process runs it before it starts).
 */
export function makeBatch(scenario: Scenario, size: number, first: number, client: number): string {
  const base = client * 1e7 + first;
  const list = (from: number, n: number, json: (n: number) => string) => {
    let s = '';
    for (let i = 0; i < n; i++) s += (i ? ',' : '') + json(from + i);
    return s;
  };
  if (scenario === 'metrics') return `{"metrics":[${list(base, size, metricJson)}]}`;
  if (scenario === 'logs') return `{"logs":[${list(base, size, logJson)}]}`;
  const m = Math.round(size * 0.7);
  const l = Math.round(size * 0.25);
  return `{"metrics":[${list(base, m, metricJson)}],"logs":[${list(base + m, l, logJson)}],"spans":[${list(base + m + l, size - m - l, spanJson)}]}`;
}

function metricJson(n: number): string {
  const e = metricEvent(n);
  return `{"name":"${e.name}","value":${e.value},"timestamp":${e.timestamp},"tags":{"service":"${e.tags.service}","route":"${e.tags.route}","instance":"${e.tags.instance}"}}`;
}

function logJson(n: number): string {
  const e = logEvent(n);
  return `{"timestamp":${e.timestamp},"level":"${e.level}","service":"${e.service}","message":"${e.message}","attributes":{"http.route":"${e.attributes['http.route']}","user.id":"${e.attributes['user.id']}"},"trace_id":"${e.trace_id}"}`;
}

function spanJson(n: number): string {
  const e = spanEvent(n);
  return `{"trace_id":"${e.trace_id}","span_id":"${e.span_id}","name":"${e.name}","service":"${e.service}","start":${e.start},"duration":${e.duration},"status":"${e.status}","kind":"${e.kind}","attributes":{"http.status_code":${e.attributes['http.status_code']}}}`;
}

/** The same batch through JSON.stringify of the event objects: the reference makeBatch must equal. */
export function batchMatchesStringify(scenario: Scenario, size: number, first: number, client: number): boolean {
  const base = client * 1e7 + first;
  const range = <T>(from: number, n: number, f: (n: number) => T) => Array.from({ length: n }, (_, i) => f(from + i));
  const m = Math.round(size * 0.7);
  const l = Math.round(size * 0.25);
  const reference =
    scenario === 'metrics'
      ? { metrics: range(base, size, metricEvent) }
      : scenario === 'logs'
        ? { logs: range(base, size, logEvent) }
        : { metrics: range(base, m, metricEvent), logs: range(base + m, l, logEvent), spans: range(base + m + l, size - m - l, spanEvent) };
  return makeBatch(scenario, size, first, client) === JSON.stringify(reference);
}
