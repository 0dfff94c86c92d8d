/**
 * The demo data loop (src/demo-data/start-demo-data.ts) against the real gateway app on a socket
 * (tests/helpers/otel-gateway.ts: a fresh database and tenant), through a small proxy that can
 * answer 503 or hold a request: a refused batch is sent again after Retry-After and stored once,
 * stop() waits for the request in flight and sends nothing after, a second run sends only the gap,
 * and a refused API key ends it with one error in the log.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/core/logger.ts';
import { generateEvents } from '../../../src/demo-data/generate-events.ts';
import { startDemoData } from '../../../src/demo-data/start-demo-data.ts';
import { type OtelGateway, startOtelGateway } from '../../helpers/otel-gateway.ts';

type Action = 'pass' | '503' | { holdMs: number };

/** Forwards to the gateway; the n-th request gets script[n] (then pass). */
class Proxy {
  readonly exchanges: Array<{ path: string; action: string; status?: number; body: string; startedAt: number; endedAt?: number }> = [];
  script: Action[] = [];
  port = 0;
  private readonly server = http.createServer((req, res) => void this.handle(req, res).catch(() => req.socket.destroy()));
  constructor(private readonly target: string) {}
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async close() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const action = this.script[this.exchanges.length] ?? 'pass';
    const ex: Proxy['exchanges'][number] = { path: new URL(req.url!, 'http://x').pathname, action: typeof action === 'string' ? action : 'hold', body: Buffer.concat(chunks).toString(), startedAt: Date.now() };
    this.exchanges.push(ex);
    if (action === '503') {
      ex.status = 503;
      ex.endedAt = Date.now();
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      return void res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'staged by the test proxy' } }));
    }
    if (typeof action === 'object') await new Promise((r) => setTimeout(r, action.holdMs));
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'x-api-key']) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const upstream = await fetch(`${this.target}${req.url}`, { method: req.method, headers, ...(req.method === 'POST' ? { body: ex.body } : {}) });
    const answer = Buffer.from(await upstream.arrayBuffer());
    ex.status = upstream.status;
    ex.endedAt = Date.now();
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json', ...(upstream.headers.get('retry-after') ? { 'retry-after': upstream.headers.get('retry-after')! } : {}) });
    res.end(answer);
  }
}

function recordingLogger() {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  const make = (): Logger => {
    const at = (level: string) => (obj: object | string, msg?: string) => lines.push(typeof obj === 'string' ? { level, msg: obj, obj: {} } : { level, msg: msg ?? '', obj });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => make() };
  };
  return { logger: make(), lines };
}

async function until(what: string, check: () => boolean, seconds = 20) {
  for (const deadline = Date.now() + seconds * 1000; !check(); ) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('demo data loop', () => {
  let gw: OtelGateway;
  let proxy: Proxy;
  let functions: string;

  beforeAll(async () => {
    gw = await startOtelGateway();
    const target = gw.base.replace(/\/functions\/v1\/ingest$/, '');
    proxy = new Proxy(target);
    await proxy.start();
    functions = `http://127.0.0.1:${proxy.port}/functions/v1`;
  });
  afterAll(async () => {
    await proxy?.close();
    await gw?.close();
  });

  const stored = async () => {
    const p = [gw.t.projectA];
    return {
      metrics: (await gw.count('public.metric_points where project_id = $1', p)) + (await gw.count('public.metric_histogram_points where project_id = $1', p)),
      logs: await gw.count('public.logs where project_id = $1', p),
      spans: await gw.count('public.spans where project_id = $1', p),
    };
  };

  it('stops after the request in flight, sending nothing more', async () => {
    // A backfill of several batches whose first (metric points only, no logs: the next run starts from
    // scratch) is held: stop() is called while it is in flight.
    const first = proxy.exchanges.length;
    proxy.script[first + 1] = { holdMs: 800 };
    const { logger } = recordingLogger();
    const gen = startDemoData({ url: functions, apiKey: gw.t.keyA.secret, seed: 'loop-seed', logger, tickMs: 300, backfillMs: 10 * 60_000, batchEvents: 100 });
    await until('the held request', () => proxy.exchanges.length > first + 1);
    await gen.stop();
    const stoppedAt = Date.now();
    const held = proxy.exchanges[first + 1]!;
    expect(held.action).toBe('hold');
    expect(held.endedAt).toBeDefined();
    expect(held.endedAt!).toBeLessThanOrEqual(stoppedAt);
    expect(held.status).toBe(200);
    // The rest of the backfill (several more batches) would follow at once from a loop still running.
    expect(generateEvents('loop-seed', stoppedAt - 10 * 60_000, stoppedAt).metrics.length).toBeGreaterThan(300);
    const count = proxy.exchanges.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(proxy.exchanges.length).toBe(count);
    expect(await gen.backfilled).toBe(0);
  }, 60_000);

  it('backfills through ingest, sending a 503ed batch again after Retry-After, every event stored once', async () => {
    // Request 0 asks where a previous run stopped; request 1, the first batch, is refused once.
    const first = proxy.exchanges.length;
    proxy.script[first + 1] = '503';
    const { logger, lines } = recordingLogger();
    const startedAt = Date.now();
    const gen = startDemoData({ url: functions, apiKey: gw.t.keyA.secret, seed: 'loop-seed', logger, tickMs: 300, backfillMs: 20 * 60_000, batchEvents: 400 });
    const sent = await gen.backfilled;
    const [search, refused, again] = proxy.exchanges.slice(first);
    expect(search!.path).toBe('/functions/v1/logs/search');
    expect(refused!.status).toBe(503);
    // The same batch, byte for byte, and not before the 1 s Retry-After asked for.
    expect(again!.body).toBe(refused!.body);
    expect(again!.startedAt - refused!.endedAt!).toBeGreaterThanOrEqual(990);
    expect(again!.status).toBe(200);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['demo data: sending a batch failed; retrying with backoff']);
    expect(lines.some((l) => l.msg === 'demo data: sending again')).toBe(true);

    // Every event of the backfill stored once: 20 minutes of the shop, about 1,600 events.
    expect(sent).toBeGreaterThan(1000);
    const after = await stored();
    const window = generateEvents('loop-seed', startedAt - 20 * 60_000, startedAt);
    expect(after.metrics).toBeGreaterThanOrEqual(window.metrics.length);
    expect(after.logs).toBeGreaterThanOrEqual(window.logs.length);
    expect(after.spans).toBeGreaterThanOrEqual(window.spans.length);
    expect(after.metrics + after.logs + after.spans).toBeLessThan(sent + 400); // plus at most a few live ticks

    await gen.stop();
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  }, 120_000);

  it('starts where the last run stopped: a second run sends only the gap, as duplicates at most', async () => {
    const before = await stored();
    const { logger, lines } = recordingLogger();
    const gen = startDemoData({ url: functions, apiKey: gw.t.keyA.secret, seed: 'loop-seed', logger, tickMs: 60_000, backfillMs: 20 * 60_000, batchEvents: 400 });
    const sent = await gen.backfilled;
    await gen.stop();
    expect(sent).toBeLessThan(300);
    const after = await stored();
    // A minute or so of new events, nothing of the 20 minutes stored twice.
    expect(after.metrics + after.logs + after.spans - (before.metrics + before.logs + before.spans)).toBeLessThanOrEqual(sent);
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  }, 60_000);

  it('ends with one error when the API key is refused, and stop() returns at once', async () => {
    const { logger, lines } = recordingLogger();
    const gen = startDemoData({ url: functions, apiKey: 'oai_notAKeyOfThisGateway_000000000000000000000000', seed: 'loop-seed', logger, tickMs: 200 });
    expect(await gen.backfilled).toBe(0);
    await gen.stop();
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(["demo data: the demo project's API key was refused (401); no more sample data this run"]);
  }, 60_000);
});
