/**
 * Exit codes scripts can rely on, and the one error every failure becomes before it is printed.
 * A server error keeps the server's code and message (`{ error: { code, message, details } }`).
 */
export const EXIT = {
  OK: 0,
  /** The server refused the request (other than 401, 403, 404), a network failure, a failed operation. */
  ERROR: 1,
  /** The command line is wrong: unknown command or flag, a missing or malformed value. */
  USAGE: 2,
  /** No credentials, or the server refused them (401, 403). */
  AUTH: 3,
  /** The server answered 404. */
  NOT_FOUND: 4,
  /** Ctrl-C (except for `tail`, which ends with 0). */
  INTERRUPTED: 130,
} as const;

export interface ErrorDetail {
  field?: string;
  message: string;
}

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: number,
    readonly code: string,
    message: string,
    readonly extra: { status?: number; details?: ErrorDetail[]; requestId?: string; hint?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }

  withHint(hint: string | undefined): CliError {
    return hint ? new CliError(this.exitCode, this.code, this.message, { ...this.extra, hint }) : this;
  }
}

/** A command-line mistake: exit 2, with the message naming the flag or argument. */
export function usage(message: string, hint?: string): CliError {
  return new CliError(EXIT.USAGE, 'USAGE', message, { hint });
}

export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  return EXIT.ERROR;
}

/** The server's error envelope (docs/API.md#errors), or what can be said about a body that is not one. */
export function serverError(status: number, text: string, headers: Headers): CliError {
  let envelope: { code?: unknown; message?: unknown; details?: unknown; requestId?: unknown } | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null) envelope = parsed.error as typeof envelope;
  } catch {
    // not JSON: a proxy's page, an HTML error
  }
  const code = typeof envelope?.code === 'string' ? envelope.code : `HTTP_${status}`;
  const message = typeof envelope?.message === 'string' ? envelope.message : text.trim().slice(0, 300) || `the server answered ${status}`;
  const details = Array.isArray(envelope?.details)
    ? (envelope.details as unknown[]).flatMap((d) =>
        d && typeof d === 'object' && typeof (d as ErrorDetail).message === 'string'
          ? [{ field: typeof (d as ErrorDetail).field === 'string' ? (d as ErrorDetail).field : undefined, message: (d as ErrorDetail).message }]
          : [],
      )
    : undefined;
  const requestId = typeof envelope?.requestId === 'string' ? envelope.requestId : (headers.get('x-request-id') ?? undefined);
  const retryAfter = Number(headers.get('retry-after') ?? Number.NaN);
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
  const hint = retryAfterSeconds !== undefined && (status === 429 || status === 503) ? `retry after ${retryAfterSeconds} s` : undefined;
  return new CliError(exitCodeForStatus(status), code, message, { status, details, requestId, hint, retryAfterSeconds });
}

/** Anything thrown becomes a CliError; a bug is INTERNAL (exit 1) with its message. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  return new CliError(EXIT.ERROR, 'INTERNAL', err instanceof Error ? err.message : String(err));
}
