/**
 * Exports on the edge runtime for real: the logs function runs under Deno (npm package `deno`, with
 * the same permissions as the other edge e2e tests) against this file's Postgres database and a real
 * S3 server (s3rver). The destination is created and its secret sealed in Deno, the export runs in
 * Deno (the request kicks the job in the background), and Node reads the result: the objects it
 * downloads and gunzips hold exactly the source rows, and it opens the secret Deno sealed.
 * The outbound guard holds under Deno too: s3rver is reachable only because OUTBOUND_ALLOW_PRIVATE
 * names its address and port, and a loopback server that is not named sees no connection at all.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/core/secret-box.ts';
import { logIdCodec } from '../../src/log-view/log-ids.ts';
import { freePort } from '../helpers/ports.ts';
import { createTestEnv, servicesMode, TEST_JWT_SECRET, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const DENO = 'node_modules/.bin/deno';
const KEY = Buffer.alloc(32, 5).toString('base64');
const SECRET = 'deno-sealed-secret-0f9e8d7c';

describe.skipIf(!servicesMode())('exports under Deno', () => {
  let env: TestEnv;
  let t: Tenant;
  let s3rver: S3rver;
  let s3dir: string;
  let s3url: string;
  let logs: { url: string; proc: ChildProcess; output: () => string };
  /** A loopback HTTP server that is not allowed: it answers 200 to anything and records each connection. */
  let victim: { server: Server; port: number; connections: number };

  beforeAll(async () => {
    s3dir = mkdtempSync(join(tmpdir(), 'observai-s3rver-deno-'));
    s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: 'edge-exports', configs: [] }] });
    s3url = `http://127.0.0.1:${((await s3rver.run()) as AddressInfo).port}`;
    const victimServer = createHttpServer((_req, res) => res.end());
    victim = { server: victimServer, port: 0, connections: 0 };
    victimServer.on('connection', () => (victim.connections += 1));
    await new Promise<void>((resolve) => victimServer.listen(0, '127.0.0.1', resolve));
    victim.port = (victimServer.address() as AddressInfo).port;
    env = await createTestEnv();
    t = await createTenant(env);
    const port = await freePort();
    let output = '';
    const proc = spawn(DENO, ['run', '--allow-net', '--allow-env', '--allow-read', 'supabase/functions/logs/index.ts'], {
      env: {
        ...process.env,
        OBSERVAI_MODE: 'local',
        DATABASE_URL: env.databaseUrl,
        REDIS_URL: '',
        JWT_SECRET: TEST_JWT_SECRET,
        EXPORT_ENCRYPTION_KEY: KEY,
        OUTBOUND_ALLOW_PRIVATE: new URL(s3url).host,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    logs = { url: `http://127.0.0.1:${port}/functions/v1/logs`, proc, output: () => output };
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`deno logs exited: ${output}`);
      const ok = await fetch(`${logs.url}/health`).then((r) => r.ok).catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`deno logs did not become healthy: ${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 120_000);

  afterAll(async () => {
    logs?.proc.kill();
    await env?.close();
    await s3rver?.close();
    await new Promise<void>((resolve) => (victim ? victim.server.close(() => resolve()) : resolve()));
    if (s3dir) rmSync(s3dir, { recursive: true, force: true });
  });

  it('creates a destination, exports logs and leaves gzipped NDJSON that Node reads back exactly', async () => {
    const auth = { authorization: `Bearer ${t.people.owner.jwt}`, 'content-type': 'application/json' };
    const created = await fetch(`${logs.url}/exports/destinations`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ projectId: t.projectA, name: 'edge', endpoint: s3url, bucket: 'edge-exports', forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: SECRET }),
    });
    expect(created.status).toBe(201);
    const { destination } = (await created.json()) as { destination: { id: string } };
    // Sealed by WebCrypto in Deno, opened by WebCrypto in Node.
    const [row] = await env.db.query<{ secret_ciphertext: string }>('select secret_ciphertext from public.export_destinations where id = $1', [destination.id]);
    expect(await (await createSecretBox(KEY)).open(row!.secret_ciphertext, destination.id)).toBe(SECRET);

    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await env.db.query(`select private.ensure_telemetry_partitions($1::date, $1::date)`, [day]);
    await env.db.query(
      `insert into public.logs (project_id, time, level, service, message, attributes, event_key)
       select $1, $2::date + make_interval(secs => i * 60.000123), 'info', 'edge', 'line ' || i, jsonb_build_object('i', i), i
       from generate_series(1, 300) i`,
      [t.projectA, day],
    );
    const from = `${day}T00:00:00Z`;
    const to = new Date(Date.parse(from) + 86_400_000).toISOString();
    const requested = await fetch(`${logs.url}/exports`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ destinationId: destination.id, signal: 'logs', from, to, rowsPerFile: 100 }),
    });
    expect(requested.status).toBe(202);
    const { export: run } = (await requested.json()) as { export: { id: string } };

    // The request only queued it; the job it kicked runs in the Deno process.
    let view: { status: string; files: string[]; rows: number; error: string | null } | undefined;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`${logs.url}/exports/${run.id}`, { headers: auth });
      view = ((await res.json()) as { export: typeof view }).export;
      if (view!.status === 'succeeded' || view!.status === 'failed' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(view, logs.output()).toMatchObject({ status: 'succeeded', rows: 300, error: null });
    expect(view!.files).toHaveLength(3);

    const s3 = new S3Client({ endpoint: s3url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const lines: Array<{ id: string; time: string; message: string; attributes: unknown }> = [];
    for (const key of view!.files) {
      const body = await s3.send(new GetObjectCommand({ Bucket: 'edge-exports', Key: key }));
      const text = gunzipSync(Buffer.from(await body.Body!.transformToByteArray())).toString('utf8');
      // Ids are 63-bit integers, past what a JSON number holds exactly in JavaScript: read their digits.
      lines.push(...text.trimEnd().split('\n').map((l) => ({ ...JSON.parse(l), id: /^\{"id" ?: ?(\d+)/.exec(l)![1] })));
    }
    s3.destroy();
    const source = await env.db.query<{ id: string; message: string; attributes: unknown; t: string }>(
      `select l.id::text as id, l.message, l.attributes, to_char(l.time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t
       from public.logs l where l.project_id = $1 order by l.time, l.event_key`,
      [t.projectA],
    );
    // Exports carry the id the API shows (docs/adr/0006-log-ids.md), in (time, event_key) order.
    const ids = await logIdCodec(env.db);
    expect(lines.map((l) => ({ id: String(l.id), message: l.message, attributes: l.attributes, t: l.time }))).toEqual(
      source.map((r) => ({ ...r, id: ids.toPublic(r.id) })),
    );
    // Microseconds made it through (60.000123 s steps).
    expect(lines[0]!.time).toBe(`${day}T00:01:00.000123Z`);
  }, 120_000);

  it.each([
    // endpoint: an IP literal (checked before connecting) and a name (checked in the lookup hook)
    '127.0.0.1',
    'localhost',
  ])('refuses a destination at %s:<a loopback port not allowed>, with the generic message and no connection', async (host) => {
    const res = await fetch(`${logs.url}/exports/destinations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.people.owner.jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ projectId: t.projectA, name: `probe-${host}`, endpoint: `http://${host}:${victim.port}`, bucket: 'probe', forcePathStyle: true, accessKeyId: 'A', secretAccessKey: 'S' }),
    });
    const body = (await res.json()) as { error: { message: string; details: Array<{ field: string }> } };
    expect(res.status, logs.output()).toBe(400);
    expect(body.error.message).toBe(
      `The connection check could not write to the bucket: PutObject probe/${t.projectA}/_observai-check.json failed: The destination could not be reached: no answer came from an allowed address`,
    );
    expect(body.error.details[0]!.field).toBe('body.endpoint');
    expect(victim.connections).toBe(0);
  }, 60_000);
});
