import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { invalid, refuseNul } from '../http/validate.ts';

/**
 * The query-string language log search and trace reads share: log ids as the API shows them, and
 * attribute conditions (`attr.<key>=<value>`) split off the rest of the query.
 */

/** At most this many `attr.` conditions in one request. */
export const MAX_ATTRIBUTE_FILTERS = 10;

/** A log id: a positive 64-bit integer in decimal. */
export const LogId = z
  .string()
  .regex(/^\d{1,19}$/, 'must be a log id')
  .refine((s) => !/^\d{1,19}$/.test(s) || BigInt(s) <= 9223372036854775807n, 'must be a log id');

export interface AttributeFilter {
  key: string;
  value: string;
}

/**
 * Splits `attr.*` parameters off the query (their keys are free-form) and validates the rest with
 * `schema`. Unknown parameters are a 400 naming them, so a typo never silently widens a search.
 */
export function parseLogQuery<S extends z.ZodType>(query: Record<string, string>, schema: S): { params: z.output<S>; attributes: AttributeFilter[] } {
  const rest: Record<string, string> = {};
  const attributes: AttributeFilter[] = [];
  for (const [k, v] of Object.entries(refuseNul('query', query))) {
    if (k.startsWith('attr.')) {
      const key = k.slice(5);
      if (key === '' || key.length > 200) throw invalid(`query.${k}`, 'attribute key must be 1-200 characters');
      if (v.length > 1000) throw invalid(`query.${k}`, 'attribute value must be at most 1000 characters');
      attributes.push({ key, value: v });
    } else rest[k] = v;
  }
  if (attributes.length > MAX_ATTRIBUTE_FILTERS) throw invalid('query.attr', `at most ${MAX_ATTRIBUTE_FILTERS} attribute filters`);
  const result = schema.safeParse(rest);
  if (!result.success) {
    const details = result.error.issues.map((i) => ({
      field: ['query', ...(i.code === 'unrecognized_keys' ? [i.keys.join(',')] : i.path.map(String))].join('.'),
      message: i.message,
    }));
    throw new AppError('VALIDATION_FAILED', `${details[0]!.field}: ${details[0]!.message}`, { details });
  }
  return { params: result.data, attributes };
}

