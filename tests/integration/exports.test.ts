/**
 * Exports to S3-compatible storage, end to end against a real S3 server (s3rver on a random local
 * port, data in a temp dir) through @aws-sdk/client-s3: telemetry goes in through the real ingest
 * endpoint over two days, runs are requested over HTTP and executed by the export-telemetry job,
 * and the objects are listed, downloaded, gunzipped and compared field by field with the source rows.
 * Failures are real too: a small HTTP proxy in front of s3rver stores a part but answers 500, as when
 * an acknowledgement is lost, and the retried run must still hold every row exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../src/auth/jwt.ts';
import type { fakeClock } from '../../src/core/clock.ts';
import { sqlState } from '../../src/core/errors.ts';
import { exportTelemetry } from '../../src/exports/export-telemetry.ts';
import { RETRY_BASE_MS } from '../../src/exports/run-export.ts';
import { createGatewayApp } from '../../src/app/app.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { logIdCodec } from '../../src/log-view/log-ids.ts';
import type { NodeDeps } from '../../src/node/deps.ts';
import { createTestEnv, TEST_JWT_SECRET, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

const BASE = '/functions/v1/logs/exports';
const KEY = Buffer.alloc(32, 42).toString('base64');
// s3rver checks the access key id but not V4 signatures, so any secret works; this one must never come back.
const SECRET = 'sEcReT-never-returned-8c1f0e2d9a7b';
const NOW = '2026-03-10T12:00:00Z';
const DAY1 = '2026-03-08';
const DAY2 = '2026-03-09';
const LOGS_PER_DAY = 250;
const SPANS_PER_DAY = 120;

type Clock = ReturnType<typeof fakeClock>;
type Json = Record<string, unknown>;

/** A pass-through proxy to s3rver that can store part uploads but answer 500 (a lost acknowledgement). */
interface FlakyProxy {
  url: string;
  /** Part PUTs after this many succeed upstream but answer 500; Infinity = healthy. */
  failPartsAfter: number;
  partPuts: number;
  close(): Promise<void>;
}

async function startProxy(targetPort: number): Promise<FlakyProxy> {
  const state = { failPartsAfter: Number.POSITIVE_INFINITY, partPuts: 0 };
  const server: Server = createServer((req, res) => {
    const isPart = req.method === 'PUT' && /\/part-\d{5}-/.test(req.url ?? '');
    const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      if (isPart && up.statusCode === 200) {
        state.partPuts += 1;
        if (state.partPuts > state.failPartsAfter) {
          up.resume();
          res.writeHead(500, { 'content-type': 'application/xml' });
          res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected: acknowledgement lost</Message></Error>');
          return;
        }
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as FlakyProxy;
}

describe('exports to S3-compatible storage', () => {
  let env: TestEnv;
  let clock: Clock;
  let deps: NodeDeps;
  let app: ReturnType<typeof createGatewayApp>;
  let t: Tenant;
  let s3rver: S3rver;
  let s3dir: string;
  let s3url: string;
  let s3: S3Client;
  let proxy: FlakyProxy;
  /** Every response body this file received, to prove the secret never appears in one. */
  const bodies: string[] = [];

  const token = (p: Person) => signJwt(TEST_JWT_SECRET, { sub: p.id, role: 'authenticated', aud: 'authenticated' }, { now: clock.now(), expiresInSeconds: 7200 });
  async function call(method: string, path: string, o: { as?: Person; apiKey?: string; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = {};
    if (o.as) headers.authorization = `Bearer ${await token(o.as)}`;
    if (o.apiKey) headers['x-api-key'] = o.apiKey;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.request(`${BASE}${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  }
  const field = (body: Json) => ((body.error as { details?: Array<{ field: string }> }).details ?? [])[0]?.field;

  async function ingest(body: unknown, path = '/functions/v1/ingest') {
    const res = await env.request('POST', path, { apiKey: t.keyA.secret, body });
    expect(res.status).toBe(200);
    const out = (await res.json()) as Json;
    if ('rejected' in out) expect(out.rejected).toBe(0);
  }

  async function listKeys(bucket: string, prefix = ''): Promise<string[]> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key!).sort();
  }
  async function download(bucket: string, key: string): Promise<Buffer> {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }
  /** Every line of the given parts, in order, parsed. */
  async function readParts(bucket: string, keys: string[]): Promise<Json[]> {
    const rows: Json[] = [];
    for (const key of keys) {
      const text = gunzipSync(await download(bucket, key)).toString('utf8');
      expect(text.endsWith('\n')).toBe(true);
      for (const line of text.slice(0, -1).split('\n')) rows.push(JSON.parse(line) as Json);
    }
    return rows;
  }

  /** RFC 3339 with microseconds from epoch microseconds, computed independently of the exporter's SQL. */
  const rfc3339 = (micros: string) => {
    const us = BigInt(micros);
    return `${new Date(Number(us / 1000n)).toISOString().slice(0, -1)}${String(us % 1000n).padStart(3, '0')}Z`;
  };
  const micros = (column: string) => `(extract(epoch from ${column}) * 1000000)::bigint::text`;

  async function sourceLogs(from: string, to: string): Promise<Json[]> {
    const rows = await env.db.query<Json & { id: string; t: string; severity_number: number | null }>(
      `select id::text as id, project_id, ${micros('time')} as t, level, severity_number, service, message, attributes, resource, trace_id, span_id
       from public.logs l where project_id = $1 and time >= $2 and time < $3 order by l.time, l.event_key`,
      [t.projectA, from, to],
    );
    // Exports carry the id the API shows (docs/adr/0006-log-ids.md), in (time, event_key) order.
    const ids = await logIdCodec(env.db);
    return rows.map((r) => ({
      id: Number(ids.toPublic(r.id)),
      project_id: r.project_id,
      time: rfc3339(r.t),
      level: r.level,
      severity_number: r.severity_number === null ? null : Number(r.severity_number),
      service: r.service,
      message: r.message,
      attributes: r.attributes,
      resource: r.resource,
      trace_id: r.trace_id,
      span_id: r.span_id,
    }));
  }
  async function sourceSpans(from: string, to: string): Promise<Json[]> {
    const rows = await env.db.query<Json & { s: string; e: string }>(
      `select project_id, trace_id, span_id, parent_span_id, name, service, ${micros('start_time')} as s, ${micros('end_time')} as e, duration_ms, kind,
              status, status_message, attributes, resource, events, links
       from public.spans s where project_id = $1 and start_time >= $2 and start_time < $3 order by s.start_time, s.trace_id, s.span_id`,
      [t.projectA, from, to],
    );
    return rows.map(({ s, e, ...r }) => ({
      project_id: r.project_id,
      trace_id: r.trace_id,
      span_id: r.span_id,
      parent_span_id: r.parent_span_id,
      name: r.name,
      service: r.service,
      start_time: rfc3339(s),
      end_time: rfc3339(e),
      duration_ms: Number(r.duration_ms),
      kind: r.kind,
      status: r.status,
      status_message: r.status_message,
      attributes: r.attributes,
      resource: r.resource,
      events: r.events,
      links: r.links,
    }));
  }

  const destinationBody = (over: Json = {}) => ({
    projectId: t.projectA,
    name: `dest-${Math.random().toString(36).slice(2, 8)}`,
    endpoint: s3url,
    region: 'us-east-1',
    bucket: 'exports-main',
    prefix: 'observai/prod',
    forcePathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: SECRET,
    ...over,
  });

  beforeAll(async () => {
    s3dir = mkdtempSync(join(tmpdir(), 'observai-s3rver-'));
    s3rver = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: s3dir,
      configureBuckets: [{ name: 'exports-main', configs: [] }, { name: 'exports-flaky', configs: [] }, { name: 'exports-sched', configs: [] }],
    });
    const { port } = (await s3rver.run()) as AddressInfo;
    s3url = `http://127.0.0.1:${port}`;
    s3 = new S3Client({ endpoint: s3url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    proxy = await startProxy(port);

    // The outbound guard refuses loopback addresses; exactly these two local servers are allowed.
    env = await createTestEnv({ fakeTime: NOW, env: { OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${port},${new URL(proxy.url).host}` } });
    clock = env.clock as Clock;
    // The same deps with an encryption key: what EXPORT_ENCRYPTION_KEY gives a real deployment.
    deps = { ...env.deps, config: { ...env.deps.config, exports: { encryptionKey: KEY } } };
    app = createGatewayApp(deps);
    t = await createTenant(env);

    // Two days of logs and spans through the real ingest endpoint. Logs come in threes with the same
    // timestamp, so part boundaries fall between rows that tie on time (the id breaks the tie).
    for (const day of [DAY1, DAY2]) {
      const start = Date.parse(`${day}T00:00:00Z`);
      const logs = Array.from({ length: LOGS_PER_DAY }, (_, i) => ({
        timestamp: start + Math.floor(i / 3) * 60_000 + 7,
        level: (['debug', 'info', 'warn', 'error'] as const)[i % 4],
        service: i % 5 === 0 ? 'billing' : 'checkout',
        message: i % 50 === 0 ? `line ${i}\nwith a newline, "quotes" and ünïcödé ✓` : `${day} log ${i}`,
        attributes: { i, nested: { list: [1, 'two', null, true], ratio: i / 7 }, empty: {} },
        ...(i % 10 === 0 ? { trace_id: i.toString(16).padStart(32, '0'), span_id: i.toString(16).padStart(16, '0') } : {}),
      }));
      const spans = Array.from({ length: SPANS_PER_DAY }, (_, i) => ({
        trace_id: `${day.replaceAll('-', '')}${i.toString(16).padStart(24, '0')}`,
        span_id: (i + 1).toString(16).padStart(16, '0'),
        ...(i % 3 ? { parent_span_id: 'f'.repeat(16) } : {}),
        name: `GET /items/${i}`,
        service: i % 2 ? 'api' : 'worker',
        start: start + Math.floor(i / 2) * 90_000 + 0.25,
        duration: 12.5 + i / 3,
        status: i % 7 === 0 ? 'error' : 'ok',
        ...(i % 7 === 0 ? { status_message: 'boom' } : {}),
        kind: 'server',
        attributes: { 'http.route': '/items/:id', n: i },
        events: i % 4 === 0 ? [{ name: 'exception', timestamp: start + Math.floor(i / 2) * 90_000 + 1, attributes: { 'exception.type': 'E' } }] : [],
      }));
      await ingest({ logs, spans });
    }
    // OTLP adds what the native format does not carry: resource attributes, severity numbers, links.
    const ns = (iso: string) => `${BigInt(Date.parse(iso)) * 1_000_000n}`;
    const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'otel-svc' } }, { key: 'host.name', value: { stringValue: 'h1' } }] };
    await ingest(
      {
        resourceLogs: [
          {
            resource,
            scopeLogs: [{ logRecords: [{ timeUnixNano: ns(`${DAY2}T10:00:00.5Z`), severityNumber: 17, body: { stringValue: 'otlp error' } }] }],
          },
        ],
      },
      '/functions/v1/ingest/v1/logs',
    );
    await ingest(
      {
        resourceSpans: [
          {
            resource,
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: 'ab'.repeat(16),
                    spanId: 'cd'.repeat(8),
                    name: 'linked',
                    kind: 3,
                    startTimeUnixNano: ns(`${DAY2}T11:00:00Z`),
                    endTimeUnixNano: ns(`${DAY2}T11:00:01Z`),
                    links: [{ traceId: 'ef'.repeat(16), spanId: '01'.repeat(8), attributes: [{ key: 'why', value: { stringValue: 'batch' } }] }],
                  },
                ],
              },
            ],
          },
        ],
      },
      '/functions/v1/ingest/v1/traces',
    );
    // Microseconds survive: a row written with them (ingest takes milliseconds).
    await env.db.query(
      `insert into public.logs (project_id, time, level, service, message, event_key) values ($1, '${DAY2}T23:59:59.999999Z', 'fatal', 'micro', 'last microsecond', 424242)`,
      [t.projectA],
    );
  }, 180_000);

  afterAll(async () => {
    await env?.deps.settle();
    await env?.close();
    s3?.destroy();
    await proxy?.close();
    await s3rver?.close();
    if (s3dir) rmSync(s3dir, { recursive: true, force: true });
  });

  describe('destinations', () => {
    it('an owner adds one after a connection check; the secret is sealed and never readable', async () => {
      clock.set(NOW);
      const res = await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'warehouse' }) });
      expect(res.status).toBe(201);
      const d = res.body.destination as Json;
      expect(d).toMatchObject({ projectId: t.projectA, name: 'warehouse', endpoint: s3url, bucket: 'exports-main', prefix: 'observai/prod', forcePathStyle: true, accessKeyId: 'S3RVER' });
      expect(Object.keys(d).sort()).toEqual(
        ['accessKeyId', 'bucket', 'createdAt', 'createdBy', 'endpoint', 'forcePathStyle', 'id', 'name', 'organizationId', 'prefix', 'projectId', 'region', 'verifiedAt'].sort(),
      );
      // The check object is what the connection check wrote.
      expect(await listKeys('exports-main', `observai/prod/${t.projectA}/`)).toContain(`observai/prod/${t.projectA}/_observai-check.json`);
      // Stored sealed; the owner cannot read the column even through SQL (supabase-js), only the service role can.
      const [stored] = await env.db.query<{ secret_ciphertext: string }>('select secret_ciphertext from public.export_destinations where id = $1', [d.id]);
      expect(stored!.secret_ciphertext).toMatch(/^v1\./);
      expect(stored!.secret_ciphertext).not.toContain(SECRET);
      const denied = await env.db
        .transaction(async (tx) => {
          await tx.query('set local role authenticated');
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub: t.people.owner.id })]);
          return tx.query('select secret_ciphertext from public.export_destinations');
        })
        .catch((err) => sqlState(err));
      expect(denied).toBe('42501');
      // Audited, without the secret.
      const audit = await env.db.query<{ action: string; actor_id: string; details: Json }>(
        `select action, actor_id, details from public.audit_log where target_id = $1`,
        [d.id],
      );
      expect(audit).toEqual([{ action: 'export_destination.created', actor_id: t.people.owner.id, details: expect.objectContaining({ bucket: 'exports-main' }) }]);
      expect(JSON.stringify(audit)).not.toContain(SECRET);
    });

    it.each([
      // actor, expected status: admins manage; members and viewers may not; others do not see the project
      ['admin', 201],
      ['member', 403],
      ['viewer', 403],
      ['unassigned', 404],
      ['outsider', 404],
    ] as const)('POST by %s answers %i', async (actor, status) => {
      clock.set(NOW);
      const res = await call('POST', '/destinations', { as: t.people[actor], body: destinationBody() });
      expect(res.status).toBe(status);
    });

    it('an API key cannot add one, even with the read scope', async () => {
      expect((await call('POST', '/destinations', { apiKey: t.keyA.secret, body: destinationBody() })).status).toBe(403);
    });

    it.each([
      // what is wrong, the field the 400 names
      [{ bucket: 'no-such-bucket' }, 'body.bucket'],
      [{ accessKeyId: 'WRONG' }, 'body.accessKeyId'],
      [{ endpoint: 'http://127.0.0.1:9' }, 'body.endpoint'],
      [{ bucket: 'x' }, 'body.bucket'],
      [{ prefix: 'a/../b' }, 'body.prefix'],
      [{ endpoint: 'ftp://example.test' }, 'body.endpoint'],
      [{ secretAccessKey: '' }, 'body.secretAccessKey'],
    ])('a failing check or bad field is a 400 naming it: %j', async (over, name) => {
      clock.set(NOW);
      const res = await call('POST', '/destinations', { as: t.people.owner, body: destinationBody(over) });
      expect(res.status).toBe(400);
      expect(field(res.body)).toBe(name);
    });

    it('members and viewers list destinations without secrets; other organizations see none', async () => {
      clock.set(NOW);
      for (const actor of ['viewer', 'member'] as const) {
        const res = await call('GET', `/destinations?projectId=${t.projectA}`, { as: t.people[actor] });
        expect(res.status).toBe(200);
        expect((res.body.destinations as Json[]).map((d) => d.name)).toContain('warehouse');
      }
      const [d] = (await call('GET', `/destinations?projectId=${t.projectA}`, { as: t.people.viewer })).body.destinations as Json[];
      expect((await call('GET', `/destinations/${d!.id}`, { as: t.people.viewer })).status).toBe(200);
      expect((await call('GET', `/destinations/${d!.id}`, { as: t.people.outsider })).status).toBe(404);
      expect((await call('GET', `/destinations/${d!.id}`, { as: t.people.unassigned })).status).toBe(404);
      expect((await call('GET', `/destinations?projectId=${t.projectA}`, { as: t.people.outsider })).status).toBe(404);
      expect((await call('GET', '/destinations', { as: t.people.outsider })).body.destinations).toEqual([]);
      expect((await call('GET', '/destinations', { apiKey: t.keyA.secret })).status).toBe(200);
    });

    it('only owners and admins remove one; removing it takes its schedules and runs along (audited)', async () => {
      clock.set(NOW);
      const d = (await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'to-delete' }) })).body.destination as Json;
      const s = await call('PUT', '/schedules', { as: t.people.owner, body: { destinationId: d.id, signal: 'logs' } });
      expect(s.status).toBe(200);
      expect((await call('DELETE', `/destinations/${d.id}`, { as: t.people.member })).status).toBe(403);
      expect((await call('DELETE', `/destinations/${d.id}`, { as: t.people.outsider })).status).toBe(404);
      expect((await call('DELETE', `/destinations/${d.id}`, { as: t.people.admin })).status).toBe(204);
      expect((await call('GET', `/destinations/${d.id}`, { as: t.people.owner })).status).toBe(404);
      expect(await env.db.query('select 1 from public.export_schedules where destination_id = $1', [d.id])).toEqual([]);
      const actions = await env.db.query<{ action: string }>('select action from public.audit_log where target_id = $1 order by id', [d.id]);
      expect(actions.map((a) => a.action)).toEqual(['export_destination.created', 'export_destination.deleted']);
    });
  });

  describe('runs', () => {
    let main: Json;
    let flaky: Json;
    beforeAll(async () => {
      clock.set(NOW);
      main = (await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'main', bucket: 'exports-main', prefix: 'runs' }) })).body
        .destination as Json;
      flaky = (await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'flaky', endpoint: proxy.url, bucket: 'exports-flaky', prefix: '' }) }))
        .body.destination as Json;
      expect(main.id).toBeDefined();
      expect(flaky.id).toBeDefined();
    });

    async function settle() {
      await env.deps.settle();
    }

    it('exports two days of logs: parts per day, rows identical to the source in every field, a BigQuery schema that matches', async () => {
      clock.set(NOW);
      const full = await call('POST', '', {
        as: t.people.owner,
        body: { destinationId: main.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: `2026-03-10T00:00:00Z`, rowsPerFile: 100 },
      });
      expect(full.status).toBe(202);
      const queued = full.body.export as Json;
      expect(queued).toMatchObject({ status: 'queued', signal: 'logs', rows: 0, files: [], projectId: t.projectA, requestedBy: t.people.owner.id });
      await settle();
      const done = (await call('GET', `/${queued.id}`, { as: t.people.viewer })).body.export as Json;
      const expected = await sourceLogs(`${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z');
      expect(expected).toHaveLength(2 * LOGS_PER_DAY + 2);
      expect(done).toMatchObject({ status: 'succeeded', rows: expected.length, attempts: 1, error: null });
      // 250 rows a day in parts of 100: three parts per day (the OTLP row and the last-microsecond row make day 2's last part 52).
      const files = done.files as string[];
      const prefix = `runs/${t.projectA}/logs`;
      expect(files).toEqual([
        `${prefix}/dt=${DAY1}/part-00000-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY1}/part-00001-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY1}/part-00002-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY2}/part-00000-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY2}/part-00001-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY2}/part-00002-${queued.id}.ndjson.gz`,
      ]);
      const objects = await listKeys('exports-main', `${prefix}/`);
      expect(objects.filter((k) => k.includes(String(queued.id)))).toEqual([...files].sort());
      const exported = await readParts('exports-main', files);
      expect(exported).toEqual(expected);
      expect(exported.find((r) => r.service === 'micro')!.time).toBe(`${DAY2}T23:59:59.999999Z`);
      expect(exported.find((r) => r.message === 'otlp error')).toMatchObject({ severity_number: 17, level: 'error', resource: { 'host.name': 'h1', 'service.name': 'otel-svc' } });
      // Each part holds rows of its own day only.
      for (const key of files) {
        const rows = await readParts('exports-main', [key]);
        expect(rows.every((r) => String(r.time).startsWith(key.match(/dt=([\d-]+)/)![1]!))).toBe(true);
      }
      const totalBytes = (await Promise.all(files.map((k) => download('exports-main', k)))).reduce((n, b) => n + b.length, 0);
      expect(done.bytes).toBe(totalBytes);
      // The schema file names exactly the NDJSON keys, in order, with BigQuery types.
      const schema = JSON.parse((await download('exports-main', `${prefix}/_schema.json`)).toString('utf8')) as Array<{ name: string; type: string; mode: string }>;
      for (const row of exported) expect(Object.keys(row)).toEqual(schema.map((f) => f.name));
      expect(Object.fromEntries(schema.map((f) => [f.name, f.type]))).toEqual({
        id: 'INT64',
        project_id: 'STRING',
        time: 'TIMESTAMP',
        level: 'STRING',
        severity_number: 'INT64',
        service: 'STRING',
        message: 'STRING',
        attributes: 'JSON',
        resource: 'JSON',
        trace_id: 'STRING',
        span_id: 'STRING',
      });
    });

    it('a filter narrows the rows (level and service)', async () => {
      clock.set(NOW);
      const res = await call('POST', '', {
        as: t.people.owner,
        body: { destinationId: main.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: `${DAY1}T12:00:00Z`, filter: { level: ['error', 'warn'], service: ['billing'] } },
      });
      expect(res.status).toBe(202);
      await settle();
      const done = (await call('GET', `/${(res.body.export as Json).id}`, { as: t.people.owner })).body.export as Json;
      const expected = (await sourceLogs(`${DAY1}T00:00:00Z`, `${DAY1}T12:00:00Z`)).filter((r) => ['error', 'warn'].includes(String(r.level)) && r.service === 'billing');
      expect(expected.length).toBeGreaterThan(0);
      expect(done).toMatchObject({ status: 'succeeded', rows: expected.length });
      expect(await readParts('exports-main', done.files as string[])).toEqual(expected);
    });

    it('a part stored but not acknowledged fails the run; the retry resumes from the cursor and writes every row exactly once', async () => {
      clock.set(NOW);
      proxy.partPuts = 0;
      proxy.failPartsAfter = 1;
      const res = await call('POST', '', {
        as: t.people.member,
        body: { destinationId: flaky.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: '2026-03-10T00:00:00Z', rowsPerFile: 100 },
      });
      expect(res.status).toBe(202);
      const id = (res.body.export as Json).id as string;
      await settle();
      const failed = (await call('GET', `/${id}`, { as: t.people.member })).body.export as Json;
      expect(failed).toMatchObject({ status: 'failed', rows: 100, attempts: 1, progress: { day: DAY1, nextPart: 1 } });
      expect(failed.files).toEqual([`${t.projectA}/logs/dt=${DAY1}/part-00000-${id}.ndjson.gz`]);
      expect(String(failed.error)).toMatch(/InternalError/);
      expect(Date.parse(String(failed.nextAttemptAt))).toBe(Date.parse(NOW) + RETRY_BASE_MS);
      // The second part reached the bucket even though the run never learned it did.
      const partsInBucket = (await listKeys('exports-flaky', `${t.projectA}/logs/`)).filter((k) => k.includes(id));
      expect(partsInBucket).toEqual([`${t.projectA}/logs/dt=${DAY1}/part-00000-${id}.ndjson.gz`, `${t.projectA}/logs/dt=${DAY1}/part-00001-${id}.ndjson.gz`]);

      // Only failed runs can be retried, and only by those who may change the project.
      expect((await call('POST', `/${id}/retry`, { as: t.people.viewer })).status).toBe(403);
      expect((await call('POST', `/${id}/retry`, { as: t.people.outsider })).status).toBe(404);
      proxy.failPartsAfter = Number.POSITIVE_INFINITY;
      const retried = await call('POST', `/${id}/retry`, { as: t.people.member });
      expect(retried.status).toBe(202);
      expect(retried.body.export).toMatchObject({ status: 'queued', error: null, nextAttemptAt: null });
      await settle();
      const done = (await call('GET', `/${id}`, { as: t.people.member })).body.export as Json;
      expect(done).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
      const files = done.files as string[];
      expect(files).toHaveLength(6);
      expect(new Set(files).size).toBe(6);
      // Part 1 was rewritten under the same key: the bucket holds exactly the run's files, no strays.
      expect((await listKeys('exports-flaky', `${t.projectA}/logs/`)).filter((k) => k.includes(id))).toEqual([...files].sort());
      const expected = await sourceLogs(`${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z');
      const exported = await readParts('exports-flaky', files);
      expect(exported).toEqual(expected);
      expect(done.rows).toBe(expected.length);
      expect(new Set(exported.map((r) => r.id)).size).toBe(expected.length);
      expect((await call('POST', `/${id}/retry`, { as: t.people.member })).status).toBe(409);
    });

    it('spans: a failed run is retried by the job after its backoff and matches the source exactly', async () => {
      clock.set(NOW);
      proxy.partPuts = 0;
      proxy.failPartsAfter = 0;
      const res = await call('POST', '', {
        as: t.people.admin,
        body: { destinationId: flaky.id, signal: 'spans', from: `${DAY1}T00:00:00Z`, to: '2026-03-10T00:00:00Z', rowsPerFile: 100 },
      });
      const id = (res.body.export as Json).id as string;
      await settle();
      expect((await call('GET', `/${id}`, { as: t.people.admin })).body.export).toMatchObject({ status: 'failed', attempts: 1, rows: 0, files: [] });
      proxy.failPartsAfter = Number.POSITIVE_INFINITY;
      // Not due yet: the job leaves it alone.
      expect((await runJob(deps, exportTelemetry)).summary).toMatchObject({ succeeded: 0, failed: 0 });
      clock.set(new Date(Date.parse(NOW) + RETRY_BASE_MS));
      const run = await runJob(deps, exportTelemetry);
      expect(run).toMatchObject({ outcome: 'ok', summary: { succeeded: 1, failed: 0 } });
      clock.set(NOW);
      const done = (await call('GET', `/${id}`, { as: t.people.admin })).body.export as Json;
      expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
      const expected = await sourceSpans(`${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z');
      expect(expected).toHaveLength(2 * SPANS_PER_DAY + 1);
      const files = done.files as string[];
      expect(files.map((k) => k.replace(id, 'ID'))).toEqual([
        `${t.projectA}/spans/dt=${DAY1}/part-00000-ID.ndjson.gz`,
        `${t.projectA}/spans/dt=${DAY1}/part-00001-ID.ndjson.gz`,
        `${t.projectA}/spans/dt=${DAY2}/part-00000-ID.ndjson.gz`,
        `${t.projectA}/spans/dt=${DAY2}/part-00001-ID.ndjson.gz`,
      ]);
      const exported = await readParts('exports-flaky', files);
      expect(exported).toEqual(expected);
      const linked = exported.find((r) => r.name === 'linked')!;
      expect(linked).toMatchObject({ kind: 'client', resource: { 'host.name': 'h1' }, links: [expect.objectContaining({ traceId: 'ef'.repeat(16) })] });
      const schema = JSON.parse((await download('exports-flaky', `${t.projectA}/spans/_schema.json`)).toString('utf8')) as Array<{ name: string; type: string }>;
      for (const row of exported) expect(Object.keys(row)).toEqual(schema.map((f) => f.name));
      expect(schema.filter((f) => f.type === 'JSON').map((f) => f.name)).toEqual(['attributes', 'resource', 'events', 'links']);
      expect(schema.filter((f) => f.type === 'TIMESTAMP').map((f) => f.name)).toEqual(['start_time', 'end_time']);
    });

    it('with no time budget each job invocation writes one part and the next resumes from the cursor', async () => {
      clock.set(NOW);
      // Queued directly (as a schedule would), so no request kicks the job.
      const [row] = await env.db.query<{ id: string }>(
        `insert into public.export_runs (project_id, organization_id, destination_id, signal, from_time, to_time, rows_per_file)
         values ($1, $2, $3, 'logs', $4, $5, 100) returning id`,
        [t.projectA, t.orgId, main.id, `${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z'],
      );
      const seen: number[] = [];
      for (let i = 0; i < 10; i++) {
        const run = await runJob(deps, exportTelemetry, { budgetMs: 0 });
        expect(run.outcome).toBe('ok');
        const view = (await call('GET', `/${row!.id}`, { as: t.people.owner })).body.export as Json;
        seen.push((view.files as string[]).length);
        if (view.status === 'succeeded') break;
        expect(view.status).toBe('running');
      }
      // One part per invocation, then one more to find nothing left.
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 6]);
      const done = (await call('GET', `/${row!.id}`, { as: t.people.owner })).body.export as Json;
      expect(await readParts('exports-main', done.files as string[])).toEqual(await sourceLogs(`${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z'));
      expect(done.attempts).toBe(1);
    });

    it.each([
      // body change, field named by the 400
      [{ from: `${DAY2}T00:00:00Z`, to: `${DAY1}T00:00:00Z` }, 'body.to'],
      [{ signal: 'metrics' }, 'body.signal'],
      [{ from: '2026-01-01T00:00:00Z', to: '2026-02-15T00:00:00Z' }, 'body.to'],
      [{ to: '2026-03-11T00:00:00Z' }, 'body.to'],
      [{ signal: 'spans', filter: { level: ['error'] } }, 'body.filter.level'],
      [{ filter: { level: ['loud'] } }, 'body.filter.level.0'],
      [{ destinationId: 'not-a-uuid' }, 'body.destinationId'],
      [{ from: 'yesterday' }, 'body.from'],
    ])('bad input is a 400 naming the field: %j', async (over, name) => {
      clock.set(NOW);
      const body = { destinationId: main.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: `${DAY2}T00:00:00Z`, ...over };
      const res = await call('POST', '', { as: t.people.owner, body });
      expect(res.status).toBe(400);
      expect(field(res.body)).toBe(name);
    });

    it('who may request and read runs', async () => {
      clock.set(NOW);
      const body = { destinationId: main.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: `${DAY1}T01:00:00Z` };
      expect((await call('POST', '', { as: t.people.viewer, body })).status).toBe(403);
      expect((await call('POST', '', { as: t.people.unassigned, body })).status).toBe(404);
      expect((await call('POST', '', { as: t.people.outsider, body })).status).toBe(404);
      expect((await call('POST', '', { as: t.people.owner, body: { ...body, projectId: t.projectB } })).status).toBe(404);
      expect((await call('POST', '', { apiKey: t.keyA.secret, body })).status).toBe(403);
      const mine = await call('POST', '', { as: t.people.member, body });
      expect(mine.status).toBe(202);
      await settle();
      const id = (mine.body.export as Json).id;
      expect((await call('GET', `/${id}`, { as: t.people.outsider })).status).toBe(404);
      expect((await call('GET', `/${id}`, { as: t.people.unassigned })).status).toBe(404);
      const listed = await call('GET', `?projectId=${t.projectA}&signal=logs`, { apiKey: t.keyA.secret });
      expect(listed.status).toBe(200);
      expect((listed.body.exports as Json[]).map((r) => r.id)).toContain(id);
      expect((await call('GET', '', { as: t.people.outsider })).body.exports).toEqual([]);
      const audit = await env.db.query<{ actor_id: string }>(`select actor_id from public.audit_log where action = 'export.requested' and target_id = $1`, [id]);
      expect(audit).toEqual([{ actor_id: t.people.member.id }]);
    });

    it('users cannot move a run along themselves: only failed -> queued', async () => {
      const [r] = await env.db.query<{ id: string }>(`select id from public.export_runs where status = 'succeeded' and project_id = $1 limit 1`, [t.projectA]);
      const outcome = await env.db
        .transaction(async (tx) => {
          await tx.query('set local role authenticated');
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub: t.people.owner.id })]);
          return tx.query(`update public.export_runs set status = 'queued' where id = $1 returning id`, [r!.id]);
        })
        .catch((err) => sqlState(err));
      expect(outcome).toBe('OA409');
    });

    it('the cron function runs the job for the service role only', async () => {
      clock.set(NOW);
      const res = await app.request('/functions/v1/cron-export-telemetry', { method: 'POST', headers: { authorization: `Bearer ${await env.serviceJwt()}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { run: Json }).run).toMatchObject({ job: 'export-telemetry', outcome: 'ok' });
      const asOwner = await app.request('/functions/v1/cron-export-telemetry', { method: 'POST', headers: { authorization: `Bearer ${await token(t.people.owner)}` } });
      expect(asOwner.status).toBe(403);
    });
  });

  describe('schedules', () => {
    it('creates yesterday\'s run once per completed day, however often the job runs', async () => {
      clock.set(NOW);
      const dest = (await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'sched', bucket: 'exports-sched', prefix: 'daily' }) })).body
        .destination as Json;
      expect((await call('PUT', '/schedules', { as: t.people.member, body: { destinationId: dest.id, signal: 'logs' } })).status).toBe(403);
      expect((await call('PUT', '/schedules', { as: t.people.outsider, body: { destinationId: dest.id, signal: 'logs' } })).status).toBe(404);
      expect(field((await call('PUT', '/schedules', { as: t.people.owner, body: { destinationId: dest.id, signal: 'traces' } })).body)).toBe('body.signal');
      const put = await call('PUT', '/schedules', { as: t.people.owner, body: { destinationId: dest.id, signal: 'logs', rowsPerFile: 1000 } });
      expect(put.status).toBe(200);
      const schedule = put.body.schedule as Json;
      expect(schedule).toMatchObject({ signal: 'logs', enabled: true, startDay: DAY2, lastScheduledDay: null, rowsPerFile: 1000 });
      // The same PUT again changes it in place.
      const again = await call('PUT', '/schedules', { as: t.people.owner, body: { destinationId: dest.id, signal: 'logs', rowsPerFile: 1000 } });
      expect((again.body.schedule as Json).id).toBe(schedule.id);
      expect((await call('GET', `/schedules?projectId=${t.projectA}`, { as: t.people.viewer })).body.schedules).toEqual([expect.objectContaining({ id: schedule.id })]);

      const runsOf = () =>
        env.db.query<{ from_time: Date; to_time: Date; status: string; row_count: string }>(
          'select from_time, to_time, status, row_count::text as row_count from public.export_runs where schedule_id = $1 order by from_time',
          [schedule.id],
        );
      expect((await runJob(deps, exportTelemetry)).summary).toMatchObject({ scheduledRuns: 1 });
      expect((await runJob(deps, exportTelemetry)).summary).toMatchObject({ scheduledRuns: 0 });
      let runs = await runsOf();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ from_time: new Date(`${DAY2}T00:00:00Z`), to_time: new Date('2026-03-10T00:00:00Z'), status: 'succeeded' });
      expect(Number(runs[0]!.row_count)).toBe((await sourceLogs(`${DAY2}T00:00:00Z`, '2026-03-10T00:00:00Z')).length);
      expect(await listKeys('exports-sched', `daily/${t.projectA}/logs/dt=${DAY2}/`)).toHaveLength(1);

      // The next day is complete 30 minutes after midnight, not before.
      clock.set('2026-03-11T00:10:00Z');
      await runJob(deps, exportTelemetry);
      expect(await runsOf()).toHaveLength(1);
      clock.set('2026-03-11T00:45:00Z');
      await runJob(deps, exportTelemetry);
      await runJob(deps, exportTelemetry);
      runs = await runsOf();
      expect(runs.map((r) => r.from_time.toISOString())).toEqual([`${DAY2}T00:00:00.000Z`, '2026-03-10T00:00:00.000Z']);
      const [row] = await env.db.query<{ last_scheduled_day: string }>('select last_scheduled_day::text from public.export_schedules where id = $1', [schedule.id]);
      expect(row!.last_scheduled_day).toBe('2026-03-10');

      // Disabled: no more runs; deleting it is audited like every change.
      const off = await call('PUT', '/schedules', { as: t.people.admin, body: { destinationId: dest.id, signal: 'logs', enabled: false } });
      expect(off.body.schedule).toMatchObject({ enabled: false });
      clock.set('2026-03-12T06:00:00Z');
      await runJob(deps, exportTelemetry);
      expect(await runsOf()).toHaveLength(2);
      expect((await call('DELETE', `/schedules/${schedule.id}`, { as: t.people.viewer })).status).toBe(403);
      expect((await call('DELETE', `/schedules/${schedule.id}`, { as: t.people.owner })).status).toBe(204);
      const actions = await env.db.query<{ action: string }>('select action from public.audit_log where target_id = $1 order by id', [schedule.id]);
      // The PUT that changed nothing is not a change.
      expect(actions.map((a) => a.action)).toEqual(['export_schedule.created', 'export_schedule.changed', 'export_schedule.deleted']);
      clock.set(NOW);
    });
  });

  describe('without EXPORT_ENCRYPTION_KEY', () => {
    it('the routes that need it answer 501 naming the variable; the job does nothing', async () => {
      clock.set(NOW);
      const res = await env.request('POST', `${BASE}/destinations`, { token: await token(t.people.owner), body: destinationBody() });
      expect(res.status).toBe(501);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/EXPORT_ENCRYPTION_KEY/);
      expect((await env.request('GET', `${BASE}/destinations`, { token: await token(t.people.owner) })).status).toBe(200);
      expect((await runJob(env.deps, exportTelemetry)).summary).toEqual({ skipped: 'EXPORT_ENCRYPTION_KEY is not set' });
    });
  });

  it('never returned the secret in any response', () => {
    expect(bodies.length).toBeGreaterThan(50);
    for (const body of bodies) expect(body).not.toContain(SECRET);
  });
});
