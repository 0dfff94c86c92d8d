import type { Deps } from '../core/deps.ts';
import type { LogTail, TailEndReason } from './tail-logs.ts';
import type { TailLease } from './tail-slots.ts';

/** Live tail timing: poll interval, heartbeat comment, and how long one stream lasts before `end`. */
export const TAIL_TIMING = { pollMs: 1000, heartbeatMs: 15_000, maxDurationMs: 15 * 60_000 };

/** What a stream writes to (Hono's SSEStreamingApi is one). */
export interface SseSink {
  writeSSE(message: { event?: string; data: string; id?: string; retry?: number }): Promise<void>;
  write(text: string): Promise<unknown>;
}

export type StreamEndReason = TailEndReason | 'max_duration';

const END_MESSAGES: Record<StreamEndReason, string> = {
  max_duration: 'The stream reached its time limit; reconnect to resume',
  credential_revoked: 'The API key was revoked or deleted; the stream is closed',
  credential_expired: 'The credential expired; reconnect with a valid one to resume',
  access_revoked: 'Access to the project was removed; the stream is closed',
};

/**
 * Runs an open tail as Server-Sent Events: `ready`, then a `log` event per line (its id the log's
 * public id, so EventSource resumes after it), `dropped` when lines were skipped, a heartbeat
 * comment when idle, and `end` { reason, message, lastId } when the stream stops for a reason of its
 * own: max_duration, or the credential no longer holding (credential_revoked, credential_expired,
 * access_revoked: checked on every poll, so within one poll interval). A failed poll sends `error`.
 * Stops without a word when the client leaves (`closed`). The lease's slots are renewed as it polls
 * and given back however it stops. Time is measured and slept on deps.clock.
 */
export async function streamLogTail(
  deps: Pick<Deps, 'clock' | 'logger'>,
  tail: LogTail,
  lease: TailLease,
  sink: SseSink,
  closed: Promise<void>,
  timing: typeof TAIL_TIMING = TAIL_TIMING,
): Promise<void> {
  let open = true;
  const stop = new AbortController();
  void closed.then(() => {
    open = false;
    stop.abort();
  });
  const now = () => deps.clock.now().getTime();
  const end = (reason: StreamEndReason) =>
    sink.writeSSE({ event: 'end', id: tail.lastId, data: JSON.stringify({ reason, message: END_MESSAGES[reason], lastId: tail.lastId }) });
  try {
    const started = now();
    let lastWrite = started;
    await sink.writeSSE({ event: 'ready', data: JSON.stringify({ lastId: tail.lastId }), id: tail.lastId, retry: 1000 });
    while (open) {
      if (now() - started >= timing.maxDurationMs) return await end('max_duration');
      let batch;
      try {
        batch = await tail.poll();
      } catch (err) {
        deps.logger.warn({ err }, 'live tail poll failed');
        return await sink.writeSSE({ event: 'error', data: JSON.stringify({ message: 'Reading logs failed; reconnect to resume' }) });
      }
      if (!open) return;
      if (batch.end) return await end(batch.end);
      for (const line of batch.logs) await sink.writeSSE({ event: 'log', id: line.id, data: JSON.stringify(line) });
      if (batch.dropped > 0) await sink.writeSSE({ event: 'dropped', id: tail.lastId, data: JSON.stringify({ count: batch.dropped, lastId: tail.lastId }) });
      if (batch.logs.length > 0 || batch.dropped > 0) lastWrite = now();
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
