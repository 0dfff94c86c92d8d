/** Documented ingest limits (docs/API.md). */
export const INGEST_LIMITS = {
  /** Request body after decompression. */
  maxBodyBytes: 5 * 1024 * 1024,
  /** Events (metric points + log lines + spans) in one request. */
  maxEvents: 10_000,
  /** How far back an event's timestamp may be (the raw retention). */
  maxAgeMs: 7 * 86_400_000,
  /** How far ahead of the server clock an event's timestamp may be (clock skew). */
  maxFutureMs: 10 * 60_000,
  maxNameLength: 200,
  maxTags: 64,
  maxTagKeyLength: 100,
  maxTagValueLength: 1000,
  maxMessageLength: 64 * 1024,
  maxAttributeDepth: 8,
  maxAttributesBytes: 32 * 1024,
  maxIdLength: 128,
} as const;
