/**
 * `@observai/sdk/pino`: a pino (v9, v10) transport that ships each line as an ObservAI log.
 *
 *   pino(pino.transport({ target: '@observai/sdk/pino', options: { url, apiKey, service } }))
 *
 * It runs in pino's worker thread (pino-abstract-transport): the line's `msg` becomes the message,
 * its level the level (pino's numbers or custom labels), `time` the timestamp, `trace_id`/`span_id`
 * (what @opentelemetry/instrumentation-pino adds) the trace context, and every other field (pid,
 * hostname, err, the bindings of child loggers) the attributes. When the app exits, pino ends the
 * transport and waits (up to 10 s) while it flushes: `flushTimeoutMs` (default 5,000) bounds that.
 */
import build from 'pino-abstract-transport';
import { createClient } from './client.ts';
import type { ClientOptions } from './types.ts';

export interface PinoTransportOptions extends ClientOptions {
  /** How long the transport may take to flush when pino closes it (default 5,000 ms; pino waits 10 s at most). */
  flushTimeoutMs?: number;
}

/** pino's default numeric levels. */
const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const OMIT = new Set(['level', 'time', 'trace_id', 'span_id', 'trace_flags']);

interface PinoConfig {
  levels?: { labels?: Record<number, string> };
  messageKey?: string;
}

export default async function observaiTransport(options: PinoTransportOptions) {
  const { flushTimeoutMs = 5000, ...clientOptions } = options;
  // Every level pino hands us is sent: pino's own level already decided what to log.
  const client = createClient({ level: 'trace', ...clientOptions });
  return build(
    async (source: AsyncIterable<Record<string, unknown>> & PinoConfig) => {
      for await (const line of source) {
        try {
          const messageKey = source.messageKey ?? 'msg';
          const level = line.level;
          const label = typeof level === 'number' ? (source.levels?.labels?.[level] ?? PINO_LEVELS[level]) : typeof level === 'string' ? level : undefined;
          const attributes: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(line)) if (k !== messageKey && !OMIT.has(k)) attributes[k] = v;
          const message = line[messageKey];
          const err = line.err as { message?: unknown } | undefined;
          client.log({
            message: typeof message === 'string' ? message : typeof err?.message === 'string' ? err.message : message === undefined ? '' : JSON.stringify(message),
            level: (PINO_LEVEL_NAMES.has(label ?? '') ? label : levelFromNumber(level)) as 'info',
            timestamp: typeof line.time === 'number' ? line.time : typeof line.time === 'string' ? Date.parse(line.time) : undefined,
            attributes,
            traceId: typeof line.trace_id === 'string' ? line.trace_id : undefined,
            spanId: typeof line.span_id === 'string' ? line.span_id : undefined,
          });
        } catch {
          // a line we cannot read is skipped; the transport keeps going
        }
      }
    },
    {
      expectPinoConfig: true,
      close: async () => {
        await client.close({ timeoutMs: flushTimeoutMs });
      },
    },
  );
}

const PINO_LEVEL_NAMES = new Set(['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'critical']);

/** A custom level's number to the nearest standard level at or below it. */
function levelFromNumber(level: unknown): string {
  if (typeof level !== 'number') return 'info';
  return level >= 60 ? 'fatal' : level >= 50 ? 'error' : level >= 40 ? 'warn' : level >= 30 ? 'info' : level >= 20 ? 'debug' : 'trace';
}
