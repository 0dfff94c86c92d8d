import { type Clock, systemClock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { generateEvents, splitEvents } from './generate-events.ts';
import { eventCount } from './model.ts';
import { backoffMs, sendBatch } from './send-batch.ts';
import { MINUTE, SERVICES } from './shop.ts';

export interface DemoDataOptions {
  /** The functions' base URL, e.g. http://127.0.0.1:54321/functions/v1. */
  url: string;
  /** The demo project's API key (scopes ingest and read: it also finds where the last run stopped). */
  apiKey: string;
  /** Same seed, same events: the demo project's id, so a restart re-sends nothing new for a window. */
  seed: string;
  logger: Logger;
  clock?: Clock;
  fetch?: typeof fetch;
  /** How often the live loop sends (ms). Default 10 s. */
  tickMs?: number;
  /** How far back the first start fills (ms). Default 6 hours. */
  backfillMs?: number;
  /** Events per request. Default 2,000 (about 600 KB of JSON, under the 10,000 events and 5 MiB limits). */
  batchEvents?: number;
}

export interface DemoDataGenerator {
  /** Resolves once the backfill is sent (with the number of events sent), or when stopped first. */
  readonly backfilled: Promise<number>;
  /** Stops the loop: waits for a send in flight, sends nothing after. */
  stop(): Promise<void>;
}

/** The backfill goes out in windows of this length, so the gateway's event loop is never held long. */
const CHUNK_MS = 30 * MINUTE;

class Stopped extends Error {}

/**
 * The demo project's sample data, sent through the real ingest path over HTTP: on start it fills the
 * hours the project has no data for (up to `backfillMs`), then every `tickMs` it sends what the
 * shop emitted since. A failure is logged and retried with backoff; nothing here throws into the
 * gateway. The project's newest demo log says where a previous run stopped.
 */
export function startDemoData(opts: DemoDataOptions): DemoDataGenerator {
  const clock = opts.clock ?? systemClock;
  const fetchFn = opts.fetch ?? fetch;
  const tickMs = opts.tickMs ?? 10_000;
  const backfillMs = opts.backfillMs ?? 6 * 3_600_000;
  const batchEvents = opts.batchEvents ?? 2000;
  const logger = opts.logger.child({ component: 'demo-data' });
  const abort = new AbortController();
  let resolveBackfilled!: (n: number) => void;
  const backfilled = new Promise<number>((resolve) => (resolveBackfilled = resolve));
  let attempt = 0;
  let failing = false;

  const sleep = async (ms: number) => {
    await clock.sleep(ms, abort.signal);
    if (abort.signal.aborted) throw new Stopped();
  };

  /** Waits before the next attempt after a failure; logs the first of a run of failures only. */
  const failed = async (what: string, message: string, retryAfterMs?: number) => {
    attempt++;
    if (!failing) logger.warn({ err: message }, `demo data: ${what} failed; retrying with backoff`);
    failing = true;
    await sleep(backoffMs(attempt, retryAfterMs));
  };
  const recovered = () => {
    if (failing) logger.info('demo data: sending again');
    failing = false;
    attempt = 0;
  };

  /** Where to start: after the newest demo log of the backfill period, or the whole period when none. */
  const resumeFrom = async (): Promise<number> => {
    for (;;) {
      const now = clock.now().getTime();
      const from = now - backfillMs;
      const q = new URLSearchParams({ service: SERVICES.join(','), from: new Date(from).toISOString(), to: new Date(now + 10 * MINUTE).toISOString(), limit: '1' });
      try {
        const res = await fetchFn(`${opts.url}/logs/search?${q}`, { headers: { 'x-api-key': opts.apiKey } });
        if (res.status === 401 || res.status === 403) throw new Refused(res.status);
        if (res.ok) {
          const { logs } = (await res.json()) as { logs: Array<{ time: string }> };
          recovered();
          // A minute back: the last run's final window may have sent logs ahead of its metrics' minute.
          return logs[0] ? Math.max(from, Date.parse(logs[0].time) - MINUTE) : from;
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          // The search refused the question itself: fill the whole period, the ingest drops what it has.
          logger.warn({ status: res.status }, 'demo data: could not find where the last run stopped; sending the whole backfill period');
          return from;
        }
        await failed('finding where the last run stopped', `HTTP ${res.status}`);
      } catch (err) {
        if (err instanceof Stopped || err instanceof Refused) throw err;
        await failed('finding where the last run stopped', (err as Error).message);
      }
    }
  };

  /** Sends [from, to) in batches, each retried until it is stored (or refused for good). */
  const sendWindow = async (from: number, to: number): Promise<number> => {
    const events = generateEvents(opts.seed, from, to);
    for (const batch of splitEvents(events, batchEvents)) {
      for (;;) {
        if (abort.signal.aborted) throw new Stopped();
        const result = await sendBatch(fetchFn, opts.url, opts.apiKey, batch, () => clock.now().getTime());
        if (result.ok) {
          recovered();
          if (result.rejected > 0) logger.warn({ rejected: result.rejected, firstError: result.firstError }, 'demo data: ingest refused some events');
          break;
        }
        if (result.status === 401 || result.status === 403) throw new Refused(result.status);
        if (!result.retryable) {
          // Our own events refused as a whole (400, 413): a bug here, not worth repeating.
          logger.error({ status: result.status, err: result.message }, 'demo data: a batch was refused; skipped');
          break;
        }
        await failed('sending a batch', result.message, result.retryAfterMs);
      }
    }
    return eventCount(events);
  };

  const run = async () => {
    let sentUntil = await resumeFrom();
    const started = clock.now().getTime();
    let sent = 0;
    // The backfill, in chunks up to the present.
    for (let now = started; sentUntil < now; now = clock.now().getTime()) {
      const to = Math.min(now, sentUntil + CHUNK_MS);
      sent += await sendWindow(sentUntil, to);
      sentUntil = to;
    }
    logger.info({ events: sent, seconds: (clock.now().getTime() - started) / 1000 }, `demo data: backfilled ${sent} events; sending live every ${tickMs / 1000} s`);
    resolveBackfilled(sent);
    for (;;) {
      await sleep(tickMs);
      const now = clock.now().getTime();
      try {
        // After an outage longer than the backfill period, the oldest part is given up.
        const from = Math.max(sentUntil, now - backfillMs);
        for (let to = Math.min(now, from + CHUNK_MS), start = from; start < now; start = to, to = Math.min(now, to + CHUNK_MS)) {
          await sendWindow(start, to);
          sentUntil = to;
        }
      } catch (err) {
        if (err instanceof Stopped || err instanceof Refused) throw err;
        // A bug in the generator: logged, and the next tick tries the window again.
        logger.error({ err }, 'demo data: generating events failed');
        await failed('generating events', (err as Error).message);
      }
    }
  };

  const loop = run().catch((err) => {
    if (err instanceof Refused) {
      logger.error({ status: err.status }, `demo data: the demo project's API key was refused (${err.status}); no more sample data this run`);
    } else if (!(err instanceof Stopped)) {
      logger.error({ err }, 'demo data: stopped by an unexpected error');
    }
    resolveBackfilled(0);
  });

  return {
    backfilled,
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

class Refused extends Error {
  constructor(readonly status: number) {
    super(`refused with ${status}`);
  }
}
