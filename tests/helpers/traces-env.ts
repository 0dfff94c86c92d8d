/**
 * The traces the trace tests read (tests/integration/traces-*.test.ts), and the answers computed here
 * from the same spans: a tree trace with an orphan, a search population of 24 traces, one trace sent
 * through OTLP/JSON, one outside the usual range, and traces in project B and in another organization
 * (one of them with T1's id). createTracesEnv() sends them through the real ingest endpoint into a
 * fresh database and tenant, so every file has its own.
 */
import { expect } from 'vitest';
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import { createTestEnv, type TestEnv } from './env.ts';
import { createTenant, type Tenant } from './tenant.ts';

export const NOW = Date.parse('2026-06-01T12:00:00Z');
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const iso = (ms: number) => new Date(ms).toISOString();
export const tid = (n: number) => n.toString(16).padStart(32, '0');
export const sid = (n: number) => n.toString(16).padStart(16, '0');
export const BASE = '/functions/v1/logs/traces';

/** A span as sent (native JSON), plus the resource OTLP gives it, for the expectations. */
export interface S {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  service: string;
  start: number;
  duration: number;
  status?: 'unset' | 'ok' | 'error';
  status_message?: string;
  kind?: string;
  attributes?: Record<string, unknown>;
  events?: Array<{ name: string; timestamp: number; attributes: Record<string, unknown> }>;
  resource?: Record<string, unknown>;
}

// The tree trace: a root with two children and a grandchild, and a span whose parent never arrived.
export const T1 = tid(0xabc1);
export const B1 = NOW - 90 * MIN;
export const tree: S[] = [
  { trace_id: T1, span_id: sid(1), name: 'GET /checkout', service: 'frontend', kind: 'server', start: B1, duration: 100, status: 'ok', attributes: { 'http.method': 'GET', 'http.status_code': 200 } },
  {
    trace_id: T1, span_id: sid(2), parent_span_id: sid(1), name: 'POST /pay', service: 'payments', kind: 'client', start: B1 + 10, duration: 60, status: 'error',
    status_message: 'card declined', attributes: { 'http.status_code': 500 }, events: [{ name: 'exception', timestamp: B1 + 50, attributes: { 'exception.message': 'declined' } }],
  },
  { trace_id: T1, span_id: sid(3), parent_span_id: sid(2), name: 'db.query', service: 'payments', kind: 'client', start: B1 + 20.25, duration: 30.5, attributes: { 'db.system': 'postgresql' } },
  { trace_id: T1, span_id: sid(4), parent_span_id: sid(1), name: 'render', service: 'frontend', start: B1 + 75, duration: 20 },
  { trace_id: T1, span_id: sid(5), parent_span_id: sid(0xdead), name: 'late job', service: 'worker', start: B1 + 5, duration: 10, status: 'error' },
];

// Search population: 24 traces two hours back, 4 minutes apart (traces 11 and 12 start together).
export function population(): S[] {
  const out: S[] = [];
  for (let i = 1; i <= 24; i++) {
    const start = NOW - 2 * HOUR + (i === 12 ? 11 : i) * 4 * MIN;
    const error = i % 4 === 0;
    out.push({
      trace_id: tid(i), span_id: sid(100 * i + 1), name: i % 3 === 0 ? 'GET /items' : 'GET /orders', service: 'api', kind: 'server', start, duration: 50 + i * 10,
      status: error ? 'error' : 'ok', attributes: { customer: `c${i % 5}`, 'http.status_code': error ? 500 : 200 },
    });
    out.push({ trace_id: tid(i), span_id: sid(100 * i + 2), parent_span_id: sid(100 * i + 1), name: 'select', service: 'db', kind: 'client', start: start + 5, duration: 5 + i, attributes: { 'db.system': 'postgresql' } });
    if (i % 6 === 0) {
      out.push({ trace_id: tid(i), span_id: sid(100 * i + 3), parent_span_id: sid(100 * i + 1), name: 'select', service: 'db', kind: 'client', start: start + 20, duration: 100 + i, attributes: { 'db.system': 'postgresql' } });
    }
  }
  return out;
}

// One trace through OTLP/JSON: resource attributes and a link to T1's root.
export const T2 = tid(0xabc2);
export const B2 = NOW - 30 * MIN;
export const otlpSpan: S = { trace_id: T2, span_id: sid(0x77), name: 'GET /edge', service: 'edge', kind: 'server', start: B2, duration: 40, status: 'error', status_message: 'boom', attributes: { 'http.route': '/edge' }, resource: { 'service.name': 'edge', 'host.name': 'web-7' } };
// Outside the usual search range.
export const OLD = tid(0xabc3);
export const oldSpan: S = { trace_id: OLD, span_id: sid(0x99), name: 'GET /old', service: 'api', kind: 'server', start: NOW - 5 * HOUR, duration: 70, status: 'ok' };

export const spansA: S[] = [...tree, ...population(), otlpSpan, oldSpan];

// ---------------------------------------------------------------------------- expectations
export interface Filter {
  from: number;
  to: number;
  service?: string;
  operation?: string;
  minDurationMs?: number;
  maxDurationMs?: number;
  status?: string;
  attr?: string[];
}

export function matches(s: S, f: Filter): boolean {
  if (s.start < f.from || s.start >= f.to) return false;
  if (f.service !== undefined && s.service !== f.service) return false;
  if (f.operation !== undefined && s.name !== f.operation) return false;
  if (f.minDurationMs !== undefined && s.duration < f.minDurationMs) return false;
  if (f.maxDurationMs !== undefined && s.duration > f.maxDurationMs) return false;
  if (f.status !== undefined && (s.status ?? 'unset') !== f.status) return false;
  for (const a of f.attr ?? []) {
    const i = a.indexOf(':');
    const key = i < 0 ? a : a.slice(0, i);
    const has = (o: Record<string, unknown> | undefined) => o !== undefined && Object.hasOwn(o, key) && (i < 0 || String(o[key]) === a.slice(i + 1));
    if (!has(s.attributes) && !has(s.resource)) return false;
  }
  return true;
}

/** Trace ids newest first by their newest matching span, each with that span's id. */
export function expectedSearch(f: Filter): Array<{ traceId: string; spanId: string }> {
  const best = new Map<string, S>();
  for (const s of spansA) {
    if (!matches(s, f)) continue;
    const b = best.get(s.trace_id);
    if (!b || s.start > b.start) best.set(s.trace_id, s);
  }
  return [...best.values()]
    .sort((a, b) => b.start - a.start || (a.trace_id < b.trace_id ? 1 : -1))
    .map((s) => ({ traceId: s.trace_id, spanId: s.span_id }));
}

/** percentile_cont: linear interpolation between the closest ranks. */
export function percentileCont(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  const pos = p * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

// In project B (TB, and a span with T1's id) and in the other organization (TO).
export const TB = tid(0xb0b);
export const TO = tid(0x0e4);

// `attr: ['key:value', 'key']` in a test filter becomes `attr.key=value` and `has=key`, the API's syntax.
export const qs = (params: Record<string, string | number | string[] | undefined>) => {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (k === 'attr' && Array.isArray(v)) {
      const has: string[] = [];
      for (const a of v) {
        const i = a.indexOf(':');
        if (i < 0) has.push(a);
        else sp.append(`attr.${a.slice(0, i)}`, a.slice(i + 1));
      }
      if (has.length) sp.append('has', has.join(','));
      continue;
    }
    for (const one of Array.isArray(v) ? v : [v]) sp.append(k, String(one));
  }
  return `?${sp}`;
};

export interface TracesEnv {
  env: TestEnv;
  t: Tenant;
  /** An ingest-only key on project B. */
  keyB: string;
  /** GET under BASE, as the viewer unless a token or key is given; the status and the parsed body (`any`, as res.json() gives it: the tests read deep into it). */
  get(path: string, auth?: { token?: string; apiKey?: string }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function createTracesEnv(): Promise<TracesEnv> {
  const env = await createTestEnv({ fakeTime: iso(NOW) });
  try {
    const ingestKey = async (orgId: string, projectId: string, scopes: string[]) => {
      const key = await generateApiKey();
      await env.db.query(`insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'k', $3, $4, $5::text[])`, [
        orgId, projectId, key.prefix, key.hash, scopes,
      ]);
      return key.key;
    };
    const ingest = async (key: string, body: unknown, path = '/functions/v1/ingest') => {
      const res = await env.request('POST', path, { apiKey: key, body });
      expect(res.status).toBe(200);
      return res.json();
    };

    const t = await createTenant(env);
    const keyB = await ingestKey(t.orgId, t.projectB, ['ingest']);
    const keyOther = await ingestKey(t.other.orgId, t.other.projectId, ['ingest']);

    const native = spansA.filter((s) => s !== otlpSpan).map(({ resource: _r, ...s }) => s);
    const logs = [
      { timestamp: B1 + 1, level: 'info', service: 'frontend', message: 'checkout started', trace_id: T1, span_id: sid(1) },
      { timestamp: B1 + 11, level: 'info', service: 'payments', message: 'charging card', trace_id: T1, span_id: sid(2) },
      { timestamp: B1 + 12, level: 'warn', service: 'payments', message: 'retrying', trace_id: T1, span_id: sid(2), attributes: { attempt: 2 } },
      { timestamp: B1 + 13.5, level: 'error', service: 'payments', message: 'card declined', trace_id: T1, span_id: sid(2) },
      { timestamp: B1 + 2, level: 'info', service: 'frontend', message: 'no trace here' },
    ];
    expect(await ingest(t.keyA.secret, { spans: native, logs })).toMatchObject({ accepted: native.length + logs.length, rejected: 0 });

    const nano = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;
    const otlp = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'edge' } }, { key: 'host.name', value: { stringValue: 'web-7' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: T2, spanId: otlpSpan.span_id, name: otlpSpan.name, kind: 2, startTimeUnixNano: nano(B2), endTimeUnixNano: nano(B2 + 40),
                  attributes: [{ key: 'http.route', value: { stringValue: '/edge' } }], status: { code: 2, message: 'boom' },
                  links: [{ traceId: T1, spanId: sid(1), attributes: [{ key: 'why', value: { stringValue: 'retry of' } }] }],
                },
              ],
            },
          ],
        },
      ],
    };
    await ingest(t.keyA.secret, otlp, '/functions/v1/ingest/v1/traces');

    const elsewhere = (traceId: string) => ({ spans: [{ trace_id: traceId, span_id: sid(0x1111), name: 'GET /secret', service: 'api', kind: 'server', start: NOW - HOUR, duration: 10 }] });
    await ingest(keyB, elsewhere(TB));
    await ingest(keyOther, elsewhere(TO));
    // The same trace id in project B too: project A's readers must not see B's span in it.
    await ingest(keyB, { spans: [{ trace_id: T1, span_id: sid(0x2222), parent_span_id: sid(1), name: 'hidden', service: 'b-service', start: B1 + 30, duration: 1 }] });

    const get = async (path: string, auth: { token?: string; apiKey?: string } = {}) => {
      const res = await env.request('GET', `${BASE}${path}`, auth.token || auth.apiKey ? auth : { token: t.people.viewer.jwt });
      return { status: res.status, body: await res.json() };
    };
    return { env, t, keyB, get, close: () => env.close() };
  } catch (err) {
    await env.close();
    throw err;
  }
}
