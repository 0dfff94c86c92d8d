import type { LogRecord } from '../model.ts';
import { addScope, logLevel, setKey } from './convert.ts';
import { ItemFault } from './errors.ts';

/**
 * OTLP log records to LogRecords, shared by the protobuf and JSON decoders.
 *
 * - timestamp: time_unix_nano, else observed_time_unix_nano; neither -> the record is rejected.
 * - level: from severity_number (1-4 trace ... 21-24 fatal), else from severity_text, else info.
 * - message: a string body as is; any other body as JSON; no body -> "".
 * - attributes: the record's, plus event.name (LogRecord.event_name) and otel.scope.name/version.
 * - service from the resource's service.name; the resource attributes are kept in `resource`.
 */

/** What the records of one ScopeLogs share. `resource` is one object shared by all its records. */
export interface LogContext {
  service: string;
  resource: Record<string, unknown>;
  scopeName: string;
  scopeVersion: string;
}

export interface RawLog {
  timeMs: number;
  observedMs: number;
  severityNumber: number;
  severityText: string;
  /** The body's JS value; null when absent. */
  body: unknown;
  attributes: Record<string, unknown>;
  traceId: string | undefined;
  spanId: string | undefined;
  eventName: string;
}

export function buildLog(ctx: LogContext, raw: RawLog): LogRecord {
  const timestamp = raw.timeMs !== 0 ? raw.timeMs : raw.observedMs;
  if (timestamp === 0) throw new ItemFault('timeUnixNano', 'timestamp missing (neither timeUnixNano nor observedTimeUnixNano is set)');
  const attributes = raw.attributes;
  if (raw.eventName !== '') setKey(attributes, 'event.name', raw.eventName);
  addScope(attributes, ctx.scopeName, ctx.scopeVersion);
  const body = raw.body;
  const log: LogRecord = {
    timestamp,
    level: logLevel(raw.severityNumber, raw.severityText),
    message: typeof body === 'string' ? body : body === null || body === undefined ? '' : JSON.stringify(body),
    service: ctx.service,
    attributes,
    resource: ctx.resource,
  };
  if (raw.severityNumber >= 1 && raw.severityNumber <= 24) log.severityNumber = raw.severityNumber;
  if (raw.traceId !== undefined) log.traceId = raw.traceId;
  if (raw.spanId !== undefined) log.spanId = raw.spanId;
  return log;
}
