/**
 * What instruments, loggers and spans need from the client: the clock, the queue, and the one place
 * a refused event goes. An interface so those modules do not import the client (no cycle).
 */
export interface Core {
  /** Milliseconds since the epoch for event timestamps (the `now` option; Date.now by default). */
  now(): number;
  /** Default service of logs and spans, as a JSON string. */
  readonly serviceJson: string;
  /** The client's tags, added to every metric point (a call's or instrument's tag of the same key wins). */
  readonly tags: Record<string, string>;
  /** Minimum log level index (0 trace ... 5 fatal). */
  readonly minLevel: number;
  /** A metric point: its instrument, the call's tags (checked), value, estimated size. */
  enqueueMetric(kind: number, instrument: unknown, tags: unknown, value: number, size: number): void;
  /** A log line or span, already serialized (a log line without its closing `}`: the id goes there). */
  enqueueLine(kind: number, line: string, time: number): void;
  /**
   * A refused event: throws an ObservAIError with `onInvalid: 'throw'`, else counts it (unless `count`
   * is false: a refused instrument, whose calls are counted one by one) and reports the first one.
   */
  invalid(message: string, count?: boolean): void;
  /** An unexpected exception while taking an event: rethrown when it is our INVALID_EVENT, else counted as invalid. */
  fault(err: unknown): void;
}

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LEVELS)[number];
