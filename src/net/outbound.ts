/**
 * The one way out for URLs a tenant chooses (issue 17; docs/adr/0005-ssrf-guard.md). The address
 * policy (./address-policy.ts) is enforced where it cannot be dodged: inside the socket connect, on
 * the addresses the name resolves to at that moment. Checking a URL when it is saved is not enough:
 * its name can resolve elsewhere later (DNS rebinding), and a redirect names a new host.
 *
 * - `agents()`: node:http / node:https agents whose every new connection is checked: an IP literal
 *   before connecting, a host name through the `lookup` hook the socket uses to resolve it, so the
 *   socket connects to exactly the addresses that were checked. The AWS SDK's NodeHttpHandler takes
 *   them; Deno's node:http runs the same hooks (tests/e2e/exports-deno.test.ts).
 * - `fetch()`: a small fetch over those agents for notifiers and webhooks. It never follows a
 *   redirect: the 3xx comes back to the caller, and following it is another `fetch()`, checked again.
 *
 * Failures carry a `detail` for the server's log and a generic message for tenants: telling them
 * "connection refused" from "timed out" from "private address" would make this a port scanner.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkAddress, checkUrlShape, normaliseHost, type OutboundPolicy } from './address-policy.ts';

/** What a tenant is told for every refused, unreachable or non-answering destination. */
export const UNREACHABLE_MESSAGE = 'The destination could not be reached: no answer came from an allowed address';

export type OutboundFailure = 'invalid-url' | 'refused' | 'unreachable';

export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundFailure,
    /** Why, for the server's log only (addresses, ranges, errno codes). */
    readonly detail: string,
    opts: { cause?: unknown } = {},
  ) {
    // Only a malformed URL says what is wrong: that is about the text the caller wrote, not the network.
    super(kind === 'invalid-url' ? `The URL ${detail}` : UNREACHABLE_MESSAGE, opts);
    this.name = 'OutboundError';
  }
}

/** A host name -> its addresses (every family). Node and Deno: node:dns lookup (getaddrinfo, /etc/hosts included). */
export type ResolveHost = (host: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolve: ResolveHost = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

export interface GuardedFetchInit {
  method?: string;
  headers?: HeadersInit;
  body?: string | Uint8Array | null;
  signal?: AbortSignal;
  /** Whole request, body included; default 10 s. */
  timeoutMs?: number;
}

export interface OutboundGuard {
  /** The URL, parsed, when it is http(s) without credentials; otherwise an OutboundError('invalid-url'). */
  checkUrl(url: string | URL): URL;
  /**
   * Fresh agents (callers may destroy them) that connect only to allowed addresses; kept alive by
   * default. Rejects (refused) when this runtime's node:http does not run the agents' hooks.
   */
  agents(opts?: { keepAlive?: boolean }): Promise<{ http: http.Agent; https: https.Agent }>;
  /** One request, connected through the guard; redirects are returned, never followed. */
  fetch(url: string | URL, init?: GuardedFetchInit): Promise<Response>;
}

/** http.request or https.request, by the URL's scheme: the runtime's client, which the guard's agents plug into. */
export type RequestFn = (url: URL, options: http.RequestOptions, onResponse: (res: http.IncomingMessage) => void) => http.ClientRequest;

const runtimeRequest: RequestFn = (url, options, onResponse) => (url.protocol === 'https:' ? https : http).request(url, options, onResponse);

export function createOutboundGuard(policy: OutboundPolicy, opts: { resolve?: ResolveHost; request?: RequestFn } = {}): OutboundGuard {
  const resolve = opts.resolve ?? systemResolve;
  const request = opts.request ?? runtimeRequest;
  const makeAgents = (keepAlive: boolean, p: OutboundPolicy, r: ResolveHost) => ({
    http: guardConnections(new http.Agent({ keepAlive }), 80, p, r),
    https: guardConnections(new https.Agent({ keepAlive }), 443, p, r),
  });
  let hooksChecked: Promise<void> | undefined;
  const guard: OutboundGuard = {
    checkUrl(input) {
      let url: URL;
      try {
        url = new URL(input);
      } catch {
        throw new OutboundError('invalid-url', 'is not a valid URL');
      }
      const problem = checkUrlShape(url);
      if (problem) throw new OutboundError('invalid-url', problem);
      return url;
    },
    async agents({ keepAlive = true } = {}) {
      // The probe's lookup answers loopback for every name: whatever happens, it never leaves the host.
      await (hooksChecked ??= checkHooks(request, makeAgents(false, { allowPrivate: [], ports: 'any' }, async () => [{ address: '127.0.0.1', family: 4 }]).http));
      return makeAgents(keepAlive, policy, resolve);
    },
    fetch: (url, init) => guardedFetch(guard, request, url, init),
  };
  return guard;
}

/**
 * Fails closed on a runtime whose node:http does not call an agent's createConnection or pass its
 * `lookup` to the socket (older Deno versions implemented node:http over fetch and ignored agents):
 * once per guard, a loopback literal and a name (which the probe's lookup answers with loopback) must
 * both be refused by the hooks. If either is not, every outbound call of this guard is refused. At
 * worst the probe itself reaches the discard port (9) of this host, or fails to resolve .invalid.
 */
async function checkHooks(request: RequestFn, strict: http.Agent): Promise<void> {
  for (const url of ['http://127.0.0.1:9/', 'http://probe.invalid:9/']) {
    const outcome = await new Promise<unknown>((resolvePromise) => {
      const req = request(new URL(url), { agent: strict, method: 'HEAD' }, (res) => {
        res.resume();
        resolvePromise('answered');
      });
      req.on('error', resolvePromise);
      req.end();
    });
    if (!(outcome instanceof OutboundError && outcome.kind === 'refused')) {
      throw new OutboundError('refused', `this runtime's node:http ignored the guard's connection hooks (${url}: ${String((outcome as Error)?.message ?? outcome)})`);
    }
  }
}

type Oncreate = (err: Error | null, socket: Duplex) => void;

/**
 * Wraps the agent's createConnection. An IP literal never reaches `lookup` (net.connect skips it for
 * literals), so it is checked here; a name gets a per-connection lookup that knows the port and
 * refuses the whole name if any of its addresses is refused (a name that mixes public and private
 * answers is someone steering the connection).
 */
function guardConnections<A extends http.Agent>(agent: A, defaultPort: number, policy: OutboundPolicy, resolve: ResolveHost): A {
  const connect = agent.createConnection.bind(agent) as (options: http.ClientRequestArgs) => Duplex | null | undefined;
  const refuse = (oncreate: Oncreate | undefined, detail: string) => {
    // Asynchronously, as a failed connection would: the request emits it as its 'error'.
    queueMicrotask(() => oncreate?.(new OutboundError('refused', detail), undefined as unknown as Duplex));
    return undefined;
  };
  agent.createConnection = (options: http.ClientRequestArgs, oncreate?: Oncreate) => {
    if (options.socketPath) return refuse(oncreate, `a socket path (${options.socketPath}) is never an outbound destination`);
    const host = normaliseHost(options.host ?? options.hostname ?? 'localhost');
    const port = Number(options.port) || defaultPort;
    if (isIP(host)) {
      const reason = checkAddress(policy, { host, address: host, port });
      return reason ? refuse(oncreate, reason) : connect({ ...options, host });
    }
    return connect({ ...options, host, lookup: guardedLookup(policy, resolve, host, port) } as http.ClientRequestArgs);
  };
  return agent;
}

function guardedLookup(policy: OutboundPolicy, resolve: ResolveHost, host: string, port: number): LookupFunction {
  return (hostname, options, callback) => {
    const check = (found: Array<{ address: string; family: number }>) => {
      for (const a of found) {
        const reason = checkAddress(policy, { host, address: a.address, port });
        if (reason) throw new OutboundError('refused', reason);
      }
      const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
      if (wanted.length === 0) throw new OutboundError('unreachable', `${hostname} has no ${options.family ? `IPv${options.family} ` : ''}address`);
      return wanted;
    };
    resolve(hostname)
      .then(check)
      .then(
        (wanted) => (options.all ? callback(null, wanted) : callback(null, wanted[0]!.address, wanted[0]!.family)),
        (err: unknown) => callback(asOutboundError(err, `resolving ${hostname}`) as NodeJS.ErrnoException, ''),
      );
  };
}

/** Any failure on the way out, as an OutboundError whose detail keeps the original code for the log. */
export function asOutboundError(err: unknown, what: string): OutboundError {
  if (err instanceof OutboundError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  return new OutboundError('unreachable', `${what}: ${e.code ?? e.name ?? 'Error'} ${e.message ?? String(err)}`.slice(0, 500), { cause: err });
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

async function guardedFetch(guard: OutboundGuard, request: RequestFn, input: string | URL, init: GuardedFetchInit = {}): Promise<Response> {
  const url = guard.checkUrl(input);
  const method = (init.method ?? 'GET').toUpperCase();
  // Not kept alive: one request, then the socket closes with nothing pooled for the next tenant's URL.
  const agents = await guard.agents({ keepAlive: false });
  const agent = url.protocol === 'https:' ? agents.https : agents.http;
  const timeout = AbortSignal.timeout(init.timeoutMs ?? 10_000);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  return new Promise<Response>((resolvePromise, reject) => {
    const req = request(url, { method, headers, agent, signal }, (res) => {
      const responseHeaders = new Headers();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
      const status = res.statusCode ?? 502;
      if (method === 'HEAD' || NULL_BODY_STATUS.has(status)) {
        res.resume();
        resolvePromise(new Response(null, { status, statusText: res.statusMessage, headers: responseHeaders }));
        return;
      }
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          res.on('data', (chunk: Buffer) => {
            controller.enqueue(new Uint8Array(chunk));
            if ((controller.desiredSize ?? 1) <= 0) res.pause();
          });
          res.on('end', () => controller.close());
          res.on('error', (err) => controller.error(asOutboundError(err, `reading ${url.host}`)));
        },
        pull() {
          res.resume();
        },
        cancel() {
          res.destroy();
        },
      });
      resolvePromise(new Response(body, { status, statusText: res.statusMessage, headers: responseHeaders }));
    });
    req.on('error', (err) => {
      // The caller's own abort stays theirs; everything else is one generic failure.
      reject(init.signal?.aborted ? init.signal.reason : asOutboundError(err, `${method} ${url.host}`));
    });
    req.end(init.body ?? undefined);
  });
}
