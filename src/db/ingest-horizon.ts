import type { Db } from './types.ts';

/**
 * The lowest transaction id that may still commit an ingest_usage row in this database: the oldest
 * transaction in progress here, or the snapshot's xmax when none is. Transactions of other databases
 * of the cluster are ignored (they cannot write our rows), so a long job elsewhere cannot stall
 * rollups; one here can delay them, never make them skip a row. Runs as the connecting role, which
 * sees its own sessions in pg_stat_activity (ingest runs on the same role).
 */
export async function ingestHorizon(db: Db): Promise<string> {
  const [snap] = await db.query<{ xmax: string; xip: string[] }>(
    `select pg_snapshot_xmax(s)::text as xmax, array(select x::text from pg_snapshot_xip(s) x) as xip from pg_current_snapshot() s`,
  );
  const running = await db.query<{ xid: string }>(
    `select backend_xid::text as xid from pg_stat_activity where datname = current_database() and backend_xid is not null`,
  );
  const ours = new Set(running.map((r) => r.xid));
  let horizon = BigInt(snap!.xmax);
  for (const x of snap!.xip) {
    const full = BigInt(x);
    // backend_xid is the 32-bit xid; xip holds 64-bit xid8 values.
    if (ours.has(String(full & 0xffffffffn)) && full < horizon) horizon = full;
  }
  return horizon.toString();
}
