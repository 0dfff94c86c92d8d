import { createIdCodec, type IdCodec } from '../core/id-permutation.ts';
import { publicIdCodec } from '../db/public-ids.ts';
import type { Queryable } from '../db/types.ts';

/**
 * The ids the API shows for log lines (docs/adr/0006-log-ids.md). Internally a line keeps the value
 * of one global sequence (public.logs.id: the live tail's order, keyset tie-breaks, the index by id);
 * two of a tenant's lines would tell how many lines every other tenant wrote in between. Outside, a
 * line is known by a keyed permutation of that value over [0, 2^63) (src/core/id-permutation.ts)
 * under a key derived from the installation's secret. Nothing is stored: ids are translated where the
 * API reads and answers them.
 *
 * Any 63-bit value translates to some internal id, mostly of no line; callers look the result up
 * under RLS as before, so a guessed id is a 404, like an id of another tenant.
 */
export type LogIdCodec = IdCodec;

/** The codec of this installation (its secret is read once per Db). */
export function logIdCodec(db: Queryable): Promise<LogIdCodec> {
  return publicIdCodec(db, 'observai log ids v1');
}

/** A log id codec under a given key (tests, and the published test vectors). */
export const createLogIdCodec = createIdCodec;
