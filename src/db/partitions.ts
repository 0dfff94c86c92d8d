import { sqlState } from '../core/errors.ts';
import { asServiceRole } from './scoped.ts';
import type { Db } from './types.ts';

/**
 * The daily partitions of the raw telemetry tables (metric points, histogram points, logs, spans):
 * made ahead by the ensure-partitions job, and on demand by ingest when an event falls on a day that
 * has none yet (private.ensure_telemetry_partitions, migration ..0500_telemetry).
 */

/**
 * 23514 from these inserts means a row found no partition: every CHECK on the raw tables is already
 * enforced by validation. If it was something else, the retry fails the same way and surfaces.
 */
export function isMissingPartition(err: unknown): boolean {
  return sqlState(err) === '23514';
}

export async function ensurePartitions(db: Db, fromMs: number, toMs: number): Promise<number> {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const [row] = await asServiceRole(db, (tx) =>
    tx.query<{ made: number }>('select private.ensure_telemetry_partitions($1::date, $2::date) as made', [day(fromMs), day(toMs)]),
  );
  return Number(row?.made ?? 0);
}
