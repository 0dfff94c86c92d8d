/**
 * One request of one batch, and what its answer means for the batch. The ingest answer
 * (docs/API.md#ingest): 2xx `{ accepted, rejected, duplicates, errors: [{ index, field, message }] }`
 * means every event of the request is settled, stored, already stored, or refused for good (an event
 * past the acceptance window or the series limit is no better the second time), so nothing of a 2xx
 * is ever sent again; `400 VALIDATION_FAILED` refuses them all; 408, 429 and 5xx (with Retry-After)
 * and network failures or timeouts leave the request to be sent again, whole, byte for byte: its
 * events carry ids, so what the server had already stored is acknowledged as a duplicate.
 */
import { isRetryableStatus, parseRetryAfter } from './retry.ts';

export type Outcome =
  | { kind: 'answered'; accepted: number; duplicates: number; rejected: number; errors: unknown[] }
  | { kind: 'retry'; retryAfterMs: number | undefined; reason: string; status?: number }
  | { kind: 'failed'; status: number; reason: string; details: unknown };

export interface RequestSpec {
  url: string;
  apiKey: string;
  body: Uint8Array;
  gzip: boolean;
  timeoutMs: number;
  keepalive: boolean;
  fetch: (input: string, init: RequestInit) => Promise<Response>;
}

export async function sendOnce(r: RequestSpec, events: number): Promise<Outcome> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': r.apiKey };
  if (r.gzip) headers['content-encoding'] = 'gzip';
  const signal = timeoutSignal(r.timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await r.fetch(r.url, { method: 'POST', headers, body: r.body as BodyInit, signal: signal.signal, ...(r.keepalive ? { keepalive: true } : {}) });
    text = await res.text();
  } catch (err) {
    return { kind: 'retry', retryAfterMs: undefined, reason: `request failed: ${describe(err)}` };
  } finally {
    signal.done();
  }
  if (res.ok) {
    const a = parseJson(text) as { accepted?: unknown; duplicates?: unknown; rejected?: unknown; errors?: unknown } | undefined;
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    // An unreadable 2xx (a proxy's page) still means the request was taken: counted as accepted.
    if (!a) return { kind: 'answered', accepted: events, duplicates: 0, rejected: 0, errors: [] };
    return { kind: 'answered', accepted: n(a.accepted), duplicates: n(a.duplicates), rejected: n(a.rejected), errors: Array.isArray(a.errors) ? a.errors : [] };
  }
  const envelope = (parseJson(text) as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
  const reason = `${res.status}${envelope?.code ? ` ${envelope.code}` : ''}: ${envelope?.message ?? text.slice(0, 200)}`;
  if (isRetryableStatus(res.status)) return { kind: 'retry', retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), Date.now()), reason, status: res.status };
  if (res.status === 400 && envelope?.code === 'VALIDATION_FAILED') {
    return { kind: 'answered', accepted: 0, duplicates: 0, rejected: events, errors: Array.isArray(envelope.details) ? envelope.details : [] };
  }
  return { kind: 'failed', status: res.status, reason, details: envelope };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

/** AbortSignal.timeout where it exists (its timer does not keep Node alive), else a controller and a timer. */
function timeoutSignal(ms: number): { signal: AbortSignal; done(): void } {
  if (typeof AbortSignal.timeout === 'function') return { signal: AbortSignal.timeout(ms), done: () => {} };
  const c = new AbortController();
  const t = setTimeout(() => c.abort(), ms);
  return { signal: c.signal, done: () => clearTimeout(t) };
}

const encoder = new TextEncoder();

/** The body as bytes, gzipped with CompressionStream (over 1 KiB, where it exists). */
export async function encodeBody(json: string, gzip: boolean): Promise<{ body: Uint8Array; gzip: boolean }> {
  const raw = encoder.encode(json);
  if (!gzip || raw.byteLength < 1024 || typeof CompressionStream === 'undefined') return { body: raw, gzip: false };
  try {
    const stream = new Blob([raw as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
    return { body: new Uint8Array(await new Response(stream).arrayBuffer()), gzip: true };
  } catch {
    return { body: raw, gzip: false };
  }
}
