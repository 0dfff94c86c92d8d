/**
 * The structured logger and `client.log(record)` (what the pino transport calls). A log line is
 * serialized when it is logged (its attributes are a snapshot: mutating them afterwards changes
 * nothing, and the queue's byte bound counts their real size), without its closing brace: the sender
 * appends the event id there.
 */
import { type Core, LEVELS, type LogLevel } from './core.ts';
import { toJson } from './json.ts';
import { K_LOG } from './ring.ts';
import { isPlainObject, LIMITS } from './validate.ts';

export type Attributes = Record<string, unknown>;

export interface Logger {
  trace(message: string, attributes?: Attributes): void;
  debug(message: string, attributes?: Attributes): void;
  info(message: string, attributes?: Attributes): void;
  warn(message: string, attributes?: Attributes): void;
  error(message: string, attributes?: Attributes): void;
  fatal(message: string, attributes?: Attributes): void;
  /** A logger whose lines carry these attributes (a call's win), this span's trace and span ids, or another service. */
  child(options: LoggerOptions): Logger;
}

export interface LoggerOptions {
  service?: string;
  attributes?: Attributes;
  /** Lines below this level are not sent (default: the client's `level`). */
  level?: LogLevel;
  /** Ties the lines to a span (its trace_id and span_id). */
  span?: { traceId: string; spanId: string };
}

/** One log line for `client.log` (integrations: pino, console wrappers). */
export interface LogRecord {
  message: string;
  level?: LogLevel;
  /** Epoch milliseconds (fractions keep microseconds); default now. */
  timestamp?: number;
  service?: string;
  attributes?: Attributes;
  /** 32 hex characters; dropped when it is not. */
  traceId?: string;
  /** 16 hex characters; dropped when it is not. */
  spanId?: string;
}

const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;
/** The server refuses attributes over 32 KiB of JSON (src/ingest/limits.ts maxAttributesBytes). */
const MAX_ATTRIBUTES_JSON = 32 * 1024;

/**
 * Serializes and queues one log line; answers nothing, throws only our INVALID_EVENT in 'throw' mode.
 * An over-long message is cut at the server's 64 KiB limit (with a marker) rather than refused.
 */
export function writeLog(core: Core, level: number, message: unknown, serviceJson: string, attributes: unknown, traceId: string | undefined, spanId: string | undefined, time: number): void {
  let text = typeof message === 'string' ? message : message instanceof Error ? `${message.name}: ${message.message}` : String(message);
  if (text.length > LIMITS.maxMessageLength) text = `${text.slice(0, LIMITS.maxMessageLength - 20)} …[truncated]`;
  let attrs = '';
  if (attributes !== undefined) {
    if (!isPlainObject(attributes)) return core.invalid(`log attributes must be an object, got ${Array.isArray(attributes) ? 'an array' : typeof attributes}`);
    attrs = toJson(attributes);
    if (attrs.length > MAX_ATTRIBUTES_JSON) return core.invalid(`log attributes are ${attrs.length} characters of JSON; the limit is ${MAX_ATTRIBUTES_JSON}`);
    if (attrs === '{}') attrs = '';
  }
  let line = `{"timestamp":${time},"level":"${LEVELS[level]}","message":${JSON.stringify(text)},"service":${serviceJson}`;
  if (attrs) line += `,"attributes":${attrs}`;
  if (traceId !== undefined && HEX32.test(traceId)) line += `,"trace_id":"${traceId}"`;
  if (spanId !== undefined && HEX16.test(spanId)) line += `,"span_id":"${spanId}"`;
  core.enqueueLine(K_LOG, line, time);
}

export function levelIndex(level: string | undefined, fallback: number): number {
  if (level === undefined) return fallback;
  const l = level.toLowerCase();
  const i = LEVELS.indexOf((l === 'warning' ? 'warn' : l === 'critical' ? 'fatal' : l) as LogLevel);
  return i < 0 ? fallback : i;
}

export function makeLogger(core: Core, o: LoggerOptions, base?: { serviceJson: string; attributes: Attributes | undefined; min: number; span: LoggerOptions['span'] }): Logger {
  const serviceJson = o.service !== undefined ? JSON.stringify(String(o.service)) : (base?.serviceJson ?? core.serviceJson);
  const attributes = o.attributes !== undefined || base?.attributes !== undefined ? { ...base?.attributes, ...o.attributes } : undefined;
  const min = levelIndex(o.level, base?.min ?? core.minLevel);
  const span = o.span ?? base?.span;
  const emit = (level: number, message: string, attrs: Attributes | undefined) => {
    if (level < min) return;
    try {
      const merged = attributes === undefined ? attrs : attrs === undefined ? attributes : isPlainObject(attrs) ? { ...attributes, ...attrs } : attrs;
      writeLog(core, level, message, serviceJson, merged, span?.traceId, span?.spanId, core.now());
    } catch (err) {
      core.fault(err);
    }
  };
  return {
    trace: (m, a) => emit(0, m, a),
    debug: (m, a) => emit(1, m, a),
    info: (m, a) => emit(2, m, a),
    warn: (m, a) => emit(3, m, a),
    error: (m, a) => emit(4, m, a),
    fatal: (m, a) => emit(5, m, a),
    child: (c) => makeLogger(core, c, { serviceJson, attributes, min, span }),
  };
}
