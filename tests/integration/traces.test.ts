/**
 * Traces over HTTP (mounted in the logs function): spans and logs sent through the real ingest
 * endpoint (native JSON and OTLP/JSON), then a trace as a tree (parents, depth, offsets, orphans,
 * errors, events, links, log count), the logs of a trace, search by every filter with keyset pages
 * compared with the answer computed here from the same spans, service statistics against
 * percentiles computed here, RLS, signed cursors, and bad parameters answered 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();
const tid = (n: number) => n.toString(16).padStart(32, '0');
const sid = (n: number) => n.toString(16).padStart(16, '0');
const BASE = '/functions/v1/logs/traces';

/** A span as sent (native JSON), plus the resource OTLP gives it, for the expectations. */
interface S {
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
const T1 = tid(0xabc1);
const B1 = NOW - 90 * MIN;
const tree: S[] = [
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
function population(): S[] {
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
const T2 = tid(0xabc2);
const B2 = NOW - 30 * MIN;
const otlpSpan: S = { trace_id: T2, span_id: sid(0x77), name: 'GET /edge', service: 'edge', kind: 'server', start: B2, duration: 40, status: 'error', status_message: 'boom', attributes: { 'http.route': '/edge' }, resource: { 'service.name': 'edge', 'host.name': 'web-7' } };
// Outside the usual search range.
const OLD = tid(0xabc3);
const oldSpan: S = { trace_id: OLD, span_id: sid(0x99), name: 'GET /old', service: 'api', kind: 'server', start: NOW - 5 * HOUR, duration: 70, status: 'ok' };

const spansA: S[] = [...tree, ...population(), otlpSpan, oldSpan];

// ---------------------------------------------------------------------------- expectations
interface Filter {
  from: number;
  to: number;
  service?: string;
  operation?: string;
  minDurationMs?: number;
  maxDurationMs?: number;
  status?: string;
  attr?: string[];
}

function matches(s: S, f: Filter): boolean {
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
function expectedSearch(f: Filter): Array<{ traceId: string; spanId: string }> {
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
function percentileCont(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  const pos = p * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

describe('traces API', () => {
  let env: TestEnv;
  let t: Tenant;
  let keyB: string;
  let keyOther: string;
  const TB = tid(0xb0b);
  const TO = tid(0x0e4);

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

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: iso(NOW) });
    t = await createTenant(env);
    keyB = await ingestKey(t.orgId, t.projectB, ['ingest']);
    keyOther = await ingestKey(t.other.orgId, t.other.projectId, ['ingest']);

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
  }, 120_000);
  afterAll(async () => env?.close());

  const get = async (path: string, auth: { token?: string; apiKey?: string } = {}) => {
    const res = await env.request('GET', `${BASE}${path}`, auth.token || auth.apiKey ? auth : { token: t.people.viewer.jwt });
    return { status: res.status, body: await res.json() };
  };
  // `attr: ['key:value', 'key']` in a test filter becomes `attr.key=value` and `has=key`, the API's syntax.
  const qs = (params: Record<string, string | number | string[] | undefined>) => {
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

  describe('GET /logs/traces/:traceId', () => {
    it('returns the span tree with depths, offsets, errors, events, orphans and the log count', async () => {
      const { status, body } = await get(`/${T1}${qs({ projectId: t.projectA })}`);
      expect(status).toBe(200);
      expect(body.trace).toEqual({
        traceId: T1,
        projectIds: [t.projectA],
        start: '2026-06-01T10:30:00.000Z',
        end: '2026-06-01T10:30:00.100Z',
        durationMs: 100,
        spanCount: 5,
        errorCount: 2,
        logCount: 4,
        services: [
          { service: 'frontend', spanCount: 2, errorCount: 0 },
          { service: 'payments', spanCount: 2, errorCount: 1 },
          { service: 'worker', spanCount: 1, errorCount: 1 },
        ],
        root: { spanId: sid(1), service: 'frontend', name: 'GET /checkout' },
        roots: [sid(1), sid(5)],
        orphanCount: 1,
        truncated: false,
      });
      const [root, orphan] = body.spans;
      expect(root).toMatchObject({ spanId: sid(1), parentSpanId: null, depth: 0, offsetMs: 0, durationMs: 100, orphan: false, kind: 'server', status: 'ok', attributes: { 'http.status_code': 200 } });
      expect(root.children.map((c: { spanId: string }) => c.spanId)).toEqual([sid(2), sid(4)]);
      const [pay, render] = root.children;
      expect(pay).toMatchObject({
        spanId: sid(2), parentSpanId: sid(1), name: 'POST /pay', service: 'payments', depth: 1, offsetMs: 10, durationMs: 60, status: 'error', statusMessage: 'card declined',
        start: '2026-06-01T10:30:00.010Z', end: '2026-06-01T10:30:00.070Z',
        events: [{ name: 'exception', time: '2026-06-01T10:30:00.050Z', offsetMs: 50, attributes: { 'exception.message': 'declined' } }],
      });
      expect(pay.children).toHaveLength(1);
      expect(pay.children[0]).toMatchObject({ spanId: sid(3), depth: 2, offsetMs: 20.25, durationMs: 30.5, start: '2026-06-01T10:30:00.020250Z', children: [] });
      expect(render).toMatchObject({ spanId: sid(4), depth: 1, offsetMs: 75, kind: 'internal', status: 'unset', children: [] });
      expect(orphan).toMatchObject({ spanId: sid(5), parentSpanId: sid(0xdead), orphan: true, depth: 0, offsetMs: 5, status: 'error', children: [] });
    });

    it('keeps resource attributes and links (OTLP)', async () => {
      const { status, body } = await get(`/${T2}`, { apiKey: t.keyA.secret });
      expect(status).toBe(200);
      expect(body.trace).toMatchObject({ spanCount: 1, errorCount: 1, root: { service: 'edge', name: 'GET /edge' }, logCount: 0 });
      expect(body.spans[0]).toMatchObject({
        resource: { 'service.name': 'edge', 'host.name': 'web-7' },
        statusMessage: 'boom',
        links: [{ traceId: T1, spanId: sid(1), attributes: { why: 'retry of' } }],
      });
    });

    it('reads only the days of the from/to hints when given', async () => {
      const { status, body } = await get(`/${T1}${qs({ projectId: t.projectA, from: iso(B1 + 8), to: iso(B1 + 30) })}`);
      expect(status).toBe(200);
      expect(body.trace).toMatchObject({ spanCount: 2, logCount: 3, roots: [sid(2)], orphanCount: 1, root: null });
      expect(body.spans[0]).toMatchObject({ spanId: sid(2), orphan: true, offsetMs: 0, children: [{ spanId: sid(3), offsetMs: 10.25 }] });
    });

    it('without a projectId shows a user every project they can read: the same trace id in A and B', async () => {
      const viewer = await get(`/${T1}`, { token: t.people.viewer.jwt });
      expect(viewer.body.trace).toMatchObject({ spanCount: 6, projectIds: [t.projectA, t.projectB].sort() });
      const member = await get(`/${T1}`, { token: t.people.member.jwt });
      expect(member.body.trace).toMatchObject({ spanCount: 5, projectIds: [t.projectA] });
      const key = await get(`/${T1}`, { apiKey: t.keyA.secret });
      expect(key.body.trace).toMatchObject({ spanCount: 5, projectIds: [t.projectA] });
    });

    it('404 for a trace nobody sent, for a project or org the caller cannot see', async () => {
      expect((await get(`/${tid(0x5eed)}`)).status).toBe(404);
      expect((await get(`/${TB}`, { token: t.people.member.jwt })).status).toBe(404);
      expect((await get(`/${TB}`, { apiKey: t.keyA.secret })).status).toBe(404);
      expect((await get(`/${TB}${qs({ projectId: t.projectB })}`, { token: t.people.member.jwt })).body.error.code).toBe('NOT_FOUND');
      expect((await get(`/${TB}`, { token: t.people.viewer.jwt })).status).toBe(200);
      expect((await get(`/${TO}`, { token: t.people.owner.jwt })).status).toBe(404);
      expect((await get(`/${T1}`, { token: t.people.outsider.jwt })).status).toBe(404);
      expect((await get(`/${T1}${qs({ projectId: t.projectA })}`, { token: t.people.outsider.jwt })).status).toBe(404);
      expect((await get(`/${TO}`, { token: t.people.outsider.jwt })).status).toBe(200);
    });

    it('accepts an uppercase trace id and refuses malformed ones naming the field', async () => {
      expect((await get(`/${T1.toUpperCase()}`)).body.trace.traceId).toBe(T1);
      for (const bad of ['xyz', 'g'.repeat(32), '0'.repeat(32), 'a'.repeat(31)]) {
        const { status, body } = await get(`/${bad}`);
        expect(status).toBe(400);
        expect(body.error.details[0].field).toBe('path.traceId');
      }
      const inverted = await get(`/${T1}${qs({ from: iso(NOW), to: iso(NOW - HOUR) })}`);
      expect(inverted.status).toBe(400);
      expect(inverted.body.error.details[0].field).toBe('query.to');
    });
  });

  describe('GET /logs/traces/:traceId/logs', () => {
    it('lists the logs of a trace oldest first with their span ids, a page at a time', async () => {
      const { status, body } = await get(`/${T1}/logs`);
      expect(status).toBe(200);
      expect(body.logs.map((l: { message: string; spanId: string }) => [l.message, l.spanId])).toEqual([
        ['checkout started', sid(1)],
        ['charging card', sid(2)],
        ['retrying', sid(2)],
        ['card declined', sid(2)],
      ]);
      expect(body.logs[2]).toMatchObject({ traceId: T1, level: 'warn', service: 'payments', attributes: { attempt: 2 }, time: '2026-06-01T10:30:00.012Z', severityNumber: null, resource: {} });
      expect(body.logs[3].time).toBe('2026-06-01T10:30:00.013500Z');
      expect(body.nextCursor).toBeNull();

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await get(`/${T1}/logs${qs({ limit: 3, cursor })}`, { apiKey: t.keyA.secret });
        expect(page.status).toBe(200);
        expect(page.body.logs.length).toBeLessThanOrEqual(3);
        seen.push(...page.body.logs.map((l: { message: string }) => l.message));
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(['checkout started', 'charging card', 'retrying', 'card declined']);
    });

    it('its cursors are signed and its log ids are the public ones', async () => {
      const first = await get(`/${T1}/logs${qs({ limit: 1 })}`);
      const cursor = first.body.nextCursor as string;
      expect((await get(`/${T1}/logs${qs({ limit: 1, cursor })}`)).status).toBe(200);
      const [body, tag] = cursor.split('.');
      const [time, id] = JSON.parse(Buffer.from(body!, 'base64url').toString()) as [string, string];
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const searched = await get(qs({ from: iso(NOW - 3 * HOUR), to: iso(NOW), limit: 1 }), { apiKey: t.keyA.secret });
      expect(searched.body.nextCursor).toEqual(expect.any(String));
      for (const forged of [
        b64([time, id]), // unsigned, as cursors were
        `${b64(['1970-01-01T00:00:00.000Z', id])}.${tag}`, // edited under the old signature
        searched.body.nextCursor as string, // trace search's
      ]) {
        const r = await get(`/${T1}/logs${qs({ cursor: forged })}`);
        expect(r.status, forged).toBe(400);
        expect(r.body.error.details[0].field).toBe('query.cursor');
      }
      const r = await get(qs({ from: iso(NOW - 3 * HOUR), to: iso(NOW), cursor }), { apiKey: t.keyA.secret });
      expect(r.status).toBe(400);

      const [stored] = await env.db.query<{ id: string }>(`select id::text from public.logs where trace_id = $1 order by time, id limit 1`, [T1]);
      const line = first.body.logs[0] as { id: string; message: string };
      expect(line.id).not.toBe(stored!.id);
      const opened = await env.request('GET', `/functions/v1/logs/${line.id}`, { token: t.people.viewer.jwt });
      expect(((await opened.json()) as { log: { message: string } }).log.message).toBe(line.message);
    });

    it('filters by span and time; empty for an unknown trace; RLS; 400 naming the field', async () => {
      const bySpan = await get(`/${T1}/logs${qs({ spanId: sid(2), from: iso(B1 + 12) })}`);
      expect(bySpan.body.logs.map((l: { message: string }) => l.message)).toEqual(['retrying', 'card declined']);
      expect((await get(`/${tid(0x5eed)}/logs`)).body).toEqual({ logs: [], nextCursor: null });
      expect((await get(`/${T1}/logs`, { token: t.people.outsider.jwt })).body.logs).toEqual([]);
      expect((await get(`/${T1}/logs${qs({ projectId: t.projectA })}`, { token: t.people.outsider.jwt })).status).toBe(404);
      for (const [params, field] of [
        [{ limit: 1001 }, 'query.limit'],
        [{ spanId: 'nope' }, 'query.spanId'],
        [{ cursor: 'garbage' }, 'query.cursor'],
      ] as const) {
        const { status, body } = await get(`/${T1}/logs${qs(params)}`);
        expect(status).toBe(400);
        expect(body.error.details[0].field).toBe(field);
      }
    });
  });

  describe('GET /logs/traces (search)', () => {
    const RANGE = { from: NOW - 3 * HOUR, to: NOW };
    const search = (f: Partial<Filter> & { limit?: number; cursor?: string }, auth: { token?: string; apiKey?: string } = { apiKey: t.keyA.secret }) => {
      const { from = RANGE.from, to = RANGE.to, ...rest } = f;
      return get(qs({ ...rest, from: iso(from), to: iso(to) }), auth);
    };
    const ids = (body: { traces: Array<{ traceId: string; matched: { spanId: string } }> }) => body.traces.map((x) => ({ traceId: x.traceId, spanId: x.matched.spanId }));

    const cases: Array<[string, Partial<Filter>]> = [
      ['no filter: every trace in the range', {}],
      ['service', { service: 'db' }],
      ['operation', { operation: 'GET /items' }],
      ['service and operation', { service: 'api', operation: 'GET /orders' }],
      ['minimum duration (of the matching span)', { minDurationMs: 150 }],
      ['maximum duration', { maxDurationMs: 20 }],
      ['duration window on one service', { service: 'db', minDurationMs: 15, maxDurationMs: 110 }],
      ['errors', { status: 'error' }],
      ['unset status', { status: 'unset' }],
      ['attribute value', { attr: ['customer:c2'] }],
      ['numeric attribute compared as text', { attr: ['http.status_code:500'] }],
      ['attribute exists', { attr: ['db.system'] }],
      ['two attributes on the same span', { attr: ['customer:c3', 'http.status_code:200'] }],
      ['resource attribute', { attr: ['host.name:web-7'] }],
      ['errors of one operation', { status: 'error', operation: 'GET /orders' }],
      ['a narrower range', { from: NOW - 100 * MIN, to: NOW - 60 * MIN }],
      ['a wider range takes the old trace in', { from: NOW - 6 * HOUR }],
      ['nothing matches', { service: 'nope' }],
    ];
    it.each(cases)('%s', async (_name, f) => {
      const { status, body } = await search({ ...f, limit: 100 });
      expect(status).toBe(200);
      expect(ids(body)).toEqual(expectedSearch({ ...RANGE, ...f }));
      expect(body.nextCursor).toBeNull();
    });

    it('checks the cases are not vacuous', () => {
      for (const [name, f] of cases.slice(0, -1)) expect(expectedSearch({ ...RANGE, ...f }).length, name).toBeGreaterThan(0);
      expect(expectedSearch({ ...RANGE, minDurationMs: 150 }).length).toBeLessThan(expectedSearch(RANGE).length);
    });

    it('summarises each trace: root, start, duration, counts per service, the matched span', async () => {
      const { body } = await search({ operation: 'select', minDurationMs: 118, maxDurationMs: 120 });
      expect(body.traces).toHaveLength(1);
      const i = 18;
      const start = NOW - 2 * HOUR + i * 4 * MIN;
      expect(body.traces[0]).toEqual({
        traceId: tid(i),
        root: { spanId: sid(100 * i + 1), service: 'api', name: 'GET /items' },
        start: iso(start),
        durationMs: 50 + i * 10,
        spanCount: 3,
        errorCount: 0,
        services: [
          { service: 'db', spanCount: 2, errorCount: 0 },
          { service: 'api', spanCount: 1, errorCount: 0 },
        ],
        matched: { spanId: sid(100 * i + 3), service: 'db', name: 'select', start: iso(start + 20), durationMs: 100 + i, status: 'unset' },
      });
      const t1 = (await search({ operation: 'late job' })).body.traces[0];
      expect(t1).toMatchObject({ traceId: T1, spanCount: 5, errorCount: 2, root: { spanId: sid(1) }, durationMs: 100, matched: { spanId: sid(5) } });
    });

    it.each([
      ['all traces', {}, 4],
      ['traces with several matching spans', { service: 'db' }, 3],
      ['errors', { status: 'error' }, 2],
    ] as const)('pages through %s without repeats or gaps', async (_name, f, limit) => {
      const expected = expectedSearch({ ...RANGE, ...f });
      const got: Array<{ traceId: string; spanId: string }> = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const { status, body } = await search({ ...f, limit, cursor });
        expect(status).toBe(200);
        expect(body.traces.length).toBeLessThanOrEqual(limit);
        got.push(...ids(body));
        cursor = body.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 50);
      expect(got).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / limit));
    });

    it('RLS: another project or organization is a 404, and its traces never show', async () => {
      const member = await search({ projectId: t.projectB } as Partial<Filter>, { token: t.people.member.jwt });
      expect(member.status).toBe(404);
      const outsider = await search({ projectId: t.projectA } as Partial<Filter>, { token: t.people.outsider.jwt });
      expect(outsider.status).toBe(404);
      const viewerB = await search({ projectId: t.projectB } as Partial<Filter>, { token: t.people.viewer.jwt });
      expect(viewerB.body.traces.map((x: { traceId: string }) => x.traceId).sort()).toEqual([T1, TB].sort());
      const all = await search({});
      expect(all.body.traces.map((x: { traceId: string }) => x.traceId)).not.toContain(TB);
      expect(all.body.traces.find((x: { traceId: string }) => x.traceId === T1).spanCount).toBe(5);
    });

    it.each([
      ['an inverted range', { from: iso(NOW), to: iso(NOW - HOUR) }, 'query.to'],
      ['a range over 31 days', { from: iso(NOW - 32 * 24 * HOUR), to: iso(NOW) }, 'query.to'],
      ['no range', {}, 'query.from'],
      ['an unknown status', { from: iso(NOW - HOUR), to: iso(NOW), status: 'broken' }, 'query.status'],
      ['a limit over 100', { from: iso(NOW - HOUR), to: iso(NOW), limit: 101 }, 'query.limit'],
      ['a negative duration', { from: iso(NOW - HOUR), to: iso(NOW), minDurationMs: -1 }, 'query.minDurationMs'],
      ['max below min', { from: iso(NOW - HOUR), to: iso(NOW), minDurationMs: 10, maxDurationMs: 5 }, 'query.maxDurationMs'],
      ['an attribute without a key', { from: iso(NOW - HOUR), to: iso(NOW), 'attr.': 'x' }, 'query.attr.'],
      ['a foreign cursor', { from: iso(NOW - HOUR), to: iso(NOW), cursor: 'bm90IGEgY3Vyc29y' }, 'query.cursor'],
      ['an unknown parameter', { from: iso(NOW - HOUR), to: iso(NOW), colour: 'red' }, 'query.colour'],
    ] as const)('400 for %s, naming the field', async (_name, params, field) => {
      const { status, body } = await get(qs(params as Record<string, string>), { apiKey: t.keyA.secret });
      expect(status).toBe(400);
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.details[0].field).toBe(field);
    });

    it('a user must name the project; credentials are required; ingest-only keys are refused', async () => {
      const user = await get(qs({ from: iso(NOW - HOUR), to: iso(NOW) }), { token: t.people.viewer.jwt });
      expect(user.status).toBe(400);
      expect(user.body.error.details[0].field).toBe('query.projectId');
      expect((await env.request('GET', `${BASE}${qs({ from: iso(NOW - HOUR), to: iso(NOW) })}`)).status).toBe(401);
      expect((await get(qs({ from: iso(NOW - HOUR), to: iso(NOW) }), { apiKey: keyB })).status).toBe(403);
      expect((await get(`/${T1}`, { apiKey: keyB })).status).toBe(403);
    });
  });

  describe('GET /logs/traces/services', () => {
    const RANGE = { from: NOW - 3 * HOUR, to: NOW };
    const inRange = (s: S) => s.start >= RANGE.from && s.start < RANGE.to;
    const expectRow = (row: Record<string, unknown>, spans: S[]) => {
      const durations = spans.map((s) => s.duration);
      const errors = spans.filter((s) => s.status === 'error').length;
      expect(row.requests).toBe(spans.length);
      expect(row.errors).toBe(errors);
      expect(row.errorRate).toBeCloseTo(errors / spans.length, 12);
      expect(row.ratePerSecond).toBeCloseTo(spans.length / 10_800, 12);
      const d = row.durationMs as Record<string, number>;
      expect(d.p50).toBeCloseTo(percentileCont(durations, 0.5), 6);
      expect(d.p95).toBeCloseTo(percentileCont(durations, 0.95), 6);
      expect(d.p99).toBeCloseTo(percentileCont(durations, 0.99), 6);
    };

    it('per service: requests, rate, errors, error rate and duration percentiles, busiest first', async () => {
      const { status, body } = await get(`/services${qs({ from: iso(RANGE.from), to: iso(RANGE.to) })}`, { apiKey: t.keyA.secret });
      expect(status).toBe(200);
      const byService = new Map<string, S[]>();
      for (const s of spansA.filter(inRange)) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
      expect(body.services.map((r: { service: string }) => r.service)).toEqual(
        [...byService.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)).map(([k]) => k),
      );
      for (const row of body.services) expectRow(row, byService.get(row.service)!);
      expect(body).toMatchObject({ from: iso(RANGE.from), to: iso(RANGE.to), step: null, truncated: false });
    });

    it('per operation of one service, server spans only', async () => {
      const { body } = await get(`/services${qs({ from: iso(RANGE.from), to: iso(RANGE.to), service: 'api', kind: 'server' })}`, { apiKey: t.keyA.secret });
      expect(body.service).toBe('api');
      expect(body.operations.map((r: { operation: string }) => r.operation)).toEqual(['GET /orders', 'GET /items']);
      for (const row of body.operations) {
        expect(row.service).toBe('api');
        expectRow(row, spansA.filter((s) => inRange(s) && s.service === 'api' && s.name === row.operation));
      }
      const none = await get(`/services${qs({ from: iso(RANGE.from), to: iso(RANGE.to), service: 'api', kind: 'client' })}`, { apiKey: t.keyA.secret });
      expect(none.body.operations).toEqual([]);
    });

    it('as time series with step, empty buckets included', async () => {
      const { body } = await get(`/services${qs({ from: iso(RANGE.from), to: iso(RANGE.to), service: 'db', step: 1800, projectId: t.projectA })}`, { token: t.people.member.jwt });
      const [row] = body.operations;
      expect(row.operation).toBe('select');
      expect(row.series).toHaveLength(6);
      for (const [b, point] of row.series.entries()) {
        const from = RANGE.from + b * 1800_000;
        const inside = spansA.filter((s) => s.service === 'db' && s.start >= from && s.start < from + 1800_000);
        expect(point.time).toBe(iso(from));
        expect(point.requests).toBe(inside.length);
        expect(point.errors).toBe(0);
        if (inside.length === 0) expect(point.p50).toBeNull();
        else expect(point.p95).toBeCloseTo(percentileCont(inside.map((s) => s.duration), 0.95), 6);
      }
      expect(row.series[0].requests).toBe(0);
      expect(row.series.reduce((n: number, p: { requests: number }) => n + p.requests, 0)).toBe(row.requests);
    });

    it('RLS and bad parameters', async () => {
      const r = qs({ from: iso(RANGE.from), to: iso(RANGE.to), projectId: t.projectB });
      expect((await get(`/services${r}`, { token: t.people.member.jwt })).status).toBe(404);
      expect((await get(`/services${r}`, { token: t.people.outsider.jwt })).status).toBe(404);
      const b = await get(`/services${r}`, { token: t.people.viewer.jwt });
      expect(b.body.services.map((x: { service: string; requests: number }) => [x.service, x.requests])).toEqual([
        ['api', 1],
        ['b-service', 1],
      ]);
      for (const [params, field] of [
        [{ from: iso(RANGE.from), to: iso(RANGE.to), step: 1 }, 'query.step'],
        [{ from: iso(RANGE.from), to: iso(RANGE.to), kind: 'weird' }, 'query.kind'],
        [{ from: iso(RANGE.to), to: iso(RANGE.from) }, 'query.to'],
        [{ to: iso(RANGE.to) }, 'query.from'],
      ] as const) {
        const { status, body } = await get(`/services${qs(params)}`, { apiKey: t.keyA.secret });
        expect(status).toBe(400);
        expect(body.error.details[0].field).toBe(field);
      }
    });
  });
});
