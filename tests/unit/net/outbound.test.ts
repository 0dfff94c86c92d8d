/**
 * The outbound guard at connect time, against real local servers: a "victim" that records every TCP
 * connection it accepts (it must see none), an allowed server, an allowed server that redirects to
 * the victim, and a TLS server whose certificate names `localhost`. Name resolution is a plain
 * function dep, so a test can answer differently on the second lookup (DNS rebinding).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS, type OutboundPolicy, parseAllowList, parsePortRule } from '../../../src/net/address-policy.ts';
import { createOutboundGuard, OutboundError, type RequestFn, type ResolveHost, systemResolve, UNREACHABLE_MESSAGE } from '../../../src/net/outbound.ts';

interface Recorder {
  port: number;
  connections: string[];
  requests: string[];
  close(): Promise<void>;
}

/** An HTTP server that answers 200 (or what `answer` writes) and records every connection and request. */
async function startServer(host: string, answer?: (req: http.IncomingMessage, res: http.ServerResponse) => void, port = 0): Promise<Recorder> {
  const connections: string[] = [];
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    if (answer) answer(req, res);
    else res.end('hello from the server');
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

const policy = (allow = '', ports = DEFAULT_ALLOWED_PORTS): OutboundPolicy => ({ allowPrivate: parseAllowList(allow), ports: parsePortRule(ports) });

async function refusal(p: Promise<unknown>): Promise<OutboundError> {
  const err = await p.then(
    () => {
      throw new Error('expected the request to be refused');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutboundError);
  return err as OutboundError;
}

describe('outbound guard', () => {
  let victim: Recorder;
  let victim6: Recorder;
  let allowed: Recorder;
  let redirector: Recorder;

  beforeAll(async () => {
    victim = await startServer('127.0.0.1');
    // The same port on ::1: a name that rebinds from the allowed 127.0.0.1:<port> to ::1 lands here.
    allowed = await startServer('127.0.0.1');
    victim6 = await startServer('::1', undefined, allowed.port);
    redirector = await startServer('127.0.0.1', (_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${victim.port}/latest/meta-data/` });
      res.end();
    });
  });

  afterAll(async () => {
    await Promise.all([victim, victim6, allowed, redirector].map((s) => s?.close()));
  });

  it('reaches an allowed address and returns its answer', async () => {
    const guard = createOutboundGuard(policy(`127.0.0.1:${allowed.port}`));
    const res = await guard.fetch(`http://127.0.0.1:${allowed.port}/hook`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello from the server');
    expect(allowed.requests.at(-1)).toBe('POST /hook');
  });

  it.each([
    // url, what it tries (the victim must see no connection for any of them)
    ['http://127.0.0.1:{victim}/', 'loopback literal'],
    ['http://localhost:{victim}/', 'a name that resolves to loopback (through the lookup hook)'],
    ['http://[::ffff:127.0.0.1]:{victim}/', 'IPv4-mapped loopback'],
    ['http://0.0.0.0:{victim}/', '0.0.0.0, which Linux connects to the local host'],
    ['http://2130706433:{victim}/', 'loopback as one decimal number (the URL parser makes it 127.0.0.1)'],
    ['http://0x7f.1:{victim}/', 'loopback in hex shorthand'],
    ['http://[::1]:{allowed}/', 'IPv6 loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'the cloud metadata service'],
    ['http://10.0.0.1/', 'a private address'],
    ['http://127.0.0.1:{allowed}/', 'allowed address, but not in this policy'],
  ])('refuses %s (%s) before connecting, with the generic message', async (template, _what) => {
    const guard = createOutboundGuard(policy());
    const url = template.replace('{victim}', String(victim.port)).replace('{allowed}', String(allowed.port));
    const before = [victim.connections.length, victim6.connections.length, allowed.connections.length];
    const err = await refusal(guard.fetch(url));
    expect(err.kind).toBe('refused');
    expect(err.message).toBe(UNREACHABLE_MESSAGE);
    expect([victim.connections.length, victim6.connections.length, allowed.connections.length]).toEqual(before);
  });

  it('does not follow a redirect; following it is a new request, checked again', async () => {
    const guard = createOutboundGuard(policy(`127.0.0.1:${redirector.port}`));
    const res = await guard.fetch(`http://127.0.0.1:${redirector.port}/start`);
    expect(res.status).toBe(307);
    const location = res.headers.get('location')!;
    expect(location).toBe(`http://127.0.0.1:${victim.port}/latest/meta-data/`);
    const err = await refusal(guard.fetch(new URL(location, res.url || undefined)));
    expect(err.message).toBe(UNREACHABLE_MESSAGE);
    expect(redirector.requests).toEqual(['GET /start']);
    expect(victim.connections).toEqual([]);
  });

  it('resolves at every connection: a name that rebinds to a refused address is refused then', async () => {
    let lookups = 0;
    // First answer: the allowed server. Later answers: ::1, where the victim listens on the same port.
    const rebinding: ResolveHost = async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '::1', family: 6 }]);
    const guard = createOutboundGuard(policy(`127.0.0.1:${allowed.port}`), { resolve: rebinding });
    const url = `http://bucket.rebind.example:${allowed.port}/object`;
    expect((await guard.fetch(url)).status).toBe(200);
    const err = await refusal(guard.fetch(url));
    expect(err.detail).toMatch(/::1 \(for bucket\.rebind\.example\) is loopback/);
    expect(lookups).toBe(2);
    expect(victim6.connections).toEqual([]);
  });

  it('refuses a name whose answers mix public and private addresses', async () => {
    const mixed: ResolveHost = async () => [
      { address: '52.216.0.1', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const guard = createOutboundGuard(policy('', '*'), { resolve: mixed });
    const err = await refusal(guard.fetch(`http://s3.mixed.example:${victim.port}/`));
    expect(err.detail).toMatch(/127\.0\.0\.1 \(for s3\.mixed\.example\) is loopback/);
    expect(victim.connections).toEqual([]);
  });

  it('refuses a public address on a port outside OUTBOUND_ALLOWED_PORTS', async () => {
    const guard = createOutboundGuard(policy(), { resolve: async () => [{ address: '52.216.0.1', family: 4 }] });
    const err = await refusal(guard.fetch('http://s3.example:6379/'));
    expect(err.detail).toBe('port 6379 is not in OUTBOUND_ALLOWED_PORTS');
  });

  it('allows a host name the operator listed, wherever it resolves', async () => {
    const guard = createOutboundGuard(policy(`localhost:${allowed.port}`));
    expect((await guard.fetch(`http://localhost:${allowed.port}/`)).status).toBe(200);
    // Listing the name does not allow the address under another name.
    expect((await refusal(guard.fetch(`http://127.0.0.1:${allowed.port}/`))).kind).toBe('refused');
  });

  it('a failed connection to an allowed address reads the same as a refusal; the log keeps the errno', async () => {
    const closed = await startServer('127.0.0.1');
    await closed.close();
    const guard = createOutboundGuard(policy(`127.0.0.1:${closed.port}`));
    const err = await refusal(guard.fetch(`http://127.0.0.1:${closed.port}/`));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(UNREACHABLE_MESSAGE);
    expect(err.detail).toMatch(/ECONNREFUSED/);
  });

  it('refuses URLs with credentials or other schemes, saying so', async () => {
    const guard = createOutboundGuard(policy('', '*'));
    for (const [url, message] of [
      ['https://user:pw@s3.example.com/', 'The URL must not contain a user name or password'],
      ['file:///etc/passwd', 'The URL must be an http or https URL'],
      ['not a url', 'The URL is not a valid URL'],
    ]) {
      const err = await refusal(guard.fetch(url!));
      expect([err.kind, err.message]).toEqual(['invalid-url', message]);
    }
  });

  it('its agents refuse a unix socket path', async () => {
    const { http: agent } = await createOutboundGuard(policy('', '*')).agents();
    const err = await new Promise<Error>((resolve) => {
      const req = http.request({ socketPath: '/var/run/docker.sock', path: '/containers/json', agent }, () => resolve(new Error('answered')));
      req.on('error', resolve);
      req.end();
    });
    expect(err).toBeInstanceOf(OutboundError);
    agent.destroy();
  });

  it('fails closed on a runtime whose node:http ignores the agents (as older Deno did)', async () => {
    const probes: string[] = [];
    // The runtime's client stand-in: it drops the agent, so no hook of the guard ever runs.
    const ignoresAgents: RequestFn = (url, options, onResponse) => {
      probes.push(url.href);
      return http.request(url, { ...options, agent: undefined }, onResponse);
    };
    const guard = createOutboundGuard(policy(`127.0.0.1:${allowed.port}`), { request: ignoresAgents });
    const before = allowed.requests.length;
    const err = await refusal(guard.fetch(`http://127.0.0.1:${allowed.port}/`));
    expect(err.message).toBe(UNREACHABLE_MESSAGE);
    expect(err.detail).toMatch(/ignored the guard's connection hooks \(http:\/\/127\.0\.0\.1:9\/: .*ECONNREFUSED/);
    // The probe went to the discard port only; the allowed server was not asked, now or later.
    expect(probes).toEqual(['http://127.0.0.1:9/']);
    await expect(guard.agents()).rejects.toBeInstanceOf(OutboundError);
    expect(allowed.requests.length).toBe(before);
  });

  it('systemResolve reads the hosts file like the sockets do', async () => {
    expect(await systemResolve('localhost')).toContainEqual(expect.objectContaining({ address: '127.0.0.1', family: 4 }));
  });

  describe('TLS', () => {
    let dir: string;
    let cert: Buffer;
    let server: https.Server;
    let port: number;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'observai-tls-'));
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      cert = readFileSync(join(dir, 'cert.pem'));
      server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) => res.end('tls ok'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const get = (agent: https.Agent, host: string) =>
      new Promise<string>((resolve, reject) => {
        const req = https.request({ host, port, path: '/', agent, ca: cert }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });

    it('connects to the checked address while verifying the certificate against the host name', async () => {
      const guard = createOutboundGuard(policy(`127.0.0.1:${port}`));
      const { https: agent } = await guard.agents();
      expect(await get(agent, 'localhost')).toBe('tls ok');
      // The certificate names localhost, not 127.0.0.1: the name, not the address, is what TLS checks.
      await expect(get(agent, '127.0.0.1')).rejects.toThrow(/IP: 127.0.0.1 is not in the cert's list/);
      agent.destroy();
    });

    it('refuses the same server when its address is not allowed', async () => {
      const { https: agent } = await createOutboundGuard(policy()).agents();
      await expect(get(agent, 'localhost')).rejects.toBeInstanceOf(OutboundError);
      agent.destroy();
    });
  });
});
