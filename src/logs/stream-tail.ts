import type { Deps } from '../core/deps.ts';
import { type SseSink, STREAM_TIMING, type StreamSource, streamSse, type StreamTiming } from '../http/sse-stream.ts';
import { createStreamSlots, type StreamLease, type StreamSlots } from '../http/stream-slots.ts';
import type { LogTail } from './tail-logs.ts';

/** The live tail as a kind of stream: its name in messages, and its slot sets' prefix (`tail:key:<id>`, ...). */
export const LIVE_TAIL = { name: 'live tail', plural: 'live tails', reading: 'logs', prefix: 'tail' };

/** The caps on open tails (LOG_TAIL_MAX_*): one per process, built with the logs routes. */
export function createTailSlots(deps: Pick<Deps, 'cache' | 'clock' | 'config' | 'ids' | 'logger'>): StreamSlots {
  return createStreamSlots(deps, { ...LIVE_TAIL, caps: deps.config.logTail });
}

/**
 * A tail's lines as events: a `log` event per line (its id the log's public id, so EventSource resumes
 * after it), then `dropped` { count, lastId } when lines were skipped.
 */
export function logTailSource(tail: LogTail): StreamSource & { readonly projectId: string } {
  return {
    projectId: tail.projectId,
    get lastId() {
      return tail.lastId;
    },
    async poll() {
      const batch = await tail.poll();
      if (batch.end) return { events: [], end: batch.end };
      const events = batch.logs.map((line) => ({ event: 'log', id: line.id, data: JSON.stringify(line) }));
      if (batch.dropped > 0) events.push({ event: 'dropped', id: tail.lastId, data: JSON.stringify({ count: batch.dropped, lastId: tail.lastId }) });
      return { events };
    },
  };
}

/** Runs an open tail as Server-Sent Events (src/http/sse-stream.ts has the protocol); the route does it through respondWithStream. */
export function streamLogTail(
  deps: Pick<Deps, 'clock' | 'logger'>,
  tail: LogTail,
  lease: StreamLease,
  sink: SseSink,
  closed: Promise<void>,
  timing: StreamTiming = STREAM_TIMING,
): Promise<void> {
  return streamSse(deps, LIVE_TAIL, logTailSource(tail), lease, sink, closed, timing);
}
