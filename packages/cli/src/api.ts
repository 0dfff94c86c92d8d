/**
 * Requests to the functions base (`…/functions/v1`) with the chosen credential: a user token as
 * `Authorization: Bearer`, an API key as `x-api-key`. Every failure becomes a CliError: the server's
 * envelope with its code and message, a timeout, or a network failure, each with its exit code.
 */
import type { Credential } from './config.ts';
import { CliError, EXIT, serverError } from './errors.ts';
import { VERSION } from './version.ts';

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface ApiOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Adds a hint to a server error (an expired token, a project to name). */
  hint?: (err: CliError) => string | undefined;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export class Api {
  /**
   * `blocked`: why no request can be made (no URL, no credential). Thrown by the first request, not
   * here, so that a command's own flags are checked first: a bad flag is exit 2 even when logged out.
   */
  constructor(
    private readonly baseUrl: string,
    private readonly cred: Credential | undefined,
    private readonly opts: ApiOptions,
    private readonly blocked?: CliError,
  ) {}

  get base(): string {
    if (this.blocked) throw this.blocked;
    return this.baseUrl;
  }

  get credential(): Credential | undefined {
    if (this.blocked) throw this.blocked;
    return this.cred;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { 'user-agent': `observai-cli/${VERSION} node/${process.version}`, ...extra };
    if (this.credential?.kind === 'token') h.authorization = `Bearer ${this.credential.value}`;
    else if (this.credential?.kind === 'apiKey') h['x-api-key'] = this.credential.value;
    return h;
  }

  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === false) continue;
      params.set(k, Array.isArray(v) ? v.join(',') : String(v));
    }
    const qs = params.toString();
    return `${this.base}${path}${qs ? `?${qs}` : ''}`;
  }

  /** One request; a non-2xx answer throws the server's error. The timeout covers the whole exchange. */
  async call<T>(method: string, path: string, o: { query?: Query; body?: unknown; timeoutMs?: number; anonymous?: boolean } = {}): Promise<ApiResponse<T>> {
    const headers = o.anonymous ? { 'user-agent': `observai-cli/${VERSION} node/${process.version}` } : this.headers();
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const url = this.url(path, o.query);
    const timeoutMs = o.timeoutMs ?? this.opts.timeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.opts.fetch(url, {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        signal: AbortSignal.any([this.opts.signal, timeout.signal]),
        redirect: 'manual',
      });
      text = await res.text();
    } catch (err) {
      throw this.failure(err, url, timeout.signal.aborted, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      const err = serverError(res.status, text, res.headers);
      throw err.withHint(err.extra.hint ?? this.opts.hint?.(err));
    }
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        throw new CliError(EXIT.ERROR, 'BAD_RESPONSE', `${method} ${path} answered ${res.status} with a body that is not JSON`);
      }
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.call<T>('GET', path, { query }).then((r) => r.body);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, { body: body ?? {} }).then((r) => r.body);
  }

  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path).then((r) => r.body);
  }

  /**
   * A streaming GET (Server-Sent Events): the timeout covers the answer's headers only. A non-2xx
   * answer throws as `call` does; `signal` ends the stream.
   */
  async stream(path: string, query: Query, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const url = this.url(path, query);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.opts.timeoutMs);
    let res: Response;
    try {
      res = await this.opts.fetch(url, {
        method: 'GET',
        headers: this.headers({ accept: 'text/event-stream', ...headers }),
        // The timeout's signal stays in the mix, but its timer is cleared once the headers are in.
        signal: AbortSignal.any([this.opts.signal, signal, timeout.signal]),
        redirect: 'manual',
      });
    } catch (err) {
      throw this.failure(err, url, timeout.signal.aborted, this.opts.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      const err = serverError(res.status, await res.text().catch(() => ''), res.headers);
      throw err.withHint(err.extra.hint ?? this.opts.hint?.(err));
    }
    return res;
  }

  private failure(err: unknown, url: string, timedOut: boolean, timeoutMs: number): CliError {
    const origin = new URL(url).origin;
    if (this.opts.signal.aborted) return new CliError(EXIT.INTERRUPTED, 'INTERRUPTED', 'interrupted');
    if (timedOut) return new CliError(EXIT.ERROR, 'TIMEOUT', `${origin} did not answer within ${Math.round(timeoutMs / 1000)} s`, { hint: 'observai doctor checks the connection; --timeout waits longer' });
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return new CliError(EXIT.ERROR, 'NETWORK', `cannot reach ${origin}: ${why}`, { hint: 'is the server running? observai doctor checks the connection' });
  }
}
