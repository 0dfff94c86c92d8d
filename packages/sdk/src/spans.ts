/**
 * Spans in the ingest's native format. A span is identified by its trace and span ids (random, made
 * here), which is also how the server deduplicates it, so a resent span is never stored twice
 * without an extra event id. Durations come from performance.now() (sub-millisecond, monotonic)
 * added to a wall-clock start. A span is serialized and queued when it ends.
 */
import type { Core } from './core.ts';
import { errorAttributes, toJson } from './json.ts';
import type { Attributes } from './logs.ts';
import { K_SPAN } from './ring.ts';
import { isPlainObject, LIMITS } from './validate.ts';

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type SpanStatus = 'unset' | 'ok' | 'error';

export interface SpanContext {
  traceId: string;
  spanId: string;
}

export interface SpanOptions {
  /** A parent span, its ids, or a W3C `traceparent` header value; none starts a new trace. */
  parent?: SpanContext | string;
  kind?: SpanKind;
  attributes?: Attributes;
  service?: string;
}

export interface Span extends SpanContext {
  readonly parentSpanId: string | undefined;
  setAttribute(key: string, value: unknown): Span;
  setAttributes(attributes: Attributes): Span;
  addEvent(name: string, attributes?: Attributes): Span;
  setStatus(status: SpanStatus, message?: string): Span;
  /** Sets status error and adds an `exception` event (type, message, stack). */
  recordError(err: unknown): Span;
  /** Ends and queues the span (once; later calls do nothing). */
  end(): void;
  /** The W3C traceparent header for an outgoing request. */
  traceparent(): string;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const idBytes = new Uint8Array(16);

/** Random lowercase hex of `bytes` bytes, never all zeros (an invalid id in W3C and OpenTelemetry). */
export function randomHex(bytes: 8 | 16): string {
  for (;;) {
    crypto.getRandomValues(idBytes);
    let s = '';
    let zero = true;
    for (let i = 0; i < bytes; i++) {
      s += HEX[idBytes[i]!];
      if (idBytes[i] !== 0) zero = false;
    }
    if (!zero) return s;
  }
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const KINDS = new Set(['internal', 'server', 'client', 'producer', 'consumer']);

function parentOf(p: SpanOptions['parent']): SpanContext | undefined {
  if (p === undefined) return undefined;
  if (typeof p === 'string') {
    const m = TRACEPARENT.exec(p.trim().toLowerCase());
    return m && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!) ? { traceId: m[1]!, spanId: m[2]! } : undefined;
  }
  return /^[0-9a-f]{32}$/i.test(p.traceId) && /^[0-9a-f]{16}$/i.test(p.spanId) ? { traceId: p.traceId.toLowerCase(), spanId: p.spanId.toLowerCase() } : undefined;
}

class SpanImpl implements Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  private readonly core: Core;
  private readonly name: string;
  private readonly serviceJson: string;
  private readonly kind: SpanKind;
  private readonly start: number;
  private readonly startMono: number;
  private readonly attributes: Attributes;
  private readonly events: Array<{ name: string; timestamp: number; attributes: Attributes }> = [];
  private status: SpanStatus = 'unset';
  private statusMessage: string | undefined;
  private ended = false;
  /** Why the span will not be sent (reported when it started). */
  private readonly problem: string | undefined;

  constructor(core: Core, name: string, o: SpanOptions, problem: string | undefined) {
    this.core = core;
    this.name = name;
    this.problem = problem;
    const parent = parentOf(o.parent);
    this.traceId = parent?.traceId ?? randomHex(16);
    this.spanId = randomHex(8);
    this.parentSpanId = parent?.spanId;
    this.serviceJson = o.service !== undefined ? JSON.stringify(String(o.service)) : core.serviceJson;
    this.kind = o.kind && KINDS.has(o.kind) ? o.kind : 'internal';
    this.attributes = isPlainObject(o.attributes) ? { ...o.attributes } : {};
    this.start = core.now();
    this.startMono = performance.now();
  }

  setAttribute(key: string, value: unknown): Span {
    if (!this.ended && typeof key === 'string') this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): Span {
    if (!this.ended && isPlainObject(attributes)) Object.assign(this.attributes, attributes);
    return this;
  }
  addEvent(name: string, attributes?: Attributes): Span {
    if (!this.ended && this.events.length < 1000) this.events.push({ name: String(name).slice(0, LIMITS.maxNameLength) || 'event', timestamp: this.elapsed(), attributes: isPlainObject(attributes) ? attributes : {} });
    return this;
  }
  setStatus(status: SpanStatus, message?: string): Span {
    if (!this.ended && (status === 'unset' || status === 'ok' || status === 'error')) {
      this.status = status;
      this.statusMessage = message === undefined ? undefined : String(message).slice(0, LIMITS.maxMessageLength);
    }
    return this;
  }
  recordError(err: unknown): Span {
    this.addEvent('exception', errorAttributes(err));
    return this.setStatus('error', err instanceof Error ? err.message : String(err));
  }
  traceparent(): string {
    return `00-${this.traceId}-${this.spanId}-01`;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      if (this.problem !== undefined) return; // counted (or thrown) when it started
      const end = this.elapsed();
      let line = `{"trace_id":"${this.traceId}","span_id":"${this.spanId}"`;
      if (this.parentSpanId) line += `,"parent_span_id":"${this.parentSpanId}"`;
      line += `,"name":${JSON.stringify(this.name)},"service":${this.serviceJson},"start":${this.start},"duration":${Math.max(0, end - this.start)},"status":"${this.status}","kind":"${this.kind}"`;
      if (this.statusMessage !== undefined) line += `,"status_message":${JSON.stringify(this.statusMessage)}`;
      line += `,"attributes":${toJson(this.attributes)}`;
      if (this.events.length > 0) line += `,"events":${toJson(this.events)}`;
      this.core.enqueueLine(K_SPAN, `${line}}`, this.start);
    } catch (err) {
      this.core.fault(err);
    }
  }

  /** Wall-clock ms now, as the start plus the monotonic time since (so durations are exact). */
  private elapsed(): number {
    return this.start + (performance.now() - this.startMono);
  }
}

export function startSpan(core: Core, name: string, o: SpanOptions = {}): Span {
  const problem = typeof name !== 'string' || name.length === 0 || name.length > LIMITS.maxNameLength ? `span name must be a string of 1-${LIMITS.maxNameLength} characters` : undefined;
  // Reported where it is written: thrown in 'throw' mode, else counted once; the span then works but is not sent.
  if (problem) core.invalid(problem);
  return new SpanImpl(core, problem ? 'invalid' : name, o, problem);
}
