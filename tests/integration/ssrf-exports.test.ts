/**
 * Issue 17, finding 3: export destinations must not make the server a port and status scanner of
 * loopback, private and metadata addresses. Any signed-in user can create an organization and so a
 * project they own; here that owner points a destination at places the server must not reach.
 *
 * A "victim" HTTP server on loopback (IPv4 and IPv6, one port) answers 200 to everything, as an
 * unguarded S3 PutObject would want, and records every connection: it must record none. One other
 * local server is allowed through OUTBOUND_ALLOW_PRIVATE, exactly as a self-hoster allows their
 * MinIO; it answers every request with a redirect to the victim. Every refusal reads the same.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/core/secret-box.ts';
import type { Logger } from '../../src/core/logger.ts';
import { createGatewayApp } from '../../src/app/app.ts';
import { createOutboundGuard, type ResolveHost } from '../../src/net/outbound.ts';
import type { NodeDeps } from '../../src/node/deps.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const BASE = '/functions/v1/logs/exports';
const KEY = Buffer.alloc(32, 17).toString('base64');
const GENERIC = 'The destination could not be reached: no answer came from an allowed address';

interface Recorder {
  port: number;
  connections: string[];
  requests: string[];
  close(): Promise<void>;
}

async function startServer(host: string, answer: (req: http.IncomingMessage, res: http.ServerResponse) => void, port = 0): Promise<Recorder> {
  const connections: string[] = [];
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    answer(req, res);
  });
  server.on('connection', (socket) => connections.push(String(socket.remoteAddress)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host.includes(':') }, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Log lines at warn, to show the operator gets the reason the tenant does not. */
function recordingLogger(lines: Array<Record<string, unknown>>): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    warn(obj, msg) {
      lines.push({ ...(typeof obj === 'string' ? { msg: obj } : obj), ...(msg ? { msg } : {}) });
    },
    error() {},
    child: () => logger,
  };
  return logger;
}

describe('SSRF through export destinations', () => {
  let env: TestEnv;
  let deps: NodeDeps;
  let app: ReturnType<typeof createGatewayApp>;
  let t: Tenant;
  let victim: Recorder;
  let victim6: Recorder;
  let redirector: Recorder;
  /** An allowed S3 stand-in that answers 200, and a victim on ::1 at the same port (for DNS rebinding). */
  let bucketHost: Recorder;
  let rebindVictim: Recorder;
  const warnings: Array<Record<string, unknown>> = [];

  const ok = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { etag: '"0"' });
    res.end();
  };

  beforeAll(async () => {
    victim = await startServer('127.0.0.1', ok);
    victim6 = await startServer('::1', ok, victim.port);
    redirector = await startServer('127.0.0.1', (req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${victim.port}${req.url}` });
      res.end();
    });
    bucketHost = await startServer('127.0.0.1', ok);
    rebindVictim = await startServer('::1', ok, bucketHost.port);
    env = await createTestEnv({ env: { OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${redirector.port},127.0.0.1:${bucketHost.port}` } });
    deps = { ...env.deps, logger: recordingLogger(warnings), config: { ...env.deps.config, exports: { encryptionKey: KEY } } };
    app = createGatewayApp(deps);
    t = await createTenant(env);
  });

  afterAll(async () => {
    await env?.deps.settle();
    await env?.close();
    await Promise.all([victim, victim6, redirector, bucketHost, rebindVictim].map((s) => s?.close()));
  });

  async function post(path: string, body: unknown, via = app) {
    const res = await via.request(`${BASE}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.people.owner.jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string; details?: Array<{ field: string; message: string }> } } & Record<string, unknown> };
  }
  const destination = (endpoint: string) => ({
    projectId: t.projectA,
    name: `probe-${Math.random().toString(36).slice(2, 8)}`,
    endpoint,
    bucket: 'probe-bucket',
    forcePathStyle: true,
    accessKeyId: 'AKIAPROBE',
    secretAccessKey: 'probe-secret',
  });
  const expectedMessage = () => `The connection check could not write to the bucket: PutObject probe-bucket/${t.projectA}/_observai-check.json failed: ${GENERIC}`;

  it.each([
    // endpoint, what the owner is trying to reach
    ['http://127.0.0.1:{victim}', 'a loopback port (the victim)'],
    ['http://localhost:{victim}', 'a name that resolves to 127.0.0.1'],
    ['http://[::1]:{victim}', 'IPv6 loopback (the victim listens there too)'],
    ['http://[::ffff:127.0.0.1]:{victim}', 'loopback as an IPv4-mapped IPv6 address'],
    ['http://0.0.0.0:{victim}', '0.0.0.0, which reaches the local host'],
    ['http://2130706433:{victim}', 'loopback written as one number'],
    ['http://10.0.0.1:9000', 'a private address'],
    ['http://169.254.169.254', 'the cloud metadata service'],
    ['http://100.100.100.200', 'a carrier-grade NAT address (Alibaba metadata)'],
    ['http://[fd00:ec2::254]', 'a unique-local IPv6 address (AWS metadata over IPv6)'],
    ['http://127.0.0.1:{redirector}', 'an allowed server that redirects to the victim'],
  ])('%s (%s) is a 400 with the one generic message, and the victim sees nothing', async (template, _what) => {
    const endpoint = template.replace('{victim}', String(victim.port)).replace('{redirector}', String(redirector.port));
    const res = await post('/destinations', destination(endpoint));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expectedMessage(), details: [{ field: 'body.endpoint', message: expectedMessage() }] });
    expect(victim.connections).toEqual([]);
    expect(victim6.connections).toEqual([]);
  });

  it('reached the allowed server, did not follow its redirect, and saved none of the probes', async () => {
    // The SDK retries what looks transient; every attempt went to the allowed server only.
    expect(redirector.requests.length).toBeGreaterThan(0);
    expect(new Set(redirector.requests.map((r) => r.split('?')[0]))).toEqual(new Set([`PUT /probe-bucket/${t.projectA}/_observai-check.json`]));
    expect(victim.requests).toEqual([]);
    expect(await env.db.query('select 1 from public.export_destinations where project_id = $1', [t.projectA])).toEqual([]);
  });

  it('the operator is told why in the log, the tenant is not', async () => {
    const details = warnings.filter((w) => w.msg === 'export destination check failed').map((w) => String(w.detail));
    expect(details.some((d) => /127\.0\.0\.1 \(for 127\.0\.0\.1\) is loopback/.test(d))).toBe(true);
    expect(details.some((d) => /169\.254\.169\.254 .* link-local/.test(d))).toBe(true);
    expect(details.some((d) => /HTTP 307/.test(d))).toBe(true);
  });

  it('URLs with credentials are refused naming the problem (nothing to probe there)', async () => {
    const res = await post('/destinations', destination(`http://user:pw@127.0.0.1:${victim.port}`));
    expect(res.status).toBe(400);
    expect(res.body.error!.details).toEqual([{ field: 'body.endpoint', message: 'The endpoint must not contain a user name or password' }]);
    expect(victim.connections).toEqual([]);
  });

  it('a destination saved before (or whose name resolved elsewhere then) fails its run with the generic message', async () => {
    // As if saved when the check still passed: the guard works at connect time, on every run.
    const id = crypto.randomUUID();
    const sealed = await (await createSecretBox(KEY)).seal('old-secret', id);
    await env.db.query(
      `insert into public.export_destinations
         (id, project_id, organization_id, name, endpoint, region, bucket, prefix, force_path_style, access_key_id, secret_ciphertext, verified_at, created_by)
       values ($1, $2, $3, 'saved-earlier', $4, 'us-east-1', 'probe-bucket', 'old', true, 'AKIAOLD', $5, now(), $6)`,
      [id, t.projectA, t.orgId, `http://127.0.0.1:${victim.port}`, sealed, t.people.owner.id],
    );
    const day = '2026-01-05';
    const requested = await post('', { destinationId: id, signal: 'logs', from: `${day}T00:00:00Z`, to: `${day}T01:00:00Z` });
    expect(requested.status).toBe(202);
    await env.deps.settle();
    const runId = (requested.body.export as { id: string }).id;
    const [run] = await env.db.query<{ status: string; error: string }>('select status, error from public.export_runs where id = $1', [runId]);
    expect(run).toEqual({ status: 'failed', error: `PutObject probe-bucket/old/${t.projectA}/logs/_schema.json failed: ${GENERIC}` });
    expect(victim.connections).toEqual([]);
  });

  it('DNS rebinding: a name that pointed at an allowed server when saved, and at loopback when the run connects, fails the run', async () => {
    // Name resolution is a dep: this one answers the allowed server until `moved`, then ::1 (same port).
    let moved = false;
    const resolve: ResolveHost = async () => (moved ? [{ address: '::1', family: 6 }] : [{ address: '127.0.0.1', family: 4 }]);
    const rebinding = createGatewayApp({ ...deps, outbound: createOutboundGuard(deps.config.outbound, { resolve }) });
    const created = await post('/destinations', destination(`http://s3.rebind.example:${bucketHost.port}`), rebinding);
    expect(created.status).toBe(201);
    expect(bucketHost.requests.map((r) => r.split('?')[0])).toEqual([`PUT /probe-bucket/${t.projectA}/_observai-check.json`]);
    const id = (created.body.destination as { id: string }).id;

    moved = true;
    const requested = await post('', { destinationId: id, signal: 'logs', from: '2026-01-06T00:00:00Z', to: '2026-01-06T01:00:00Z' }, rebinding);
    expect(requested.status).toBe(202);
    await env.deps.settle();
    const [run] = await env.db.query<{ status: string; error: string }>('select status, error from public.export_runs where id = $1', [
      (requested.body.export as { id: string }).id,
    ]);
    expect(run).toEqual({ status: 'failed', error: `PutObject probe-bucket/${t.projectA}/logs/_schema.json failed: ${GENERIC}` });
    expect(rebindVictim.connections).toEqual([]);
    expect(bucketHost.requests).toHaveLength(1);
  });
});
