/**
 * The `observai` CLI (packages/cli) run as its real binary, a child process per command, against the
 * gateway on a real socket (a fresh database and tenant; Postgres + Redis in services mode) with an
 * S3 server (s3rver) as the export destination. What is asserted is what a person or a script sees:
 * exit codes, stdout (JSON parsed with --json), stderr, the stored config file and its permissions.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

/** The package's bin, which in this repository runs the TypeScript source (no build). */
const CLI = ['packages/cli/bin/observai.js'];
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

type Json = Record<string, any>;

describe('observai CLI', () => {
  let env: TestEnv;
  let t: Tenant;
  let server: ServerType;
  let s3: S3rver;
  let s3url: string;
  let dir: string;
  /** The gateway's origin: login is given this, and must add /functions/v1 itself. */
  let origin: string;
  let base: string;
  let config: string;
  const run = `r${Math.random().toString(36).slice(2, 10)}`;

  /**
   * Runs the CLI to its end (killed after 60 s); `on` sees each stdout and stderr line as it comes.
   * Credentials come from the environment (the owner's token, project A's ingest+read key), so no test
   * depends on another's login; with `stored`, only from the config file the login test writes.
   */
  function cli(
    args: string[],
    o: { stdin?: string; stored?: boolean; on?: (line: string, stream: 'out' | 'err', child: ChildProcess) => void } = {},
  ): Promise<Result> {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OBSERVAI_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
    const credentials = o.stored
      ? { OBSERVAI_CONFIG: config }
      : { OBSERVAI_CONFIG: join(dir, 'unused', 'config.json'), OBSERVAI_URL: origin, OBSERVAI_TOKEN: t.people.owner.jwt, OBSERVAI_API_KEY: t.keyA.secret, OBSERVAI_PROJECT: t.projectA };
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...CLI, ...args], { env: { ...clean, ...credentials }, stdio: ['pipe', 'pipe', 'pipe'] });
      const out = { out: '', err: '' };
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      for (const [name, stream] of [['out', child.stdout!], ['err', child.stderr!]] as const) {
        stream.on('data', (d: Buffer) => {
          const before = out[name].length;
          out[name] += d;
          if (o.on) for (const line of out[name].slice(out[name].lastIndexOf('\n', before - 1) + 1).split('\n').slice(0, -1)) o.on(line, name, child);
        });
      }
      child.stdin!.end(o.stdin ?? '');
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: out.out, stderr: out.err });
      });
    });
  }
  const json = (r: Result): Json => JSON.parse(r.stdout) as Json;
  const jsonError = (r: Result): Json => JSON.parse(r.stderr.trim().split('\n').pop()!) as Json;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'observai-cli-'));
    // A directory that does not exist yet: login creates it, owner-only.
    config = join(dir, 'home', 'observai', 'config.json');
    s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'cli-exports', configs: [] }] });
    const { port: s3port } = await s3.run();
    s3url = `http://127.0.0.1:${s3port}`;
    // The outbound guard refuses loopback: exactly the S3 server is allowed.
    env = await createTestEnv({ env: { SECRET_ENCRYPTION_KEY: ENCRYPTION_KEY, OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${s3port}` } });
    t = await createTenant(env);
    await new Promise<void>((resolve) => {
      server = serve({ fetch: env.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    base = `${origin}/functions/v1`;
  });

  afterAll(async () => {
    if (server) {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await env?.deps.settle();
    await env?.close();
    await s3?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('login checks the credentials before storing them, owner-only (a refused key stores nothing: exit 3); commands use them; logout forgets them', async () => {
    const refused = await cli(['login', '--url', origin, '--api-key', `oai_aaaaaaaaaaaa_${'b'.repeat(32)}`, '--json'], { stored: true });
    expect(refused.code).toBe(3);
    expect(jsonError(refused).error).toMatchObject({ code: 'UNAUTHENTICATED', exitCode: 3 });
    expect(existsSync(config)).toBe(false);

    const ok = await cli(['login', '--url', origin, '--token', t.people.owner.jwt, '--api-key', t.keyA.secret, '--project', t.projectA, '--json'], { stored: true });
    expect(ok.code, ok.stderr).toBe(0);
    expect(json(ok)).toMatchObject({ url: base, configPath: config, project: t.projectA, token: { userId: t.people.owner.id } });
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(config)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ url: base, apiKey: t.keyA.secret, token: t.people.owner.jwt, project: t.projectA });

    const [who, keys] = await Promise.all([cli(['whoami', '--json'], { stored: true }), cli(['keys', 'list', '--json'], { stored: true })]);
    expect(who.code, who.stderr).toBe(0);
    expect(json(who)).toMatchObject({
      url: base,
      credentialSource: 'config',
      token: { userId: t.people.owner.id, organizations: expect.arrayContaining([expect.objectContaining({ id: t.orgId, role: 'owner' })]) },
      // A read-scoped key names its project (GET /logs/retention).
      apiKey: { projectId: t.projectA },
    });
    expect(json(keys).apiKeys).toContainEqual(expect.objectContaining({ id: t.keyA.id }));

    const out = await cli(['logout', '--json'], { stored: true });
    expect(json(out)).toEqual({ loggedOut: true, configPath: config });
    expect(existsSync(config)).toBe(false);
    const after = await cli(['keys', 'list'], { stored: true });
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/^error NOT_LOGGED_IN: /m);
  });

  it('send (flags, and NDJSON on stdin) goes through the SDK; logs search and metrics query see it', async () => {
    const sent = await cli(['send', '--metric', 'cli.e2e=42', '--tag', `run=${run}`, '--log', `flag line ${run}`, '--level', 'warn', '--attr', `run=${run}`, '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(json(sent)).toMatchObject({ enqueued: 2, accepted: 2, rejected: 0, invalid: 0, notDelivered: 0 });

    const ndjson = [
      JSON.stringify({ type: 'metric', name: 'cli.e2e', value: 7, tags: { run } }),
      'not json',
      JSON.stringify({ type: 'log', level: 'error', service: 'piped', message: `stdin line ${run}`, attributes: { run } }),
    ].join('\n');
    const piped = await cli(['send', '--stdin', '--json'], { stdin: ndjson });
    // One line refused here (and named), the two others delivered: exit 1.
    expect(piped.code).toBe(1);
    expect(json(piped)).toMatchObject({ lines: 3, accepted: 2, invalid: 1, errors: [{ line: 2, message: 'not valid JSON' }] });

    const found = await cli(['logs', 'search', run, '--from', '10m', '--json']);
    expect(found.code, found.stderr).toBe(0);
    expect(json(found).logs.map((l: Json) => [l.level, l.service, l.message]).sort()).toEqual([
      ['error', 'piped', `stdin line ${run}`],
      ['warn', 'observai-cli', `flag line ${run}`],
    ]);
    const text = await cli(['logs', 'search', run, '--min-level', 'error', '--from', '10m']);
    expect(text.stdout).toMatch(new RegExp(`ERROR piped stdin line ${run}`));
    expect(text.stdout).not.toMatch(/flag line/);

    // Queries read rollups: run the job the scheduler would.
    const rollup = await fetch(`${base}/cron-aggregate-metrics`, { method: 'POST', headers: { authorization: `Bearer ${await env.serviceJwt()}` } });
    expect(rollup.status).toBe(200);
    const query = await cli(['metrics', 'query', 'cli.e2e', '--agg', 'max', '--filter', `run=${run}`, '--from', '10m', '--step', '1m', '--json']);
    expect(query.code, query.stderr).toBe(0);
    const points = (json(query).results[0].series[0].points as Array<[number, number | null]>).map((p) => p[1]).filter((v) => v !== null);
    expect(Math.max(...(points as number[]))).toBe(42);
    const spark = await cli(['metrics', 'query', 'cli.e2e', '--agg', 'max', '--filter', `run=${run}`, '--from', '10m', '--format', 'spark']);
    expect(spark.code, spark.stderr).toBe(0);
    expect(spark.stdout).toMatch(/[▁▂▃▄▅▆▇█].*max 42/);
  });

  it('tail prints lines sent after it started, resumes after the last one when the connection drops, and Ctrl-C ends it with 0', async () => {
    const marker = `tailed-${run}`;
    const seen: Json[] = [];
    let sending: Promise<Result> | undefined;
    let dropped: Promise<Response> | undefined;
    const tail = await cli(['tail', '--json', '--query', marker], {
      on(line, stream, child) {
        // The stream is open (its `ready` arrived): what is sent now must come through.
        if (stream === 'err' && line.includes('following logs') && !sending) sending = cli(['send', '--log', `${marker} first`, '--level', 'error']);
        if (stream !== 'out') return;
        seen.push(JSON.parse(line) as Json);
        if (seen.length === 1) {
          // Every connection cut: the next line is written while tail has none, and must still come,
          // because tail reconnects with Last-Event-ID (the first line's id) and resumes after it.
          (server as { closeAllConnections(): void }).closeAllConnections();
          dropped = env.request('POST', '/functions/v1/ingest', {
            apiKey: t.keyA.secret,
            body: { logs: [{ timestamp: Date.now(), level: 'info', service: 'gap', message: `${marker} during the gap` }] },
          });
        } else child.kill('SIGINT');
      },
    });
    expect((await sending)?.code).toBe(0);
    expect((await dropped)?.status).toBe(200);
    expect([tail.code, tail.signal], tail.stderr).toEqual([0, null]);
    expect(seen).toEqual([
      expect.objectContaining({ level: 'error', service: 'observai-cli', message: `${marker} first` }),
      expect.objectContaining({ level: 'info', service: 'gap', message: `${marker} during the gap` }),
    ]);
  });

  it('keys create, list and revoke', async () => {
    const created = await cli(['keys', 'create', '--name', `cli-${run}`, '--scopes', 'ingest,read', '--expires-in', '1d', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { apiKey, secret } = json(created);
    expect(secret).toMatch(/^oai_[a-zA-Z0-9]{12}_[a-zA-Z0-9]{32}$/);
    expect(apiKey).toMatchObject({ projectId: t.projectA, name: `cli-${run}`, scopes: ['ingest', 'read'], status: 'active' });

    const listed = await cli(['keys', 'list', '--json']);
    expect(json(listed).apiKeys).toContainEqual(expect.objectContaining({ id: apiKey.id, status: 'active' }));

    const revoked = await cli(['keys', 'revoke', apiKey.id, '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(json(revoked).apiKey).toMatchObject({ id: apiKey.id, status: 'revoked' });
    // The revoked key no longer sends: the server's refusal is exit 3.
    const refused = await cli(['send', '--log', 'x', '--api-key', secret]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^error UNAUTHENTICATED: /m);
  });

  it('export run follows the run to the end, drawing a progress bar', async () => {
    const now = Date.now();
    const ingest = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: { logs: [1, 2, 3].map((i) => ({ timestamp: now - 60_000 - i, service: 'export', message: `exported ${i}` })) },
    });
    expect(ingest.status).toBe(200);
    const res = await fetch(`${base}/logs/exports/destinations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.people.owner.jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ projectId: t.projectA, name: 'cli', endpoint: s3url, region: 'us-east-1', bucket: 'cli-exports', forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { destination } = (await res.json()) as Json;

    const exported = await cli(['export', 'run', '--destination', destination.id, '--from', '15m', '--progress', 'bar', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const run_ = json(exported).export;
    expect(run_).toMatchObject({ status: 'succeeded', destinationId: destination.id, signal: 'logs' });
    // Its three lines, and those other tests sent meanwhile.
    expect(run_.rows).toBeGreaterThanOrEqual(3);
    expect(run_.files.length).toBeGreaterThanOrEqual(1);
    // The bar redraws in place and ends full.
    expect(exported.stderr).toContain('\r');
    expect(exported.stderr).toMatch(/\[█{24}\] 100%/);
  }, 60_000);

  it('bad flags exit 2, a 404 exits 4, a server error prints its code and exits 1', async () => {
    const [unknown, noValue, missingArg, notFound, invalid] = await Promise.all([
      cli(['logs', 'search', 'x', '--limt', '5']),
      cli(['logs', 'search', 'x', '--limit', 'many']),
      cli(['metrics', 'query']),
      cli(['traces', 'get', '0123456789abcdef0123456789abcdef', '--json']),
      cli(['logs', 'search', '!!!']),
    ]);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('unknown flag --limt')]);
    expect([noValue.code, noValue.stderr]).toEqual([2, expect.stringContaining('--limit must be a whole number')]);
    expect([missingArg.code, missingArg.stderr]).toEqual([2, expect.stringContaining('needs <metric>')]);
    expect(notFound.code).toBe(4);
    expect(jsonError(notFound).error).toMatchObject({ code: 'NOT_FOUND', status: 404, exitCode: 4 });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error VALIDATION_FAILED: /m);
  });

  it('doctor and completion', async () => {
    const [doctor, completion] = await Promise.all([cli(['doctor', '--json']), cli(['completion', 'bash'])]);
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(json(doctor).checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'server', status: 'ok' }),
        expect.objectContaining({ name: 'clock', status: 'ok' }),
        expect.objectContaining({ name: 'token', status: 'ok' }),
        expect.objectContaining({ name: 'API key', status: 'ok' }),
      ]),
    );
    expect(completion.code).toBe(0);
    expect(completion.stdout).toContain('complete -F _observai observai');
  });
});
