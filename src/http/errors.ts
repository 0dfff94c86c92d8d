import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AppError, toAppError } from '../core/errors.ts';
import type { AppEnv } from './context.ts';

/** The single error envelope: { error: { code, message, requestId, details? } }. */
export function errorResponse(c: Context<AppEnv>, err: unknown): Response {
  let appError: AppError;
  if (err instanceof HTTPException) {
    appError =
      err.status === 413
        ? new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large')
        : new AppError(err.status === 401 ? 'UNAUTHENTICATED' : 'BAD_REQUEST', err.message || 'Bad request');
  } else {
    appError = toAppError(err);
  }
  const logger = c.get('logger');
  if (appError.status >= 500) {
    logger?.error({ err: appError.cause ?? err, code: appError.code }, appError.message);
  }
  const requestId = c.get('requestId');
  for (const [k, v] of Object.entries(appError.headers ?? {})) c.header(k, v);
  if (appError.code === 'UNAUTHENTICATED') c.header('WWW-Authenticate', 'Bearer');
  if (appError.code === 'UNAVAILABLE' && !appError.headers?.['Retry-After']) c.header('Retry-After', '5');
  return c.json(
    {
      error: {
        code: appError.code,
        message: appError.message,
        requestId,
        ...(appError.details ? { details: appError.details } : {}),
      },
    },
    appError.status as 400,
  );
}
