/**
 * Thrown when a whole OTLP request cannot be decoded: a broken protobuf wire format, invalid JSON,
 * invalid UTF-8, nesting beyond the caps, or a request whose structure (not one item) is wrong.
 * The message says what was wrong and where; the HTTP layer answers 400 with it.
 */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

/**
 * One item (data point, log record, span) is unusable; the decoder records an ItemError for it and
 * goes on with the next item. Not an Error: it never escapes this module and needs no stack.
 * `field` is relative to the item's path (e.g. "traceId", "events.2.timeUnixNano").
 */
export class ItemFault {
  constructor(
    readonly field: string,
    readonly message: string,
  ) {}
}
