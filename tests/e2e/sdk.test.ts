/**
 * The SDK (packages/sdk, consumed as source) against the gateway on a real socket (tests/helpers/
 * otel-gateway.ts), in Node (this process and child processes), under pino, and under Deno. A fault
 * proxy between the SDK and the gateway drops connections before and after the gateway answered,
 * answers 503 with Retry-After, delays past the SDK's timeout, or refuses everything (a dead server).
 * What is asserted is what a user would see in the database: every event the SDK acknowledged is
 * stored exactly once (event ids make a resent batch a duplicate, and make identical events real
 * repeats), nothing queued is lost when the process ends, and the queue stays within its bounds
 * while the server is dead, keeping the newest events.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, ObservAIError, type ClientOptions } from '../../packages/sdk/src/index.ts';
import { type OtelGateway, startOtelGateway } from '../helpers/otel-gateway.ts';

type Action = 'pass' | 'drop-before' | 'drop-after' | '503' | { delayMs: number };

interface Exchange {
  n: number;
  action: string;
  startedAt: number;
  endedAt: number | undefined;
  encoding: string;
  /** sha1 of the request body: a retry sends the very same bytes. */
  hash: string;
  status: number | undefined;
}

/** An HTTP proxy in front of the gateway whose n-th request gets script[n] (then `fallback`). */
class FaultProxy {
  readonly exchanges: Exchange[] = [];
  script: Action[] = [];
  fallback: Action = 'pass';
  /** Every connection is reset as soon as it opens. */
  dead = false;
  port = 0;
  private readonly server: http.Server;

  constructor(private readonly target: string) {
    this.server = http.createServer((req, res) => void this.handle(req, res).catch(() => req.socket.destroy()));
    this.server.on('connection', (socket) => {
      if (this.dead) socket.destroy();
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const n = this.exchanges.length;
    const action = this.dead ? 'drop-before' : (this.script[n] ?? this.fallback);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const ex: Exchange = {
      n,
      action: typeof action === 'string' ? action : `delay ${action.delayMs}`,
      startedAt: Date.now(),
      endedAt: undefined,
      encoding: String(req.headers['content-encoding'] ?? ''),
      hash: createHash('sha1').update(body).digest('hex'),
      status: undefined,
    };
    this.exchanges.push(ex);
    if (action === 'drop-before') {
      ex.endedAt = Date.now();
      req.socket.destroy();
      return;
    }
    if (action === '503') {
      ex.status = 503;
      ex.endedAt = Date.now();
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'staged by the test proxy' } }));
      return;
    }
    if (typeof action === 'object') await new Promise((r) => setTimeout(r, action.delayMs));
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'content-encoding', 'x-api-key']) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const upstream = await fetch(`${this.target}${req.url}`, { method: req.method, headers, body });
    const answer = Buffer.from(await upstream.arrayBuffer());
    ex.status = upstream.status;
    ex.endedAt = Date.now();
    // Stored by the gateway, but the client never hears it: it must send again and get duplicates.
    if (action === 'drop-after') return void req.socket.destroy();
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(answer);
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a child to its end (killed past timeoutMs); `onLine` sees its stdout lines as they come. */
function runChild(cmd: string, args: string[], env: Record<string, string>, onLine?: (line: string, child: ChildProcess) => void, timeoutMs = 60_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      const before = stdout.length;
      stdout += d;
      if (onLine) for (const line of stdout.slice(stdout.lastIndexOf('\n', before - 1) + 1).split('\n').slice(0, -1)) onLine(line, child);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const runId = () => `run-${Math.random().toString(36).slice(2, 10)}`;

describe('@observai/sdk', () => {
  let gw: OtelGateway;
  let proxy: FaultProxy;
  /** The SDK's `url` through the proxy. */
  let viaProxy: string;
  let apiKey: string;

  beforeAll(async () => {
    gw = await startOtelGateway();
    apiKey = gw.t.keyA.secret;
    proxy = new FaultProxy(new URL(gw.base).origin);
    await proxy.start();
    viaProxy = `http://127.0.0.1:${proxy.port}/functions/v1`;
  });
  afterAll(async () => {
    await proxy?.close();
    await gw?.close();
  });

  const reset = (script: Action[] = [], fallback: Action = 'pass') => {
    proxy.exchanges.length = 0;
    proxy.script = script;
    proxy.fallback = fallback;
    proxy.dead = false;
  };

  /** Values of a metric's points of one run, ascending. */
  const values = async (name: string, run: string) =>
    (
      await gw.env.db.query<{ value: number }>(
        `select p.value from public.metric_points p join public.metric_series s on s.id = p.series_id
         where s.project_id = $1 and s.name = $2 and s.tags->>'run' = $3 order by p.value`,
        [gw.t.projectA, name, run],
      )
    ).map((r) => Number(r.value));

  const logsOf = (run: string) =>
    gw.env.db.query<{ level: string; service: string; message: string; attributes: Record<string, unknown>; time: string }>(
      `select level, service, message, attributes, time::text from public.logs where project_id = $1 and attributes->>'run' = $2 order by time, level`,
      [gw.t.projectA, run],
    );

  it('refuses bad names, tags and values at the call site: counted and reported once, or thrown', () => {
    const reports: ObservAIError[] = [];
    const base: ClientOptions = { url: 'http://127.0.0.1:9/functions/v1', apiKey: 'k', onError: (e) => reports.push(e) };
    const client = createClient(base);
    client.counter('bad name!').add(1);
    client.counter('ok.name').add(-1);
    client.gauge('ok.name').set(Number.NaN);
    client.gauge('ok.name').set(1, { nested: { a: 1 } as never });
    client.histogram('ok.name', { buckets: [10, 5] }).record(1);
    client.logger().info('x', 'not an object' as never);
    expect(client.stats()).toMatchObject({ invalid: 6, enqueued: 0 });
    expect(reports.map((e) => [e.code, e.message])).toEqual([['INVALID_EVENT', expect.stringContaining('"bad name!" must start with a letter')]]);
    void client.close({ timeoutMs: 0 });

    const strict = createClient({ ...base, onInvalid: 'throw' });
    expect(() => strict.gauge('ok.name').set(1, { __proto__x: 'ok', ['a'.repeat(101)]: 'v' })).toThrow(/tag key "a{50}" must be 1-100 characters/);
    expect(() => strict.counter('ok.name').add(-1)).toThrow(ObservAIError);
    // An onError that throws does not reach the app.
    const throwing = createClient({ ...base, onError: () => { throw new Error('boom'); } });
    expect(() => throwing.counter('bad name!').add(1)).not.toThrow();
    void strict.close({ timeoutMs: 0 });
    void throwing.close({ timeoutMs: 0 });
  });

  it('through drops, a 503 with Retry-After and a timeout: every event stored exactly once, retries byte for byte', async () => {
    // Request 1's answer and 6's are lost after the gateway stored them, 2 gets a 503 (Retry-After: 1),
    // 4 is cut before the gateway sees it, 5 reaches the gateway after the SDK gave up waiting.
    reset(['pass', 'drop-after', '503', 'pass', 'drop-before', { delayMs: 1500 }, 'drop-after']);
    const run = runId();
    const t0 = Date.now() - 2000;
    const client = createClient({
      url: viaProxy,
      apiKey,
      service: 'sdk-e2e',
      maxBatchEvents: 100,
      requestTimeoutMs: 1000,
      retry: { baseMs: 20, maxMs: 200 },
      // One timestamp for everything: counter increments and log lines identical in content, which
      // only their event ids tell apart.
      now: () => t0,
      onError: (e) => expect.fail(`onError: ${e.message}`),
    });
    const requests = client.counter('sdk.requests', { tags: { run } });
    const gauge = client.gauge('sdk.values', { tags: { run } });
    const log = client.logger({ attributes: { run } });
    for (let i = 0; i < 300; i++) requests.add(1);
    for (let i = 0; i < 300; i++) gauge.set(i);
    for (let i = 0; i < 100; i++) log.info('the same line');
    for (let i = 0; i < 20; i++) client.trace('checkout', (span) => span.setAttribute('run', run));

    expect(await client.flush({ timeoutMs: 20_000 })).toEqual({ ok: true, pending: 0 });
    const s = client.stats();
    expect(s).toMatchObject({ enqueued: 720, sent: 720, rejected: 0, dropped: 0, invalid: 0, queued: 0, inFlight: 0 });
    expect(s.accepted + s.duplicates).toBe(720);
    // A batch whose answer was lost comes back as duplicates (which request 6 catches depends on timing).
    expect(s.duplicates).toBeGreaterThanOrEqual(100);
    expect(s.retried).toBeGreaterThan(0);
    // The delayed request reaches the gateway after the SDK moved on: wait for it before counting.
    await until(() => proxy.exchanges.every((e) => e.endedAt !== undefined), 'the delayed request');

    expect(await values('sdk.requests', run)).toEqual(Array(300).fill(1));
    expect(await values('sdk.values', run)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(await logsOf(run)).toHaveLength(100);
    expect(await gw.count(`public.spans where project_id = $1 and attributes->>'run' = $2`, [gw.t.projectA, run])).toBe(20);

    const ex = proxy.exchanges;
    expect(ex.every((e) => e.encoding === 'gzip')).toBe(true);
    for (const faulted of ex.filter((e) => e.action !== 'pass')) {
      // Sent again, the very same bytes (ids included), until answered.
      expect(ex.some((e) => e.n > faulted.n && e.hash === faulted.hash && e.status === 200), `request ${faulted.n} (${faulted.action}) resent`).toBe(true);
    }
    const unavailable = ex.find((e) => e.action === '503')!;
    const resent = ex.find((e) => e.n > unavailable.n && e.hash === unavailable.hash)!;
    expect(resent.startedAt - unavailable.endedAt!).toBeGreaterThanOrEqual(1000);
    await client.close();
  });

  it('refused events (one by one, or a whole request for good) are reported and never resent', async () => {
    reset();
    const run = runId();
    const reports: ObservAIError[] = [];
    const client = createClient({ url: viaProxy, apiKey, onError: (e) => reports.push(e) });
    client.log({ message: 'fresh', attributes: { run } });
    client.log({ message: 'eight days old', timestamp: Date.now() - 8 * 86_400_000, attributes: { run } });
    client.log({ message: 'fresh too', attributes: { run } });
    expect(await client.flush()).toEqual({ ok: true, pending: 0 });
    expect(client.stats()).toMatchObject({ sent: 3, accepted: 2, rejected: 1, requests: 1, retried: 0 });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ code: 'EVENTS_REJECTED', events: 1, details: [expect.objectContaining({ index: 1, field: expect.stringMatching(/^logs\.1\./) })] });
    expect((await logsOf(run)).map((l) => l.message).sort()).toEqual(['fresh', 'fresh too']);
    await client.close();

    const unknownKey = createClient({ url: viaProxy, apiKey: 'oai_not_a_key', onError: (e) => reports.push(e) });
    unknownKey.counter('sdk.unauthorized').add(1);
    expect(await unknownKey.close()).toEqual({ ok: true, pending: 0 });
    expect(unknownKey.stats()).toMatchObject({ sent: 0, droppedFailed: 1, requests: 1 });
    expect(reports[1]).toMatchObject({ code: 'REQUEST_FAILED', status: 401, events: 1 });
    expect(proxy.exchanges.map((e) => e.status)).toEqual([200, 401]);
  });

  it('a dead server: the queue stays within its events and bytes, drops the oldest, counts them, and delivers the rest on return', async () => {
    reset();
    proxy.dead = true;
    const run = runId();
    const reports: ObservAIError[] = [];
    const opts = { url: viaProxy, apiKey, concurrency: 1, maxBatchEvents: 100, flushIntervalMs: 20, retry: { baseMs: 10, maxMs: 50 }, onError: (e: ObservAIError) => reports.push(e) };
    const client = createClient({ ...opts, maxQueueEvents: 1000 });
    const gauge = client.gauge('sdk.bounded', { tags: { run } });
    for (let i = 0; i < 10; i++) gauge.set(i);
    await until(() => client.stats().requests >= 2, 'the first batch failing');
    for (let i = 10; i < 20_010; i++) gauge.set(i);
    expect(client.stats()).toMatchObject({ enqueued: 20_010, queued: 1000, inFlight: 10, droppedOverflow: 19_000, sent: 0 });
    expect(reports.map((r) => r.code)).toEqual(['QUEUE_OVERFLOW']);

    const logs = createClient({ ...opts, maxQueueBytes: 64 * 1024 });
    const logger = logs.logger({ attributes: { run } });
    for (let i = 0; i < 500; i++) logger.info(`${'x'.repeat(1000)} ${i}`);
    const l = logs.stats();
    expect(l.queuedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(l.queued).toBeGreaterThan(40);
    expect(l.queued + l.inFlight + l.droppedOverflow).toBe(500);

    proxy.dead = false;
    expect(await client.close()).toEqual({ ok: true, pending: 0 });
    expect(await logs.close()).toEqual({ ok: true, pending: 0 });
    // The batch that was being retried, then the newest 1,000: the 19,000 in between were dropped.
    const kept = [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 1000 }, (_, i) => 19_010 + i)];
    expect(await values('sdk.bounded', run)).toEqual(kept);
    const stored = (await logsOf(run)).map((r) => Number(r.message.split(' ')[1]));
    expect(stored).toHaveLength(l.queued + l.inFlight);
    expect(Math.max(...stored)).toBe(499);
  });

  it.each(['exit', 'sigterm'])('nothing is lost when a Node process ends (%s): the shutdown hook flushes', async (mode) => {
    reset([], { delayMs: 200 }); // a slow server: the flush must wait for it
    const run = runId();
    const env = { OBSERVAI_URL: viaProxy, OBSERVAI_API_KEY: apiKey, RUN: run, EVENTS: '2000', MODE: mode };
    const result = await runChild(process.execPath, ['--import', 'tsx', 'packages/sdk/test/node-app.ts'], env, (line, child) => {
      if (line.startsWith('ready')) child.kill('SIGTERM');
    });
    expect(result.stderr).toBe('');
    // SIGTERM: the process still dies of the signal, after the flush.
    expect([result.code, result.signal]).toEqual(mode === 'exit' ? [0, null] : [null, 'SIGTERM']);
    expect(await values('sdk.shutdown', run)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('the pino transport ships pino lines as logs, flushed when the app exits', async () => {
    reset();
    const run = runId();
    const result = await runChild(process.execPath, ['--import', 'tsx', 'packages/sdk/test/pino-app.ts'], { OBSERVAI_URL: viaProxy, OBSERVAI_API_KEY: apiKey, RUN: run });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const rows = await logsOf(run);
    expect(rows.map((r) => [r.level, r.service, r.message])).toEqual(
      expect.arrayContaining([
        ['info', 'pino-app', 'order placed'],
        ['error', 'pino-app', 'payment failed'],
        ['debug', 'pino-app', 'cart loaded'],
      ]),
    );
    expect(rows).toHaveLength(3);
    const error = rows.find((r) => r.level === 'error')!;
    expect(error.attributes).toMatchObject({ requestId: 'req-1', err: { type: 'Error', message: 'card declined' } });
    expect(rows.find((r) => r.level === 'info')!.attributes).toMatchObject({ orderId: 42, pid: expect.any(Number), hostname: expect.any(String) });
  });

  it('runs under Deno: a point sent by flush(), another by the beforeunload hook as the script ends', async () => {
    reset();
    const run = runId();
    const result = await runChild(
      'node_modules/.bin/deno',
      ['run', '--check', '--no-prompt', '--allow-net=127.0.0.1', '--allow-env=OBSERVAI_URL,OBSERVAI_API_KEY,RUN', 'packages/sdk/test/deno-app.ts'],
      { OBSERVAI_URL: viaProxy, OBSERVAI_API_KEY: apiKey, RUN: run, NO_COLOR: '1' },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n')[0]!)).toMatchObject({ flushed: { ok: true, pending: 0 }, stats: { enqueued: 1, sent: 1, accepted: 1 } });
    expect(await values('sdk.deno', run)).toEqual([1, 2]);
  }, 90_000);
});
