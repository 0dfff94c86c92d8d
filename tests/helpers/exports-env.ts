/**
 * The world the export tests run in, built once per test file (tests/integration/exports-*.test.ts):
 * a real S3 server (s3rver on a random local port, data in a temp dir) with the buckets the tests
 * write to, a small HTTP proxy in front of it that can store a part but answer 500 (as when an
 * acknowledgement is lost), a database with a fresh tenant, the gateway with an encryption key, and,
 * when asked, two days of telemetry sent through the real ingest endpoint. Every file builds its own,
 * so no file depends on rows, objects or destinations another one made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { expect } from 'vitest';
import { signJwt } from '../../src/auth/jwt.ts';
import type { fakeClock } from '../../src/core/clock.ts';
import { createGatewayApp } from '../../src/app/app.ts';
import { logIdCodec } from '../../src/log-view/log-ids.ts';
import type { NodeDeps } from '../../src/node/deps.ts';
import { createTestEnv, TEST_JWT_SECRET, type TestEnv } from './env.ts';
import { createTenant, type Person, type Tenant } from './tenant.ts';

export const BASE = '/functions/v1/logs/exports';
export const KEY = Buffer.alloc(32, 42).toString('base64');
// s3rver checks the access key id but not V4 signatures, so any secret works; this one must never come back.
export const SECRET = 'sEcReT-never-returned-8c1f0e2d9a7b';
export const NOW = '2026-03-10T12:00:00Z';
export const DAY1 = '2026-03-08';
export const DAY2 = '2026-03-09';
export const LOGS_PER_DAY = 250;
export const SPANS_PER_DAY = 120;

export type Clock = ReturnType<typeof fakeClock>;
export type Json = Record<string, unknown>;

/** A pass-through proxy to s3rver that can store part uploads but answer 500 (a lost acknowledgement). */
export interface FlakyProxy {
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

/** The field a 400 names (the first detail's), as the tests compare it. */
export const field = (body: Json) => ((body.error as { details?: Array<{ field: string }> }).details ?? [])[0]?.field;

export interface ExportsEnv {
  env: TestEnv;
  clock: Clock;
  /** env.deps with an encryption key: what SECRET_ENCRYPTION_KEY gives a real deployment. */
  deps: NodeDeps;
  /** The gateway over `deps`. */
  app: ReturnType<typeof createGatewayApp>;
  t: Tenant;
  /** s3rver's own address (buckets exports-main, exports-flaky, exports-sched). */
  s3url: string;
  /** The flaky proxy in front of s3rver. */
  proxy: FlakyProxy;
  /** Every response body `call` received, to prove the secret never appears in one. */
  bodies: string[];
  token(p: Person): Promise<string>;
  /** A request to the exports routes (path relative to BASE) through `app`, its body recorded in `bodies`. */
  call(method: string, path: string, o?: { as?: Person; apiKey?: string; body?: unknown }): Promise<{ status: number; body: Json }>;
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  download(bucket: string, key: string): Promise<Buffer>;
  readParts(bucket: string, keys: string[]): Promise<Json[]>;
  /** Project A's logs in [from, to) as an export should write them, computed from the table. */
  sourceLogs(from: string, to: string): Promise<Json[]>;
  /** Project A's spans in [from, to) as an export should write them, computed from the table. */
  sourceSpans(from: string, to: string): Promise<Json[]>;
  /** A valid destination on s3rver for project A, with `over` applied. */
  destinationBody(over?: Json): Json;
  close(): Promise<void>;
}

/**
 * `telemetry`: also send two days of logs and spans (DAY1, DAY2) for project A, for the tests that
 * export rows; the destination tests need none.
 */
export async function createExportsEnv(opts: { telemetry: boolean }): Promise<ExportsEnv> {
  // Undone in reverse order by close(), or at once if the setup itself fails half way.
  const closers: Array<() => unknown> = [];
  const close = async () => {
    for (const fn of closers.splice(0).reverse()) await fn();
  };
  try {
    const s3dir = mkdtempSync(join(tmpdir(), 'observai-s3rver-'));
    closers.push(() => rmSync(s3dir, { recursive: true, force: true }));
    const s3rver = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: s3dir,
      configureBuckets: [{ name: 'exports-main', configs: [] }, { name: 'exports-flaky', configs: [] }, { name: 'exports-sched', configs: [] }],
    });
    const { port } = (await s3rver.run()) as AddressInfo;
    closers.push(() => s3rver.close());
    const s3url = `http://127.0.0.1:${port}`;
    const s3 = new S3Client({ endpoint: s3url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    closers.push(() => s3.destroy());
    const proxy = await startProxy(port);
    closers.push(() => proxy.close());

    // The outbound guard refuses loopback addresses; exactly these two local servers are allowed.
    const env = await createTestEnv({ fakeTime: NOW, env: { OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${port},${new URL(proxy.url).host}` } });
    closers.push(async () => {
      await env.deps.settle();
      await env.close();
    });
    const clock = env.clock as Clock;
    // The same deps with an encryption key: what SECRET_ENCRYPTION_KEY gives a real deployment.
    const deps: NodeDeps = { ...env.deps, config: { ...env.deps.config, exports: { encryptionKey: KEY } } };
    const app = createGatewayApp(deps);
    const t = await createTenant(env);
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

    if (opts.telemetry) await seedTelemetry(env, t);
    return { env, clock, deps, app, t, s3url, proxy, bodies, token, call, listKeys, download, readParts, sourceLogs, sourceSpans, destinationBody, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Two days of logs and spans for project A, LOGS_PER_DAY and SPANS_PER_DAY a day, plus one OTLP log
 * and one OTLP span on DAY2 and one log with microseconds at the very end of DAY2.
 */
async function seedTelemetry(env: TestEnv, t: Tenant): Promise<void> {
  async function ingest(body: unknown, path = '/functions/v1/ingest') {
    const res = await env.request('POST', path, { apiKey: t.keyA.secret, body });
    expect(res.status).toBe(200);
    const out = (await res.json()) as Json;
    if ('rejected' in out) expect(out.rejected).toBe(0);
  }

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
}
