import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { CredentialEndReason } from '../auth/stream-credential.ts';
import type { Deps } from '../core/deps.ts';
import type { AppEnv } from './context.ts';
import type { StreamLease, StreamSlots } from './stream-slots.ts';

/** Stream timing: poll interval, heartbeat comment, and how long one stream lasts before `end`. */
export const STREAM_TIMING = { pollMs: 1000, heartbeatMs: 15_000, maxDurationMs: 15 * 60_000 };
export type StreamTiming = typeof STREAM_TIMING;

/** What a stream writes to (Hono's SSEStreamingApi is one). */
export interface SseSink {
  writeSSE(message: { event?: string; data: string; id?: string; retry?: number }): Promise<void>;
  write(text: string): Promise<unknown>;
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/**
 * What a stream sends: polled once per interval. `lastId` is the id a client resumes after (read after
 * each poll, for `ready` and `end`); `end` means nothing was sent and no later poll would send anything.
 */
export interface StreamSource {
  readonly lastId: string;
  poll(): Promise<{ events: SseEvent[]; end?: CredentialEndReason }>;
}

/** What a kind of stream is called in its log lines (`live tail`) and its error event (`Reading logs failed`). */
export interface StreamKind {
  name: string;
  reading: string;
}

export type StreamEndReason = CredentialEndReason | 'max_duration';

const END_MESSAGES: Record<StreamEndReason, string> = {
  max_duration: 'The stream reached its time limit; reconnect to resume',
  credential_revoked: 'The API key was revoked or deleted; the stream is closed',
  credential_expired: 'The credential expired; reconnect with a valid one to resume',
  access_revoked: 'Access to the project was removed; the stream is closed',
};

/**
 * Runs a source as Server-Sent Events: `ready` { lastId }, then the events each poll returns (ids
 * chosen by the source, so EventSource resumes after the last one), a heartbeat comment when idle,
 * and `end` { reason, message, lastId } when the stream stops for a reason of its own: max_duration,
 * or the credential no longer holding (credential_revoked, credential_expired, access_revoked: the
 * source checks on every poll, so within one poll interval). A failed poll sends `error`. Stops
 * without a word when the client leaves (`closed`). The lease's slots are renewed as it polls and
 * given back however it stops. Time is measured and slept on deps.clock.
 */
export async function streamSse(
  deps: Pick<Deps, 'clock' | 'logger'>,
  kind: StreamKind,
  source: StreamSource,
  lease: StreamLease,
  sink: SseSink,
  closed: Promise<void>,
  timing: StreamTiming = STREAM_TIMING,
): Promise<void> {
  let open = true;
  const stop = new AbortController();
  void closed.then(() => {
    open = false;
    stop.abort();
  });
  const now = () => deps.clock.now().getTime();
  const end = (reason: StreamEndReason) =>
    sink.writeSSE({ event: 'end', id: source.lastId, data: JSON.stringify({ reason, message: END_MESSAGES[reason], lastId: source.lastId }) });
  try {
    const started = now();
    let lastWrite = started;
    await sink.writeSSE({ event: 'ready', data: JSON.stringify({ lastId: source.lastId }), id: source.lastId, retry: 1000 });
    while (open) {
      if (now() - started >= timing.maxDurationMs) return await end('max_duration');
      let batch;
      try {
        batch = await source.poll();
      } catch (err) {
        deps.logger.warn({ err }, `${kind.name} poll failed`);
        return await sink.writeSSE({ event: 'error', data: JSON.stringify({ message: `Reading ${kind.reading} failed; reconnect to resume` }) });
      }
      if (!open) return;
      if (batch.end) return await end(batch.end);
      for (const e of batch.events) await sink.writeSSE(e);
      if (batch.events.length > 0) lastWrite = now();
      else if (now() - lastWrite >= timing.heartbeatMs) {
        await sink.write(': heartbeat\n\n');
        lastWrite = now();
      }
      await lease.renew();
      await deps.clock.sleep(timing.pollMs, stop.signal);
    }
  } finally {
    await lease.release();
  }
}

/**
 * Answers a request with a stream: takes a slot under the caps first (a full cap is a 429 before any
 * byte is sent), counted under the caller (its API key, or the user) and the source's project, then
 * runs the source as SSE until it ends or the client leaves.
 */
export async function respondWithStream(
  c: Context<AppEnv>,
  deps: Pick<Deps, 'clock' | 'logger'>,
  kind: StreamKind,
  slots: StreamSlots,
  source: StreamSource & { readonly projectId: string },
): Promise<Response> {
  const identity = c.get('identity');
  const lease = await slots.acquire({
    projectId: source.projectId,
    keyId: identity.kind === 'apiKey' ? identity.keyId : undefined,
    userId: identity.kind === 'user' ? identity.userId : undefined,
  });
  return streamSSE(c, (stream) => streamSse(deps, kind, source, lease, stream, new Promise<void>((resolve) => stream.onAbort(resolve))));
}
