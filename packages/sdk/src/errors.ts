/**
 * What the SDK reports to `onError` (and throws, only for INVALID_EVENT with `onInvalid: 'throw'`).
 * The app is never interrupted otherwise: every other problem is counted in `client.stats()` and
 * reported here.
 */
export type ObservAIErrorCode =
  /** A metric name, tag, value or log/span field refused at the call site (not sent). */
  | 'INVALID_EVENT'
  /** The queue is full (events or bytes): the oldest events are being dropped. Reported once per episode. */
  | 'QUEUE_OVERFLOW'
  /** The server answered 2xx but refused some events (their index and reason in `details`); never resent. */
  | 'EVENTS_REJECTED'
  /** The server refused a whole request for good (400, 401, 403, 413, ...): its events are dropped. */
  | 'REQUEST_FAILED'
  /** A batch kept failing with retryable errors for `retry.giveUpAfterMs`: its events are dropped. */
  | 'RETRIES_EXHAUSTED';

export class ObservAIError extends Error {
  override readonly name = 'ObservAIError';
  readonly code: ObservAIErrorCode;
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** Events concerned (dropped, rejected). */
  readonly events: number | undefined;
  /** The server's item errors (`{ index, field, message }`) or error envelope. */
  readonly details: unknown;

  constructor(code: ObservAIErrorCode, message: string, extra: { status?: number; events?: number; details?: unknown; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.status = extra.status;
    this.events = extra.events;
    this.details = extra.details;
  }
}
