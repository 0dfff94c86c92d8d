import type { Context } from 'hono';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';

function fail(where: 'body' | 'query' | 'path', error: z.ZodError): never {
  const details = error.issues.map((i) => ({
    field: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  const first = details[0]!;
  throw new AppError('VALIDATION_FAILED', `${first.field}: ${first.message}`, { details });
}

/** Parses a JSON body against a schema; every failure is a 4xx naming the field. */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== '') {
    if (!/^application\/(.+\+)?json\b/i.test(type)) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw new AppError('BAD_REQUEST', 'The body is not valid JSON');
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) fail('body', result.error);
  return result.data;
}

/** Postgres text cannot hold NUL: a parameter carrying one is a 400 naming it, never a database error. */
export function refuseNul(where: 'query' | 'path', values: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(values)) {
    if (k.includes('\u0000') || v.includes('\u0000')) {
      const field = `${where}.${k.replaceAll('\u0000', '')}`;
      throw new AppError('VALIDATION_FAILED', `${field}: must not contain NUL characters`, { details: [{ field, message: 'must not contain NUL characters' }] });
    }
  }
  return values;
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const result = schema.safeParse(refuseNul('query', c.req.query()));
  if (!result.success) fail('query', result.error);
  return result.data;
}

export function parseParams<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const result = schema.safeParse(refuseNul('path', c.req.param()));
  if (!result.success) fail('path', result.error);
  return result.data;
}

/** A 400 naming one field: `query.from: must be before to`. */
export function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${field}: ${message}`, { details: [{ field, message }] });
}

/** A comma-separated list parameter (`service=a,b`). */
export const List = <T extends z.ZodType<unknown, string>>(item: T, max: number) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .pipe(z.array(item).min(1, 'must name at least one value').max(max));
