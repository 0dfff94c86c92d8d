import type { DemoEvents } from './model.ts';

export type SendResult =
  | { ok: true; accepted: number; duplicates: number; rejected: number; firstError?: string }
  /** retryable: worth sending again unchanged (network, 408, 429, 5xx); retryAfterMs from the answer. */
  | { ok: false; retryable: boolean; status: number | null; retryAfterMs?: number; message: string };

/**
 * One POST of a batch to the ingest function, as any client sends it (the native JSON format,
 * the project's API key). Failures are results, not exceptions: the caller decides to wait and retry.
 */
export async function sendBatch(fetchFn: typeof fetch, url: string, apiKey: string, events: DemoEvents, now: () => number): Promise<SendResult> {
  let res: Response;
  try {
    res = await fetchFn(`${url}/ingest`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json', 'user-agent': 'observai-demo-data' },
      body: JSON.stringify(events),
      // A send that hangs is given up and retried: stopping the gateway waits for it.
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    return { ok: false, retryable: true, status: null, message: (err as Error).message };
  }
  const text = await res.text().catch(() => '');
  if (res.ok) {
    const body = parseJson(text) as { accepted?: number; duplicates?: number; rejected?: number; errors?: Array<{ field?: string; message?: string }> } | null;
    const first = body?.errors?.[0];
    return {
      ok: true,
      accepted: body?.accepted ?? 0,
      duplicates: body?.duplicates ?? 0,
      rejected: body?.rejected ?? 0,
      ...(first ? { firstError: `${first.field ?? ''} ${first.message ?? ''}`.trim() } : {}),
    };
  }
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
  const error = (parseJson(text) as { error?: { code?: string; message?: string } } | null)?.error;
  return {
    ok: false,
    retryable: res.status === 408 || res.status === 429 || res.status >= 500,
    status: res.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    message: error ? `${error.code ?? res.status}: ${error.message ?? ''}` : `HTTP ${res.status}`,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with full jitter between 1 s and 60 s, never sooner than Retry-After. */
export function backoffMs(attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const ceiling = Math.min(60_000, 1000 * 2 ** Math.min(attempt - 1, 10));
  const jittered = Math.max(250, random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}
