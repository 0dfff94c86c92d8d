/**
 * One error type with a closed set of codes, and one code -> HTTP status map.
 * Handlers throw AppError; the HTTP layer turns it into the single error envelope.
 * Postgres errors are mapped by SQLSTATE, never by message text.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  /** A plan's monthly quota is used up (ingest); Retry-After points at the period's reset. */
  QUOTA_EXCEEDED: 429,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. "body.scopes.0". */
  field?: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[] | undefined;
  readonly retryable: boolean;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; details?: ErrorDetail[]; retryable?: boolean; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = opts.details;
    this.retryable = opts.retryable ?? (code === 'UNAVAILABLE' || code === 'RATE_LIMITED');
    this.headers = opts.headers;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);

/** SQLSTATEs we raise ourselves from triggers and functions (class OA = ObservAI). */
export const APP_SQLSTATE: Record<string, ErrorCode> = {
  OA400: 'VALIDATION_FAILED',
  OA403: 'FORBIDDEN',
  OA404: 'NOT_FOUND',
  OA409: 'CONFLICT',
};

const SQLSTATE_CODES: Record<string, ErrorCode> = {
  '23505': 'CONFLICT', // unique_violation
  '23503': 'VALIDATION_FAILED', // foreign_key_violation: a referenced row does not exist
  '23514': 'VALIDATION_FAILED', // check_violation
  '23502': 'VALIDATION_FAILED', // not_null_violation
  '22P02': 'VALIDATION_FAILED', // invalid_text_representation
  '22001': 'VALIDATION_FAILED', // string_data_right_truncation
  '22007': 'VALIDATION_FAILED', // invalid_datetime_format
  '22008': 'VALIDATION_FAILED', // datetime_field_overflow
  '2201B': 'VALIDATION_FAILED', // invalid_regular_expression (a regex tag filter)
  '22003': 'VALIDATION_FAILED', // numeric_value_out_of_range (a number past its column's type)
  '22021': 'VALIDATION_FAILED', // character_not_in_repertoire (e.g. a NUL in text)
  '22P05': 'VALIDATION_FAILED', // untranslatable_character (e.g. \u0000 in jsonb text)
  '42501': 'FORBIDDEN', // insufficient_privilege, including RLS WITH CHECK failures
  '40001': 'UNAVAILABLE', // serialization_failure: safe to retry
  '40P01': 'UNAVAILABLE', // deadlock_detected: safe to retry
  '57014': 'UNAVAILABLE', // query_canceled (statement timeout)
  '53300': 'UNAVAILABLE', // too_many_connections
  '57P01': 'UNAVAILABLE', // admin_shutdown
  '08006': 'UNAVAILABLE', // connection_failure
  '08001': 'UNAVAILABLE',
  '08003': 'UNAVAILABLE',
};

/** Reads the SQLSTATE from a postgres.js or PGlite error. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);

/** Turns any thrown value into an AppError; unknown errors become INTERNAL (message hidden from clients). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const state = sqlState(err);
  if (state) {
    const code = APP_SQLSTATE[state] ?? SQLSTATE_CODES[state];
    if (code) {
      const message = code === 'UNAVAILABLE' ? 'The database is temporarily unavailable' : databaseMessage(err, code);
      return new AppError(code, message, { cause: err });
    }
  }
  if (typeof err === 'object' && err !== null && 'code' in err && CONNECTION_ERRNOS.has(String((err as { code: unknown }).code))) {
    return new AppError('UNAVAILABLE', 'The database is temporarily unavailable', { cause: err });
  }
  return new AppError('INTERNAL', 'Internal error', { cause: err });
}

/**
 * Messages from our own triggers (OA*) are written for users; Postgres' own messages can name
 * internal objects, so for those we say only what kind of problem it was.
 */
function databaseMessage(err: unknown, code: ErrorCode): string {
  const state = sqlState(err) ?? '';
  if (state.startsWith('OA') && err instanceof Error) return err.message;
  switch (code) {
    case 'CONFLICT':
      return 'A resource with the same unique value already exists';
    case 'FORBIDDEN':
      return 'Your role does not allow this operation';
    default:
      return 'The request has a value the database rejected';
  }
}
