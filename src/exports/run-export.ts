/**
 * Executes export runs as the service role: claims a run, writes its parts to the destination with
 * PutObject, and records progress after each part.
 *
 * Invariants (also in supabase/migrations/20261126001200_exports.sql):
 * - Rows are read in keyset order (logs: time, id; spans: start_time, trace_id, span_id) strictly
 *   after the run's progress cursor, one UTC day per part, at most rows_per_file rows per part.
 * - A part is a pure function of (run, cursor, data): its rows are "the next rows_per_file rows of
 *   the cursor's day after the cursor", and its key is part-<nextPart>-<run id> in that day's folder.
 *   The cursor moves (with row_count, byte_count and files, in one UPDATE) only after PutObject
 *   succeeded. A run that failed or crashed between the two rewrites the same key with the same rows
 *   when it resumes, so every row is written exactly once and no object is left behind twice.
 * - Every state change is conditional on the claim_token of the execution that claimed the run: a
 *   runner whose lease lapsed (and whose run another runner took over) changes nothing more.
 * - Rows that arrive with a time before a run's cursor after it passed them are not in that run
 *   (ingest accepts events up to 7 days late); schedules wait SCHEDULE_SETTLE_MS after a day ends.
 */
import type { Deps } from '../core/deps.ts';
import { sqlState } from '../core/errors.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Db } from '../db/types.ts';
import { gzipWriter } from './gzip.ts';
import { partKey, schemaKey } from './layout.ts';
import { type ObjectStore, openObjectStore } from './object-store.ts';
import { RUN_COLUMNS, type RunProgress, type RunRow } from './schemas.ts';
import type { SecretBox } from '../core/secret-box.ts';
import { bigQuerySchema, lineSql, SIGNALS } from './signals.ts';

/** How long a claim holds without progress; renewed after every part. */
export const LEASE_MS = 10 * 60_000;
/** Executions of a run the job starts by itself (the first and two retries); POST /:id/retry starts more. */
export const MAX_ATTEMPTS = 3;
/** Automatic retry delay after the nth failed execution: 5 min, 10 min, ... */
export const RETRY_BASE_MS = 5 * 60_000;
/** Rows fetched per query while filling a part. */
const PAGE_ROWS = 5_000;
const DAY_MS = 86_400_000;

export type ClaimedRun = RunRow & { claim_token: string };
export type RunOutcome = 'succeeded' | 'failed' | 'yielded' | 'lost';

type RunnerDeps = Pick<Deps, 'db' | 'logger' | 'clock' | 'outbound'>;

/**
 * Claims the oldest run that is due: queued, failed with an automatic retry due, or running with a
 * lapsed lease (a crashed or yielding runner). Starting from queued or failed counts an attempt.
 */
export async function claimNextRun(db: Db, now: Date): Promise<ClaimedRun | null> {
  const [run] = await asServiceRole(db, (tx) =>
    tx.query<ClaimedRun>(
      `with next as (
         select id as next_id from public.export_runs
         where status = 'queued'
            or (status = 'running' and lease_expires_at <= $1)
            or (status = 'failed' and next_attempt_at <= $1)
         order by created_at, id
         limit 1
         for update skip locked
       )
       update public.export_runs r
       set status = 'running',
           attempts = r.attempts + case when r.status = 'running' then 0 else 1 end,
           claim_token = gen_random_uuid(),
           lease_expires_at = $2,
           started_at = coalesce(r.started_at, $1),
           next_attempt_at = null,
           finished_at = null,
           error = case when r.status = 'running' then r.error end
       from next where r.id = next.next_id
       returning ${RUN_COLUMNS}, claim_token`,
      [now, new Date(now.getTime() + LEASE_MS)],
    ),
  );
  return run ?? null;
}

interface DestinationSecretRow {
  id: string;
  endpoint: string | null;
  region: string;
  bucket: string;
  prefix: string;
  force_path_style: boolean;
  access_key_id: string;
  secret_ciphertext: string;
}

/**
 * Runs a claimed run until it is done, fails, or the deadline (performance.now() based) passes after
 * at least one part: then it yields, leaving the run claimable at once with its cursor.
 */
export async function executeRun(deps: RunnerDeps, box: SecretBox, run: ClaimedRun, deadline: number): Promise<RunOutcome> {
  const log = deps.logger.child({ exportRun: run.id });
  const [dest] = await asServiceRole(deps.db, (tx) =>
    tx.query<DestinationSecretRow>(
      `select id, endpoint, region, bucket, prefix, force_path_style, access_key_id, secret_ciphertext
       from public.export_destinations where id = $1`,
      [run.destination_id],
    ),
  );
  // The destination was deleted; its runs went with it (on delete cascade).
  if (!dest) return 'lost';
  let store: ObjectStore | undefined;
  try {
    const secretAccessKey = await box.open(dest.secret_ciphertext, dest.id);
    // Through the guard on every run: where the endpoint resolves now is what counts, not at creation.
    store = await openObjectStore(
      {
        endpoint: dest.endpoint,
        region: dest.region,
        bucket: dest.bucket,
        forcePathStyle: dest.force_path_style,
        accessKeyId: dest.access_key_id,
        secretAccessKey,
      },
      deps.outbound,
    );
    // Same content every time: rewriting it on each execution is harmless and keeps it present.
    const schema = new TextEncoder().encode(`${JSON.stringify(bigQuerySchema(run.signal), null, 2)}\n`);
    await store.put(schemaKey(dest.prefix, run.project_id, run.signal), schema, 'application/json');
    let progress = run.progress;
    for (let first = true; ; first = false) {
      if (!first && performance.now() > deadline) {
        await update(deps.db, run, `lease_expires_at = $3`, [deps.clock.now()]);
        return 'yielded';
      }
      const part = await buildNextPart(deps.db, run, progress, dest.prefix);
      if (!part) {
        const done = await update(deps.db, run, `status = 'succeeded', finished_at = $3, claim_token = null, lease_expires_at = null, error = null`, [
          deps.clock.now(),
        ]);
        return done ? 'succeeded' : 'lost';
      }
      await store.put(part.key, part.body, 'application/gzip');
      const committed = await update(
        deps.db,
        run,
        `progress = $3::text::jsonb, row_count = row_count + $4, byte_count = byte_count + $5, files = array_append(files, $6::text),
         lease_expires_at = $7`,
        [JSON.stringify(part.progress), part.rows, part.body.byteLength, part.key, new Date(deps.clock.now().getTime() + LEASE_MS)],
      );
      if (!committed) return 'lost';
      progress = part.progress;
    }
  } catch (err) {
    // Readers of the project see this message: Postgres' own texts can name internal objects.
    const state = sqlState(err);
    const message = state ? `The database refused or cancelled a read (SQLSTATE ${state})` : err instanceof Error ? err.message : String(err);
    log.warn({ err }, 'export run failed');
    const now = deps.clock.now();
    const retryAt = run.attempts < MAX_ATTEMPTS ? new Date(now.getTime() + RETRY_BASE_MS * 2 ** (run.attempts - 1)) : null;
    await update(deps.db, run, `status = 'failed', error = $3, finished_at = $4, next_attempt_at = $5, claim_token = null, lease_expires_at = null`, [
      message.slice(0, 2000),
      now,
      retryAt,
    ]);
    return 'failed';
  } finally {
    store?.close();
  }
}

/** Changes the run only while this execution still holds its claim; false when it does not. */
async function update(db: Db, run: ClaimedRun, set: string, params: unknown[]): Promise<boolean> {
  const rows = await asServiceRole(db, (tx) =>
    tx.query(`update public.export_runs set ${set} where id = $1 and claim_token = $2 returning id`, [run.id, run.claim_token, ...params]),
  );
  return rows.length === 1;
}

interface Part {
  key: string;
  body: Uint8Array;
  rows: number;
  progress: RunProgress;
}

/** The part after `progress`: up to rows_per_file rows of one UTC day, gzipped NDJSON; null when no rows are left. */
async function buildNextPart(db: Db, run: RunRow, progress: RunProgress | null, prefix: string): Promise<Part | null> {
  const spec = SIGNALS[run.signal];
  const keyList = spec.keys.map((k) => k.column).join(', ');
  const where = (after: string[] | undefined, upper: Date, params: unknown[]) => {
    params.push(run.project_id, run.from_time, upper);
    let sql = `project_id = $1 and ${spec.timeColumn} >= $2 and ${spec.timeColumn} < $3${spec.filterSql(run.filter, params)}`;
    if (after) {
      // Bound as text, then cast: postgres.js sends a timestamptz parameter through a JS Date, which
      // would cut the cursor's microseconds and make the last row of a part come back in the next.
      const cursorParams = spec.keys.map((k, i) => `$${params.push(after[i])}::text::${k.cast}`);
      sql += ` and (${keyList}) > (${cursorParams.join(', ')})`;
    }
    return sql;
  };

  const firstParams: unknown[] = [];
  const firstWhere = where(progress?.after, run.to_time, firstParams);
  const [first] = await read<{ t: string }>(db, `select ${spec.keys[0]!.text} as t from ${spec.table} where ${firstWhere} order by ${keyList} limit 1`, firstParams);
  if (!first) return null;
  const day = first.t.slice(0, 10);
  const dayEnd = new Date(Math.min(run.to_time.getTime(), Date.parse(`${day}T00:00:00Z`) + DAY_MS));
  const partNo = progress && progress.day === day ? progress.nextPart : 0;

  const gz = gzipWriter();
  let rows = 0;
  let after = progress?.after;
  try {
    while (rows < run.rows_per_file) {
      const limit = Math.min(PAGE_ROWS, run.rows_per_file - rows);
      const params: unknown[] = [];
      const pageWhere = where(after, dayEnd, params);
      const keyColumns = spec.keys.map((k, i) => `${k.text} as k${i}`).join(', ');
      const page = await read<Record<string, string>>(
        db,
        `select ${lineSql(run.signal)} as line, ${keyColumns} from ${spec.table} where ${pageWhere} order by ${keyList} limit $${params.length + 1}`,
        [...params, limit],
      );
      if (page.length === 0) break;
      const lines = page.map((r) => r.line!);
      await gz.write(`${(spec.finishLines ? await spec.finishLines(db, lines) : lines).join('\n')}\n`);
      rows += page.length;
      const last = page[page.length - 1]!;
      after = spec.keys.map((_, i) => String(last[`k${i}`]));
      if (page.length < limit) break;
    }
  } catch (err) {
    gz.abort();
    throw err;
  }
  const body = await gz.finish();
  // A cursor that does not move would write the same rows again and again; better to fail loudly.
  if (progress && JSON.stringify(after) === JSON.stringify(progress.after)) throw new Error('export cursor did not advance');
  return {
    key: partKey(prefix, run.project_id, run.signal, day, partNo, run.id),
    body,
    rows,
    progress: { after: after!, day, nextPart: partNo + 1 },
  };
}

async function read<T>(db: Db, sql: string, params: unknown[]): Promise<T[]> {
  return asServiceRole(db, (tx) => tx.query<T>(sql, params), { statement_timeout: '60s' });
}
