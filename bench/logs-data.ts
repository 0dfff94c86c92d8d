/**
 * The logs benchmark's data: realistic log lines and the traces they belong to, as COPY text lines
 * in time order (the order ingestion writes them).
 *
 * - 10 services; levels debug 20%, info 64%, warn 10%, error 5.5%, fatal 0.5%; messages from
 *   templates with variable parts (routes, ids, durations, IPs, SQL, Java and Node stack traces,
 *   nginx errors), the word "request" in about half of them, the phrase "connection refused" in about
 *   2%; attributes (http.method, http.status_code, route, user_id, request_id).
 * - Traces: one every LINES / TRACES lines, 3-20 spans across services with parent links, errors in
 *   about 3%; 30% of log lines carry the trace id (and a span id) of the trace nearest in time.
 * - Needles: NEEDLES distinct rare tokens ("zqx" + 6 hex), each in NEEDLE_LINES lines inside the last
 *   20 hours (so they are still inside a 24-hour search after a long load), for the needle-in-a-haystack search.
 */
import { rng } from '../tests/helpers/random.ts';

export const SERVICES = ['checkout', 'payments', 'auth', 'search', 'catalog', 'cart', 'shipping', 'email', 'gateway', 'inventory'];
const ROUTES = ['/api/v1/orders', '/api/v1/cart', '/api/v1/products', '/api/v1/users', '/api/v1/search', '/api/v1/checkout', '/healthz', '/api/v2/payments'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const OPERATIONS = ['HTTP GET', 'HTTP POST', 'SELECT orders', 'INSERT payments', 'redis GET', 'publish order.created', 'render', 'grpc Charge'];

export interface DataSpec {
  projectId: string;
  lines: number;
  traces: number;
  start: number;
  end: number;
  needles: number;
  needleLines: number;
}

/** COPY text format: backslash, tab, newline and carriage return escaped. */
const esc = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
const hex = (r: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(r() * 16)];
  return s;
};

export const traceId = (k: number) => `${(0x5eed0000 + (k >>> 16)).toString(16).padStart(16, '0')}${(k & 0xffff).toString(16).padStart(4, '0')}${'a'.repeat(12)}`;
const spanId = (k: number, j: number) => `${(k & 0xffffffff).toString(16).padStart(8, '0')}${j.toString(16).padStart(8, '0')}`;
export const needle = (n: number) => `zqx${((n * 2654435761) >>> 0).toString(16).padStart(8, '0').slice(0, 6)}`;

export function spansPerTrace(k: number) {
  return 3 + ((k * 7919) % 18);
}

/** Span rows of trace k (COPY columns of SPAN_COLUMNS). */
function traceRows(spec: DataSpec, k: number, r: () => number): string[] {
  const n = spansPerTrace(k);
  const t0 = spec.start + ((spec.end - spec.start) * (k + 0.5)) / spec.traces;
  const total = 20 + Math.floor(r() * r() * 2000);
  const error = r() < 0.03;
  const rows: string[] = [];
  const tid = traceId(k);
  for (let j = 0; j < n; j++) {
    const parent = j === 0 ? null : Math.floor(r() * j);
    const startOff = j === 0 ? 0 : Math.floor(r() * total * 0.6);
    const dur = j === 0 ? total : Math.max(0.05, (total - startOff) * r() * 0.8);
    const service = SERVICES[(k + (j === 0 ? 0 : 1 + Math.floor(r() * 9))) % SERVICES.length]!;
    const op = j === 0 ? `${METHODS[k % METHODS.length]} ${ROUTES[k % ROUTES.length]}` : OPERATIONS[Math.floor(r() * OPERATIONS.length)]!;
    const failed = error && (j === 0 || j === n - 1);
    const s = t0 + startOff;
    const attributes = JSON.stringify({ 'http.method': METHODS[k % METHODS.length], 'http.route': ROUTES[k % ROUTES.length], 'peer.service': service });
    const events = failed ? JSON.stringify([{ name: 'exception', timestamp: s + dur / 2, attributes: { 'exception.type': 'TimeoutError', 'exception.message': 'upstream timed out' } }]) : '[]';
    rows.push(
      [
        spec.projectId,
        tid,
        spanId(k, j),
        parent === null ? '\\N' : spanId(k, parent),
        op,
        service,
        new Date(s).toISOString(),
        new Date(s + dur).toISOString(),
        dur.toFixed(3),
        j === 0 ? 'server' : 'client',
        failed ? 'error' : 'ok',
        failed ? 'upstream timed out' : '\\N',
        esc(attributes),
        esc(JSON.stringify({ 'service.name': service, 'host.name': `${service}-${k % 7}` })),
        esc(events),
        '[]',
        String(Math.floor(r() * 2 ** 52)),
      ].join('\t') + '\n',
    );
  }
  return rows;
}

export const SPAN_COLUMNS = 'project_id, trace_id, span_id, parent_span_id, name, service, start_time, end_time, duration_ms, kind, status, status_message, attributes, resource, events, links, event_key';
export const LOG_COLUMNS = 'project_id, time, level, severity_number, service, message, attributes, resource, trace_id, span_id, event_key';

function message(level: string, r: () => number, svc: string, i: number): string {
  const id = Math.floor(r() * 1e6);
  const ms = Math.floor(r() * r() * 3000);
  const rid = hex(r, 12);
  const route = ROUTES[i % ROUTES.length]!;
  switch (level) {
    case 'debug': {
      const k = Math.floor(r() * 3);
      if (k === 0) return `SELECT id, status, total FROM orders WHERE customer_id = ${id} LIMIT 50 -- took ${ms} ms`;
      if (k === 1) return `retrying request ${rid} attempt ${1 + (id % 4)} after ${ms}ms backoff`;
      return `cache lookup key=product:${id} hit=${id % 3 === 0}`;
    }
    case 'info': {
      const k = Math.floor(r() * 4);
      if (k === 0) return `${METHODS[id % METHODS.length]} ${route}/${id} 200 ${ms}ms request_id=${rid}`;
      if (k === 1) return `user u${id} signed in from 10.${id % 256}.${(id >> 8) % 256}.${id % 7}`;
      if (k === 2) return `processed order ord_${id} in ${ms} ms for request ${rid}`;
      return `request completed: ${route} status=200 bytes=${id % 90000}`;
    }
    case 'warn': {
      const k = Math.floor(r() * 3);
      if (k === 0) return `slow request POST ${route} took ${1000 + ms}ms (threshold 1000ms)`;
      if (k === 1) return `connection pool ${svc}-db at ${80 + (id % 20)}% capacity`;
      return `Timeouts exceeded; retrying "payment" call for request ${rid}`;
    }
    case 'error': {
      const k = Math.floor(r() * 4);
      if (k === 0) return `dial tcp 10.0.${id % 256}.${id % 99}:5432: connect: connection refused`;
      if (k === 1)
        return `java.lang.NullPointerException: Cannot invoke "Order.total()" because "order" is null\n\tat com.shop.${svc}.OrderHandler.handle(OrderHandler.java:${40 + (id % 200)})\n\tat com.shop.http.Router.dispatch(Router.java:118)`;
      if (k === 2) return `upstream timed out (110: Connection timed out) while reading response header from upstream, request: "GET ${route} HTTP/1.1"`;
      return `TypeError: Cannot read properties of undefined (reading 'id')\n    at handleRequest (/app/src/handlers/${svc}.js:${id % 300}:17)`;
    }
    default:
      return `out of memory: killed process ${id} (node) in ${svc}`;
  }
}

function levelOf(x: number): [string, number] {
  if (x < 0.2) return ['debug', 5];
  if (x < 0.84) return ['info', 9];
  if (x < 0.94) return ['warn', 13];
  if (x < 0.995) return ['error', 17];
  return ['fatal', 21];
}

/** Log lines in chunks of COPY text (LOG_COLUMNS). Deterministic for a spec. */
export function* logChunks(spec: DataSpec, chunk = 2000): Generator<string> {
  const r = rng(42);
  const step = (spec.end - spec.start) / spec.lines;
  const dayAgo = spec.end - 20 * 3_600_000;
  // Needle positions: spread over the last 20 hours.
  const needleAt = new Map<number, number>();
  const firstRecent = Math.ceil((dayAgo - spec.start) / step);
  const recent = spec.lines - firstRecent;
  for (let n = 0; n < spec.needles; n++) {
    for (let j = 0; j < spec.needleLines; j++) needleAt.set(firstRecent + Math.floor(((n * spec.needleLines + j + 0.5) * recent) / (spec.needles * spec.needleLines)), n);
  }
  let out = '';
  let count = 0;
  for (let i = 0; i < spec.lines; i++) {
    const t = spec.start + i * step + r() * step;
    const svc = SERVICES[Math.floor(r() * SERVICES.length)]!;
    const [level, sev] = levelOf(r());
    let msg = message(level, r, svc, i);
    const n = needleAt.get(i);
    if (n !== undefined) msg = `${msg} trace-marker ${needle(n)}`;
    const traced = r() < 0.3;
    const k = Math.min(spec.traces - 1, Math.floor(((t - spec.start) / (spec.end - spec.start)) * spec.traces));
    const attrs = JSON.stringify({ 'http.method': METHODS[i % METHODS.length], 'http.status_code': level === 'error' ? 500 : 200, route: ROUTES[i % ROUTES.length], user_id: `u${Math.floor(r() * 50000)}`, request_id: hex(r, 8) });
    out +=
      [
        spec.projectId,
        new Date(t).toISOString(),
        level,
        String(sev),
        svc,
        esc(msg),
        esc(attrs),
        esc(`{"service.name":"${svc}","host.name":"${svc}-${i % 7}"}`),
        traced ? traceId(k) : '\\N',
        traced ? spanId(k, Math.floor(r() * spansPerTrace(k))) : '\\N',
        String(Math.floor(r() * 2 ** 52)),
      ].join('\t') + '\n';
    if (++count === chunk) {
      yield out;
      out = '';
      count = 0;
    }
  }
  if (out) yield out;
}

/** Span lines in chunks of COPY text (SPAN_COLUMNS). */
export function* spanChunks(spec: DataSpec, chunk = 200): Generator<string> {
  const r = rng(7);
  let out: string[] = [];
  for (let k = 0; k < spec.traces; k++) {
    out.push(...traceRows(spec, k, r));
    if (out.length >= chunk) {
      yield out.join('');
      out = [];
    }
  }
  if (out.length) yield out.join('');
}
