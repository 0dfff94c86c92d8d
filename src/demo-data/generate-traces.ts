import { latencyFactor } from './generate-metrics.ts';
import type { Attributes, DemoEvents, DemoLog, DemoSpan } from './model.ts';
import { rngFor, type Rng } from './random.ts';
import { incidentAt, MINUTE, trafficAt, type Incident } from './shop.ts';

/** Traces a minute at the daily peak (traffic scales it); the metrics count every request, traces sample. */
const TRACES_PER_MINUTE_AT_PEAK = 6;

/**
 * Builds one trace as a story told in order: `open` a span, move the clock through its children,
 * `close` it. Logs are written from inside a span and carry its ids, as an instrumented logger would.
 */
class TraceBuilder {
  readonly spans: DemoSpan[] = [];
  readonly logs: DemoLog[] = [];
  readonly traceId: string;

  constructor(readonly r: Rng) {
    this.traceId = r.hex(16);
  }

  open(parent: DemoSpan | null, service: string, kind: DemoSpan['kind'], name: string, start: number, attributes: Attributes = {}): DemoSpan {
    const span: DemoSpan = { trace_id: this.traceId, span_id: this.r.hex(8), name, service, start: round(start), duration: 0, status: 'unset', kind, attributes };
    if (parent) span.parent_span_id = parent.span_id;
    this.spans.push(span);
    return span;
  }

  /** Ends a span at `end` (ms); an error adds the exception event OpenTelemetry records. */
  close(span: DemoSpan, end: number, error?: { type: string; message: string }): number {
    span.duration = round(Math.max(0.05, end - span.start));
    if (error) {
      span.status = 'error';
      span.status_message = error.message;
      span.events = [{ name: 'exception', timestamp: round(end), attributes: { 'exception.type': error.type, 'exception.message': error.message } }];
    } else if (span.kind !== 'internal' && span.kind !== 'producer') {
      span.status = 'ok';
    }
    return end;
  }

  log(span: DemoSpan, level: DemoLog['level'], message: string, at: number, attributes: Attributes = {}) {
    this.logs.push({
      id: `demo-${this.traceId}-${this.logs.length}`,
      timestamp: round(at),
      level,
      service: span.service,
      message,
      attributes,
      trace_id: this.traceId,
      span_id: span.span_id,
    });
  }

  /** A database call from `parent`'s service: a client span, sometimes slow, warned about when it is. */
  db(parent: DemoSpan, at: number, operation: 'SELECT' | 'INSERT' | 'UPDATE', table: string, statement: string, slowFactor: number): number {
    const span = this.open(parent, parent.service, 'client', `${operation} shop.${table}`, at, {
      'db.system': 'postgresql',
      'db.namespace': 'shop',
      'db.operation.name': operation,
      'db.collection.name': table,
      'db.query.text': statement,
      'server.address': 'db-1',
      'peer.service': 'postgres',
    });
    // Now and then a query waits on a lock or scans: the slow DB spans a waterfall should show.
    const slow = this.r.next() < 0.03 ? this.r.logNormal(450, 0.6) : 0;
    const duration = this.r.logNormal(1.8 * slowFactor, 0.6) + slow;
    const end = this.close(span, at + duration);
    if (duration > 200) {
      this.log(span, 'warn', `slow query (${Math.round(duration)} ms): ${statement}`, end, { 'db.operation.name': operation, 'db.collection.name': table, duration_ms: Math.round(duration) });
    }
    return end + this.r.next() * 0.5;
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

interface Request {
  b: TraceBuilder;
  r: Rng;
  incident: Incident | null;
  user: string;
  webHost: string;
  apiHost: string;
}

function httpAttrs(method: string, route: string, host: string, user: string, extra: Attributes = {}): Attributes {
  return { 'http.request.method': method, 'http.route': route, 'host.name': host, 'user.id': user, ...extra };
}

/** The web server span around a call to a back end, with its access log line. */
function webRequest(q: Request, start: number, method: 'GET' | 'POST', route: string, path: string, backend: { service: string; route: string; host: string }, handle: (server: DemoSpan, at: number) => { end: number; status: number; error?: { type: string; message: string } }) {
  const { b, r } = q;
  const web = b.open(null, 'web', 'server', `${method} ${route}`, start, httpAttrs(method, route, q.webHost, q.user, { 'url.path': path }));
  let t = start + r.logNormal(3, 0.4);
  const client = b.open(web, 'web', 'client', `${method} ${backend.route}`, t, { 'http.request.method': method, 'server.address': backend.host, 'peer.service': backend.service });
  t += r.logNormal(0.6, 0.3);
  const server = b.open(client, backend.service, 'server', `${method} ${backend.route}`, t, httpAttrs(method, backend.route, backend.host, q.user));
  const answer = handle(server, t + r.logNormal(0.5, 0.3));
  const serverEnd = b.close(server, answer.end + r.logNormal(0.4, 0.3), answer.status >= 500 ? answer.error : undefined);
  server.attributes['http.response.status_code'] = answer.status;
  const clientEnd = b.close(client, serverEnd + r.logNormal(0.6, 0.3), answer.status >= 400 ? { type: 'HttpError', message: `${backend.service} answered ${answer.status}` } : undefined);
  client.attributes['http.response.status_code'] = answer.status;
  const end = b.close(web, clientEnd + r.logNormal(route === '/' || route === '/products/:id' ? 25 : 8, 0.5) * latencyFactor({ service: 'web', route }, null), answer.status >= 500 ? { type: 'HttpError', message: `upstream ${backend.service} failed with ${answer.status}` } : undefined);
  web.attributes['http.response.status_code'] = answer.status;
  const duration = Math.round(end - start);
  const level = answer.status >= 500 ? 'error' : answer.status >= 400 ? 'warn' : 'info';
  b.log(web, level, `${method} ${path} ${answer.status} ${duration}ms`, end, {
    'http.route': route,
    'http.request.method': method,
    'http.response.status_code': answer.status,
    'user.id': q.user,
    duration_ms: duration,
    'host.name': q.webHost,
  });
}

function home(q: Request, start: number) {
  const { b, r } = q;
  const slow = latencyFactor({ service: 'api', route: '/api/products' }, q.incident);
  webRequest(q, start, 'GET', '/', '/', { service: 'api', route: '/api/products', host: q.apiHost }, (server, at) => {
    const cache = b.open(server, 'api', 'internal', 'cache.get products:featured', at, { 'cache.hit': true });
    let t = b.close(cache, at + r.logNormal(0.4, 0.4));
    if (r.next() < 0.4) {
      cache.attributes['cache.hit'] = false;
      t = b.db(server, t, 'SELECT', 'products', 'SELECT id, name, price FROM products WHERE featured ORDER BY rank LIMIT $1', slow);
    }
    if (q.incident?.kind === 'slow-db' && r.next() < 0.08) {
      return { end: t + 2, status: 500, error: { type: 'DatabaseError', message: 'canceling statement due to statement timeout' } };
    }
    return { end: t + r.logNormal(2, 0.4), status: 200 };
  });
}

function product(q: Request, start: number) {
  const { b, r } = q;
  const id = r.int(1, 480);
  const slow = latencyFactor({ service: 'api', route: '/api/products/:id' }, q.incident);
  webRequest(q, start, 'GET', '/products/:id', `/products/${id}`, { service: 'api', route: '/api/products/:id', host: q.apiHost }, (server, at) => {
    let t = b.db(server, at, 'SELECT', 'products', 'SELECT * FROM products WHERE id = $1', slow);
    if (r.next() < 0.03) {
      b.log(server, 'warn', `product ${id} not found`, t, { 'product.id': id, 'http.response.status_code': 404 });
      return { end: t + 0.5, status: 404 };
    }
    t = b.db(server, t, 'SELECT', 'inventory', 'SELECT sku, quantity FROM inventory WHERE product_id = $1', slow);
    if (r.next() < 0.3) {
      const rec = b.open(server, 'api', 'internal', 'recommendations.rank', t, { 'product.id': id, candidates: r.int(20, 80) });
      t = b.close(rec, t + r.logNormal(6, 0.5));
    }
    if (q.incident?.kind === 'slow-db' && r.next() < 0.08) {
      b.log(server, 'error', 'database error: canceling statement due to statement timeout', t, { 'product.id': id, 'db.system': 'postgresql' });
      return { end: t + 1, status: 500, error: { type: 'DatabaseError', message: 'canceling statement due to statement timeout' } };
    }
    return { end: t + r.logNormal(1.5, 0.4), status: 200 };
  });
}

function addToCart(q: Request, start: number) {
  const { b, r } = q;
  const id = r.int(1, 480);
  const quantity = r.int(1, 3);
  const slow = latencyFactor({ service: 'api', route: '/api/cart/items' }, q.incident);
  webRequest(q, start, 'POST', '/cart', '/cart', { service: 'api', route: '/api/cart/items', host: q.apiHost }, (server, at) => {
    if (r.next() < 0.015) {
      b.log(server, 'warn', `invalid cart item: quantity must be between 1 and 10`, at, { 'user.id': q.user, 'http.response.status_code': 400 });
      return { end: at + 0.8, status: 400 };
    }
    let t = b.db(server, at, 'SELECT', 'products', 'SELECT id, price, stock FROM products WHERE id = $1 FOR SHARE', slow);
    t = b.db(server, t, 'INSERT', 'cart_items', 'INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3) ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + $3', slow);
    const publish = b.open(server, 'api', 'producer', 'cart.updated publish', t, { 'messaging.system': 'redis', 'messaging.destination.name': 'cart.updated' });
    t = b.close(publish, t + r.logNormal(0.7, 0.4));
    b.log(server, 'info', `cart updated: product ${id} x${quantity}`, t, { 'user.id': q.user, 'product.id': id, quantity });
    return { end: t + r.logNormal(1, 0.4), status: 201 };
  });
}

function checkout(q: Request, start: number) {
  const { b, r } = q;
  const order = `ord_${r.hex(5)}`;
  const items = r.int(1, 5);
  const total = Math.round(r.logNormal(60, 0.6) * 100) / 100;
  const failing = q.incident?.kind === 'payments';
  webRequest(q, start, 'POST', '/checkout', '/checkout', { service: 'checkout', route: '/checkout', host: 'checkout-1' }, (server, at) => {
    let t = b.db(server, at, 'SELECT', 'cart_items', 'SELECT product_id, quantity, price FROM cart_items JOIN products ON products.id = product_id WHERE cart_id = $1', 1);
    const charge = b.open(server, 'checkout', 'internal', 'payment.charge', t, { 'order.id': order, 'payment.amount': total, 'payment.currency': 'USD' });
    const call = b.open(charge, 'checkout', 'client', 'POST /v1/charges', t + 0.3, { 'http.request.method': 'POST', 'server.address': 'payments.example.com', 'peer.service': 'payments-provider' });
    const outcome = failing && r.next() < 0.6 ? (r.next() < 0.6 ? 'timeout' : 'unavailable') : r.next() < 0.04 ? 'declined' : 'ok';
    if (outcome === 'timeout') {
      t = b.close(call, t + 3000, { type: 'TimeoutError', message: 'payment provider did not answer within 3000 ms' });
      b.log(call, 'error', `payment provider timeout after 3000 ms (order ${order})`, t, { 'order.id': order, 'user.id': q.user, 'payment.amount': total });
      t = b.close(charge, t + 0.5, { type: 'TimeoutError', message: 'payment provider did not answer within 3000 ms' });
      return { end: t + 1, status: 503, error: { type: 'PaymentUnavailable', message: 'payment provider timeout' } };
    }
    if (outcome === 'unavailable') {
      t = b.close(call, t + r.logNormal(40, 0.4), { type: 'HttpError', message: 'payment provider answered 502 Bad Gateway' });
      call.attributes['http.response.status_code'] = 502;
      b.log(call, 'error', `payment provider answered 502 Bad Gateway (order ${order})`, t, { 'order.id': order, 'user.id': q.user, 'http.response.status_code': 502 });
      t = b.close(charge, t + 0.4, { type: 'HttpError', message: 'payment provider answered 502 Bad Gateway' });
      return { end: t + 1, status: 500, error: { type: 'PaymentError', message: 'payment provider answered 502' } };
    }
    t = b.close(call, t + r.logNormal(280, 0.35) * latencyFactor({ service: 'checkout', route: '/checkout' }, q.incident));
    call.attributes['http.response.status_code'] = outcome === 'declined' ? 402 : 200;
    t = b.close(charge, t + 0.4);
    if (outcome === 'declined') {
      b.log(server, 'warn', `card declined: insufficient_funds (order ${order})`, t, { 'order.id': order, 'user.id': q.user, 'payment.amount': total, 'http.response.status_code': 402 });
      return { end: t + 0.8, status: 402 };
    }
    t = b.db(server, t, 'INSERT', 'orders', 'INSERT INTO orders (id, user_id, total_cents, status) VALUES ($1, $2, $3, $4)', 1);
    const publish = b.open(server, 'checkout', 'producer', 'order.created publish', t, { 'messaging.system': 'redis', 'messaging.destination.name': 'payments' });
    t = b.close(publish, t + r.logNormal(0.8, 0.4));
    b.log(server, 'info', `order ${order} placed: ${items} items, total ${total.toFixed(2)} USD`, t, { 'order.id': order, 'user.id': q.user, 'order.items': items, 'payment.amount': total });
    return { end: t + r.logNormal(1, 0.4), status: 201 };
  });
}

/**
 * The sampled traces whose root starts in [from, to), with the logs written inside them: 3 to 8
 * spans across web, api and checkout (database calls as client spans to postgres), errors and slow
 * queries as the incident of the moment makes them.
 */
export function generateTraces(seed: string, from: number, to: number): Pick<DemoEvents, 'spans' | 'logs'> {
  const spans: DemoSpan[] = [];
  const logs: DemoLog[] = [];
  for (let m = Math.floor(from / MINUTE) * MINUTE; m < to; m += MINUTE) {
    const r = rngFor(seed, 'traces', m);
    const incident = incidentAt(seed, m);
    const n = r.count(TRACES_PER_MINUTE_AT_PEAK * trafficAt(seed, m));
    for (let i = 0; i < n; i++) {
      const start = m + r.next() * MINUTE;
      const tr = rngFor(seed, 'trace', m, i);
      if (start < from || start >= to) continue;
      const q: Request = { b: new TraceBuilder(tr), r: tr, incident, user: `u_${tr.int(1000, 1399)}`, webHost: tr.pick(['web-1', 'web-2']), apiHost: tr.pick(['api-1', 'api-2']) };
      const p = tr.next();
      const checkoutShare = incident?.kind === 'payments' ? 0.4 : 0.12;
      if (p < checkoutShare) checkout(q, start);
      else if (p < checkoutShare + 0.18) addToCart(q, start);
      else if (p < checkoutShare + 0.18 + (1 - checkoutShare - 0.18) / 2) product(q, start);
      else home(q, start);
      spans.push(...q.b.spans);
      logs.push(...q.b.logs);
    }
  }
  return { spans, logs };
}
