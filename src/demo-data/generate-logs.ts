import type { DemoLog } from './model.ts';
import { rngFor } from './random.ts';
import { incidentAt, lastIncidentBefore, MINUTE, trafficAt } from './shop.ts';

/**
 * The logs of one minute that belong to no request: Postgres housekeeping, the checkout worker's
 * jobs, the API's cache refreshes, and the warnings and errors of the incident of the moment.
 */
export function generateLogs(seed: string, minuteMs: number): DemoLog[] {
  const t = minuteMs;
  const r = rngFor(seed, 'logs', t);
  const traffic = trafficAt(seed, t);
  const incident = incidentAt(seed, t);
  const out: DemoLog[] = [];
  const log = (service: string, level: DemoLog['level'], message: string, attributes: DemoLog['attributes'] = {}) => {
    out.push({ id: `demo-${t}-${out.length}`, timestamp: t + Math.floor(r.next() * MINUTE), level, service, message, attributes });
  };
  const minute = Math.floor(t / MINUTE);

  if (minute % 5 === 0) {
    const buffers = r.int(200, 4000);
    log('postgres', 'info', `checkpoint complete: wrote ${buffers} buffers (${(buffers / 163.84).toFixed(1)}%); write=${(r.next() * 30).toFixed(3)} s, sync=${(r.next() * 0.2).toFixed(3)} s`, { 'host.name': 'db-1', 'db.system': 'postgresql' });
    log('api', 'info', `cache refreshed: ${r.int(440, 480)} products, ${r.int(20, 40)} categories`, { 'host.name': r.pick(['api-1', 'api-2']), 'cache.name': 'catalog' });
  }
  if (r.next() < 0.15) {
    const table = r.pick(['cart_items', 'orders', 'inventory', 'sessions']);
    log('postgres', 'info', `automatic vacuum of table "shop.public.${table}": index scans: 1, pages: ${r.int(0, 40)} removed, ${r.int(800, 9000)} remain`, { 'host.name': 'db-1', 'db.collection.name': table });
  }
  for (let i = r.count(2 * traffic); i > 0; i--) {
    log('checkout', 'info', `email sent: order confirmation to ${r.pick(['gmail.com', 'outlook.com', 'proton.me', 'example.org'])} recipient`, { 'messaging.destination.name': 'emails', 'user.id': `u_${r.int(1000, 1399)}` });
  }
  if (r.next() < 0.04) log('web', 'warn', `rate limit reached for client ${r.int(10, 250)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}: 120 requests/min`, { 'host.name': r.pick(['web-1', 'web-2']), 'http.response.status_code': 429 });
  if (r.next() < 0.02) log('api', 'error', 'unhandled rejection: ECONNRESET read from redis://cache:6379', { 'host.name': r.pick(['api-1', 'api-2']), 'error.type': 'ECONNRESET' });

  if (incident?.kind === 'slow-db') {
    for (let i = r.int(2, 5); i > 0; i--) {
      log('postgres', 'warn', `process ${r.int(1000, 30000)} still waiting for ShareLock on transaction ${r.int(100000, 999999)} after ${(1000 + r.next() * 4000).toFixed(3)} ms`, { 'host.name': 'db-1', 'db.system': 'postgresql' });
    }
    log('postgres', 'error', 'canceling statement due to statement timeout', { 'host.name': 'db-1', 'db.system': 'postgresql', 'db.collection.name': 'inventory' });
    log('api', 'warn', `database pool exhausted: ${r.int(10, 40)} requests waiting for a connection`, { 'host.name': r.pick(['api-1', 'api-2']), 'db.system': 'postgresql' });
  }
  const last = lastIncidentBefore(seed, t);
  if (last?.kind === 'payments' && t >= last.start && t < last.end + 10 * MINUTE) {
    const depth = 18 * Math.min(t - last.start, last.end - last.start) / MINUTE;
    log('checkout', t < last.end ? 'error' : 'warn', t < last.end ? `payments queue backing up: ${Math.round(depth)} jobs waiting, provider failing` : 'payments queue draining after provider recovery', {
      queue: 'payments',
      'host.name': 'checkout-1',
    });
    if (t === last.start) log('checkout', 'error', 'circuit breaker opened for payments.example.com after 5 consecutive failures', { 'server.address': 'payments.example.com', 'host.name': 'checkout-1' });
  }
  return out;
}
