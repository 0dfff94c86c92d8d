/**
 * createClient: the queue, the sender and the counters behind the instruments, loggers and spans.
 *
 * Flow: a call checks its event and pushes references into the ring (ring.ts). The sender takes
 * batches from the ring when one is full (events or bytes), every flushIntervalMs, or on flush();
 * serializes them (metric points get their id here: the client's random prefix and a sequence
 * number), gzips, POSTs, and settles each batch once: answered (2xx, counted), failed for good
 * (dropped, reported), or kept to be sent again, unchanged, after a backoff that every request of the
 * client observes (a 503's Retry-After is the server asking all of us to wait). Batches waiting to be
 * retried go before new ones, so at most `concurrency` batches live outside the ring.
 *
 * Memory: the ring holds at most maxQueueEvents events and maxQueueBytes estimated bytes (dropping the
 * oldest past either); outside it at most `concurrency` batches of maxBatchBytes each (their JSON and
 * gzipped body). Nothing else grows with traffic.
 */
import { type Core, LEVELS } from './core.ts';
import { ObservAIError } from './errors.ts';
import { encodeBody, type Outcome, sendOnce } from './http.ts';
import { levelIndex, type LogRecord, makeLogger, writeLog } from './logs.ts';
import { makeInstrument, serializeMetric } from './metrics.ts';
import { RETRY_DEFAULTS, backoffMs, type RetryOptions } from './retry.ts';
import { K_COUNTER, K_GAUGE, K_HISTOGRAM, K_LOG, K_SPAN, Ring } from './ring.ts';
import { installShutdownHooks, runtime, unrefTimer } from './runtime.ts';
import { type Span, type SpanOptions, startSpan } from './spans.ts';
import type { Client, ClientOptions, FlushResult, Stats } from './types.ts';
import { fixedTags, LIMITS } from './validate.ts';

interface Batch {
  json: string;
  body: Uint8Array | undefined;
  gzip: boolean;
  events: number;
  attempts: number;
  firstAttemptAt: number;
}

const clamp = (v: number | undefined, min: number, max: number, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.floor(v))) : fallback);

/**
 * A per-client random prefix for event ids: 64 random bits as 14 base-36 characters. With the
 * sequence number after it, two clients (or two runs of one app) never share an id; the server's
 * identity adds the series and the time on top.
 */
function idPrefix(): string {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return Array.from(words, (w) => w.toString(36).padStart(7, '0')).join('');
}

class ObservAIClient implements Client, Core {
  readonly serviceJson: string;
  readonly tags: Record<string, string>;
  readonly minLevel: number;
  readonly now: () => number;

  private readonly ring: Ring;
  private readonly url: string;
  private readonly apiKey: string;
  private readonly batchEvents: number;
  private readonly batchBytes: number;
  private readonly concurrency: number;
  private readonly gzip: boolean;
  private readonly requestTimeoutMs: number;
  private readonly retry: Required<RetryOptions>;
  private readonly throwInvalid: boolean;
  private readonly onError: (err: ObservAIError) => void;
  private readonly fetchFn: (input: string, init: RequestInit) => Promise<Response>;
  private readonly prefix = idPrefix();
  private seq = 0;

  private readonly counts = { enqueued: 0, sent: 0, accepted: 0, duplicates: 0, rejected: 0, droppedOverflow: 0, droppedFailed: 0, droppedClosed: 0, invalid: 0, retried: 0, requests: 0 };
  private inFlightEvents = 0;
  private active = 0;
  private readonly retries: Batch[] = [];
  /** No request starts before this (epoch ms): the backoff after a retryable failure. */
  private pausedUntil = 0;
  /** Send partial batches until the ring is empty (set by the interval and flush()). */
  private draining = false;
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;
  private pumpAt = 0;
  private readonly interval: ReturnType<typeof setInterval>;
  private readonly uninstallHooks: () => void;
  private readonly waiters = new Set<() => void>();
  private closed = false;
  private closing: Promise<FlushResult> | undefined;
  /** close() has finished: nothing is retried any more. */
  private closeDone = false;
  private overflowing = false;
  private warnedInvalid = false;

  constructor(o: ClientOptions) {
    if (typeof o?.url !== 'string' || !/^https?:\/\//.test(o.url)) throw new TypeError('createClient: `url` must be the http(s) URL of the functions (…/functions/v1) or of ingest');
    if (typeof o.apiKey !== 'string' || o.apiKey.length === 0) throw new TypeError('createClient: `apiKey` must be an API key with the ingest scope');
    const base = o.url.replace(/\/+$/, '');
    this.url = /\/ingest$/.test(base) ? base : `${base}/ingest`;
    this.apiKey = o.apiKey;
    this.serviceJson = JSON.stringify(o.service !== undefined ? String(o.service).slice(0, LIMITS.maxNameLength) || 'unknown_service' : 'unknown_service');
    this.minLevel = levelIndex(o.level, 2);
    this.now = o.now ?? Date.now;
    this.batchEvents = clamp(o.maxBatchEvents, 1, LIMITS.maxBatchEvents, 1000);
    this.batchBytes = clamp(o.maxBatchBytes, 1024, LIMITS.maxBatchBytes / 2, 1024 * 1024);
    this.concurrency = clamp(o.concurrency, 1, 64, 2);
    this.gzip = o.gzip ?? typeof CompressionStream !== 'undefined';
    this.requestTimeoutMs = clamp(o.requestTimeoutMs, 100, 600_000, 10_000);
    this.retry = { ...RETRY_DEFAULTS, ...o.retry };
    this.throwInvalid = o.onInvalid === 'throw';
    this.fetchFn = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const warned = new Set<string>();
    this.onError =
      o.onError ??
      ((err) => {
        if (warned.has(err.code)) return;
        warned.add(err.code);
        console.warn(`[observai] ${err.message} (further ${err.code} reports are not printed; see client.stats())`);
      });
    this.ring = new Ring(clamp(o.maxQueueEvents, 1, 10_000_000, 50_000), clamp(o.maxQueueBytes, 1024, 2 ** 32 - 1, 8 * 1024 * 1024));

    const tags = fixedTags(o.tags);
    this.tags = typeof tags === 'string' ? {} : tags.tags;
    if (typeof tags === 'string') this.invalid(`client tags: ${tags}`, false);

    this.interval = setInterval(() => {
      if (this.ring.count > 0) {
        this.draining = true;
        this.schedulePump(0);
      }
    }, clamp(o.flushIntervalMs, 10, 3_600_000, 1000));
    unrefTimer(this.interval);
    this.uninstallHooks = o.shutdownHooks ? installShutdownHooks((ms) => this.flush({ timeoutMs: ms }), () => this.pending(), clamp(o.shutdownTimeoutMs, 0, 600_000, 5000)) : () => {};
  }

  // ---------------------------------------------------------------- the app's side

  counter(name: string, options?: Parameters<Client['counter']>[1]) {
    return makeInstrument(this, K_COUNTER, name, options);
  }
  gauge(name: string, options?: Parameters<Client['gauge']>[1]) {
    return makeInstrument(this, K_GAUGE, name, options);
  }
  histogram(name: string, options?: Parameters<Client['histogram']>[1]) {
    return makeInstrument(this, K_HISTOGRAM, name, options);
  }
  logger(options: Parameters<Client['logger']>[0] = {}) {
    return makeLogger(this, options);
  }
  log(r: LogRecord): void {
    try {
      if (typeof r !== 'object' || r === null) return this.invalid('log record must be an object');
      const level = levelIndex(r.level, 2);
      if (level < this.minLevel) return;
      const time = typeof r.timestamp === 'number' && Number.isFinite(r.timestamp) && r.timestamp >= 0 ? r.timestamp : this.now();
      writeLog(this, level, r.message, r.service !== undefined ? JSON.stringify(String(r.service)) : this.serviceJson, r.attributes, r.traceId, r.spanId, time);
    } catch (err) {
      this.fault(err);
    }
  }
  startSpan(name: string, options?: SpanOptions): Span {
    return startSpan(this, name, options);
  }
  trace<T>(name: string, fn: (span: Span) => T, options?: SpanOptions): T {
    const span = startSpan(this, name, options);
    let result: T;
    try {
      result = fn(span);
    } catch (err) {
      span.recordError(err).end();
      throw err; // the app's own exception, not ours
    }
    if (result instanceof Promise) {
      return result.then(
        (v) => {
          span.end();
          return v;
        },
        (err: unknown) => {
          span.recordError(err).end();
          throw err;
        },
      ) as T;
    }
    span.end();
    return result;
  }

  // ---------------------------------------------------------------- Core: taking events in

  /** The hot path of every metric call: a closed check, two counters, the ring push, the size trigger. */
  enqueueMetric(kind: number, instrument: unknown, tags: unknown, value: number, size: number): void {
    this.counts.enqueued++;
    if (this.closed) {
      this.counts.droppedClosed++;
      return;
    }
    const dropped = this.ring.push(kind, instrument, tags, value, this.now(), size);
    if (dropped !== 0) this.overflow(dropped);
    if ((this.ring.count >= this.batchEvents || this.ring.bytes >= this.batchBytes) && this.pumpTimer === undefined && this.active < this.concurrency) this.schedulePump(0);
  }

  enqueueLine(kind: number, line: string, time: number): void {
    this.counts.enqueued++;
    if (this.closed) {
      this.counts.droppedClosed++;
      return;
    }
    const dropped = this.ring.push(kind, undefined, line, 0, time, line.length + 32);
    if (dropped !== 0) this.overflow(dropped);
    if ((this.ring.count >= this.batchEvents || this.ring.bytes >= this.batchBytes) && this.pumpTimer === undefined && this.active < this.concurrency) this.schedulePump(0);
  }

  invalid(message: string, count = true): void {
    if (count) this.counts.invalid++;
    const err = new ObservAIError('INVALID_EVENT', message);
    if (this.throwInvalid) throw err;
    if (!this.warnedInvalid) {
      this.warnedInvalid = true;
      this.report(err);
    }
  }

  fault(err: unknown): void {
    if (this.throwInvalid && err instanceof ObservAIError && err.code === 'INVALID_EVENT') throw err;
    this.counts.invalid++;
    if (!this.warnedInvalid) {
      this.warnedInvalid = true;
      this.report(new ObservAIError('INVALID_EVENT', `an event could not be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
    }
  }

  private overflow(dropped: number): void {
    this.counts.droppedOverflow += dropped;
    if (this.overflowing) return;
    this.overflowing = true;
    this.report(
      new ObservAIError('QUEUE_OVERFLOW', `queue full (${this.ring.cap} events / ${this.ring.maxBytes} bytes): dropping the oldest events until it drains`, { events: dropped }),
    );
  }

  private report(err: ObservAIError): void {
    try {
      this.onError(err);
    } catch {
      // an onError that throws must not break the app's call or the sender
    }
  }

  // ---------------------------------------------------------------- the sender

  private pending(): number {
    return this.ring.count + this.inFlightEvents;
  }

  private schedulePump(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.pumpTimer !== undefined) {
      if (this.pumpAt <= at) return;
      clearTimeout(this.pumpTimer);
    }
    this.pumpAt = at;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
    }, delayMs);
    unrefTimer(this.pumpTimer);
  }

  /** Starts requests while there is room: retries first, then batches from the ring. */
  private pump(): void {
    while (this.active < this.concurrency) {
      const now = Date.now();
      if (this.pausedUntil > now) return this.schedulePump(this.pausedUntil - now);
      let batch = this.retries.shift();
      if (!batch) {
        if (this.ring.count === 0) {
          this.draining = false;
          this.overflowing = false;
          return;
        }
        if (!this.draining && this.ring.count < this.batchEvents && this.ring.bytes < this.batchBytes) return;
        batch = this.takeBatch();
      }
      this.active++;
      void this.attempt(batch).finally(() => {
        this.active--;
        for (const w of this.waiters) w();
        this.pump();
      });
    }
  }

  /** Serializes the oldest events (up to a batch) and frees their slots. */
  private takeBatch(): Batch {
    const r = this.ring;
    const metrics: string[] = [];
    const logs: string[] = [];
    const spans: string[] = [];
    const tagsJson = new Map<unknown, string>();
    let bytes = 0;
    let n = 0;
    while (r.count > 0 && n < this.batchEvents) {
      const i = r.head;
      const size = r.sizes[i]!;
      if (n > 0 && bytes + size > this.batchBytes) break;
      const kind = r.kinds[i]!;
      if (kind === K_LOG) logs.push(`${r.data[i] as string},"id":"${this.prefix}${(this.seq++).toString(36)}"}`);
      else if (kind === K_SPAN) spans.push(r.data[i] as string);
      else metrics.push(serializeMetric(r.refs[i], r.data[i], r.values[i]!, r.times[i]!, this.prefix + (this.seq++).toString(36), tagsJson));
      bytes += size;
      n++;
      r.shift();
    }
    const parts: string[] = [];
    if (metrics.length) parts.push(`"metrics":[${metrics.join(',')}]`);
    if (logs.length) parts.push(`"logs":[${logs.join(',')}]`);
    if (spans.length) parts.push(`"spans":[${spans.join(',')}]`);
    this.inFlightEvents += n;
    return { json: `{${parts.join(',')}}`, body: undefined, gzip: false, events: n, attempts: 0, firstAttemptAt: Date.now() };
  }

  private async attempt(b: Batch): Promise<void> {
    let outcome: Outcome;
    try {
      if (!b.body) {
        const encoded = await encodeBody(b.json, this.gzip);
        b.body = encoded.body;
        b.gzip = encoded.gzip;
      }
      b.attempts++;
      this.counts.requests++;
      if (b.attempts > 1) this.counts.retried += b.events;
      outcome = await sendOnce(
        { url: this.url, apiKey: this.apiKey, body: b.body, gzip: b.gzip, timeoutMs: this.requestTimeoutMs, keepalive: runtime === 'browser' && b.body.byteLength < 60_000, fetch: this.fetchFn },
        b.events,
      );
    } catch (err) {
      // A fetch replacement that throws synchronously, an encoder failure: retried like a network error.
      outcome = { kind: 'retry', retryAfterMs: undefined, reason: err instanceof Error ? err.message : String(err) };
    }
    this.settle(b, outcome);
  }

  private settle(b: Batch, o: Outcome): void {
    if (o.kind === 'answered') {
      this.inFlightEvents -= b.events;
      this.counts.sent += b.events;
      this.counts.accepted += o.accepted;
      this.counts.duplicates += o.duplicates;
      this.counts.rejected += o.rejected;
      if (o.rejected > 0) {
        const first = o.errors[0] as { field?: string; message?: string } | undefined;
        this.report(
          new ObservAIError('EVENTS_REJECTED', `the server refused ${o.rejected} of ${b.events} events${first ? ` (first: ${first.field ?? ''} ${first.message ?? ''})` : ''}; they are not resent`, {
            events: o.rejected,
            details: o.errors,
          }),
        );
      }
      return;
    }
    if (o.kind === 'failed') {
      this.drop(b);
      this.report(new ObservAIError('REQUEST_FAILED', `ingest refused a request of ${b.events} events: ${o.reason}`, { status: o.status, events: b.events, details: o.details }));
      return;
    }
    const now = Date.now();
    if (this.closeDone) {
      this.inFlightEvents -= b.events;
      this.counts.droppedClosed += b.events;
      return;
    }
    if (now - b.firstAttemptAt >= this.retry.giveUpAfterMs) {
      this.drop(b);
      this.report(new ObservAIError('RETRIES_EXHAUSTED', `dropped ${b.events} events after ${b.attempts} attempts over ${Math.round((now - b.firstAttemptAt) / 1000)} s; last: ${o.reason}`, { status: o.status, events: b.events }));
      return;
    }
    this.pausedUntil = Math.max(this.pausedUntil, now + backoffMs(b.attempts, o.retryAfterMs, this.retry));
    this.retries.push(b);
  }

  private drop(b: Batch): void {
    this.inFlightEvents -= b.events;
    this.counts.droppedFailed += b.events;
  }

  // ---------------------------------------------------------------- flush, close, stats

  async flush(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
    try {
      const deadline = Date.now() + clamp(options.timeoutMs, 0, 24 * 3_600_000, 10_000);
      this.draining = true;
      this.pump();
      while (this.pending() > 0) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await this.progress(left);
        this.pump();
      }
    } catch {
      // never rejects: the result says what is left
    }
    const pending = this.pending();
    return { ok: pending === 0, pending };
  }

  /** Resolves when a request settles, or after ms (this timer is ref'd: an awaited flush keeps Node alive). */
  private progress(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, Math.max(10, this.pausedUntil - Date.now())));
      this.waiters.add(done);
    });
  }

  flushInBackground(ctx?: { waitUntil(promise: Promise<unknown>): void }, options?: { timeoutMs?: number }): Promise<FlushResult> {
    const p = this.flush(options);
    try {
      const target = ctx ?? (globalThis as { EdgeRuntime?: { waitUntil?(p: Promise<unknown>): void } }).EdgeRuntime;
      target?.waitUntil?.(p);
    } catch {
      // a runtime without waitUntil: the promise is still returned
    }
    return p;
  }

  close(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
    if (this.closing) return this.closing;
    this.closed = true;
    clearInterval(this.interval);
    this.uninstallHooks();
    this.closing = this.flush(options).then((r) => {
      // What is still queued or waiting for a retry will never be sent: counted, and freed. A request
      // still in flight settles as usual (a retryable failure then drops it: settle).
      this.closeDone = true;
      this.counts.droppedClosed += this.ring.clear();
      for (const b of this.retries.splice(0)) {
        this.inFlightEvents -= b.events;
        this.counts.droppedClosed += b.events;
      }
      return { ok: r.ok, pending: this.pending() };
    });
    return this.closing;
  }

  stats(): Stats {
    const c = this.counts;
    return { ...c, dropped: c.droppedOverflow + c.droppedFailed + c.droppedClosed, queued: this.ring.count, queuedBytes: this.ring.bytes, inFlight: this.inFlightEvents };
  }
}

/** A client that sends metrics, logs and spans to ObservAI's ingest endpoint. Throws only on a missing url or apiKey. */
export function createClient(options: ClientOptions): Client {
  return new ObservAIClient(options);
}

export { LEVELS };
