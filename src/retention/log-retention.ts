import { asServiceRole } from '../db/scoped.ts';
import type { Db } from '../db/types.ts';
import { LOG_LEVELS, type LogLevel, type LogRetentionDays } from './schemas.ts';

const DAY = 86_400_000;

/** Days kept when a project has no log_retention_settings row (the table's column defaults agree). */
export const LOG_RETENTION_DEFAULTS: LogRetentionDays = {
  levels: { trace: 7, debug: 7, info: 30, warn: 90, error: 90, fatal: 90 },
  spans: 30,
};

/** At most this many rows (plus rows sharing the last timestamp) are deleted per statement. */
export const LOG_RETENTION_BATCH = 5_000;
/** Projects per candidate or counting statement, so a run checks its deadline between them. */
const PROJECT_CHUNK = 200;

/** The day columns of public.log_retention_settings. */
export interface RetentionRow {
  trace_days: number;
  debug_days: number;
  info_days: number;
  warn_days: number;
  error_days: number;
  fatal_days: number;
  span_days: number;
}
export const RETENTION_COLUMNS = ['trace_days', 'debug_days', 'info_days', 'warn_days', 'error_days', 'fatal_days', 'span_days'] as const;

/** A settings row as days per level, or the defaults when there is no row. */
export function retentionDays(row: RetentionRow | undefined): LogRetentionDays {
  if (!row) return { levels: { ...LOG_RETENTION_DEFAULTS.levels }, spans: LOG_RETENTION_DEFAULTS.spans };
  return {
    levels: { trace: row.trace_days, debug: row.debug_days, info: row.info_days, warn: row.warn_days, error: row.error_days, fatal: row.fatal_days },
    spans: row.span_days,
  };
}

/** One retention target: its days, the cutoff they give (rows with time < cutoff go) and a row count. */
export interface RetentionTarget {
  days: number;
  cutoff: string;
  rows: number;
}

export interface ProjectRetention {
  projectId: string;
  /** False when the project has no settings row and keeps the defaults. */
  custom: boolean;
  levels: Record<LogLevel, RetentionTarget>;
  spans: RetentionTarget;
}

/** Cutoffs of a project at `now`: strict, so a row exactly `days` old stays. */
export function projectRetention(projectId: string, custom: boolean, days: LogRetentionDays, now: Date): ProjectRetention {
  const target = (d: number): RetentionTarget => ({ days: d, cutoff: new Date(now.getTime() - d * DAY).toISOString(), rows: 0 });
  return {
    projectId,
    custom,
    levels: Object.fromEntries(LOG_LEVELS.map((l) => [l, target(days.levels[l])])) as Record<LogLevel, RetentionTarget>,
    spans: target(days.spans),
  };
}

export interface LogRetentionReport {
  dryRun: boolean;
  /**
   * Whole daily partitions dropped (in a dry run: that would be): those of days before `before`, the
   * UTC day of now - the longest retention of any project or of the defaults.
   */
  partitions: Record<'logs' | 'spans', { before: string; names: string[] }>;
  /**
   * Projects with rows deleted one by one (in a dry run: that would be), per level and for spans.
   * Rows in the dropped partitions are not counted here.
   */
  projects: ProjectRetention[];
  totals: { levels: Record<LogLevel, number>; spans: number };
  /** False when the deadline came first; the next run resumes. */
  complete: boolean;
}

const SETTINGS_SQL = `select p.id as project_id, s.project_id is not null as custom, ${RETENTION_COLUMNS.map((c) => `s.${c}`).join(', ')}
  from public.projects p left join public.log_retention_settings s on s.project_id = p.id order by p.id`;

// (project, level, cutoff) pairs arrive as one JSON document; each subquery is an index range scan on
// logs (project_id, level, time desc, id desc), run-time pruned to the partitions before the cutoff.
const PAIRS = `jsonb_to_recordset($1::text::jsonb) as c(project_id uuid, level text, cutoff timestamptz)`;
// lateral + limit 1, not exists: Postgres would turn exists into a semi join reading all of logs.
const LOGS_DUE_SQL = `select c.project_id, c.level from ${PAIRS}
  cross join lateral (select 1 from public.logs l where l.project_id = c.project_id and l.level = c.level and l.time < c.cutoff limit 1) x`;
const LOGS_COUNT_SQL = `select c.project_id, c.level,
    (select count(*) from public.logs l where l.project_id = c.project_id and l.level = c.level and l.time >= $2 and l.time < c.cutoff) as n
  from ${PAIRS}`;
// One batch: the oldest BATCH rows of (project, level) before the cutoff, as a time range (rows sharing
// the last time go with it), so the delete is a plain index range scan; fewer than BATCH rows: all of them.
const LOGS_TRIM_SQL = `with b as (
    select time from public.logs where project_id = $1 and level = $2 and time < $3 order by time limit 1 offset ${LOG_RETENTION_BATCH - 1}
  ), d as (
    delete from public.logs where project_id = $1 and level = $2 and time < $3 and time <= coalesce((select time from b), $3) returning 1
  ) select count(*) as n from d`;

const PROJECTS = `jsonb_to_recordset($1::text::jsonb) as c(project_id uuid, cutoff timestamptz)`;
const SPANS_DUE_SQL = `select c.project_id from ${PROJECTS}
  cross join lateral (select 1 from public.spans s where s.project_id = c.project_id and s.start_time < c.cutoff limit 1) x`;
const SPANS_COUNT_SQL = `select c.project_id,
    (select count(*) from public.spans s where s.project_id = c.project_id and s.start_time >= $2 and s.start_time < c.cutoff) as n
  from ${PROJECTS}`;
// Spans are indexed by (project_id, service, start_time desc): the services with spans before the
// cutoff come from a loose index scan (one index descent per service), then each is trimmed by range.
const SPAN_SERVICES_SQL = `with recursive s(service) as (
    (select service from public.spans where project_id = $1 and start_time < $2 order by service limit 1)
    union all
    select (select x.service from public.spans x where x.project_id = $1 and x.start_time < $2 and x.service > s.service order by x.service limit 1)
    from s where s.service is not null
  ) select service from s where service is not null`;
const SPANS_TRIM_SQL = `with b as (
    select start_time from public.spans where project_id = $1 and service = $2 and start_time < $3 order by start_time limit 1 offset ${LOG_RETENTION_BATCH - 1}
  ), d as (
    delete from public.spans where project_id = $1 and service = $2 and start_time < $3 and start_time <= coalesce((select start_time from b), $3) returning 1
  ) select count(*) as n from d`;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Log and span retention for every project (its settings row, or the defaults). Whole daily
 * partitions go when every row in them is past retention for every project; younger rows past their
 * project's cutoff are deleted per (project, level) and per (project, service) for spans, in batches
 * of LOG_RETENTION_BATCH, until done or past the deadline (then complete is false and the next run
 * resumes). Nothing inside its retention is touched. With dryRun nothing changes and the report says
 * what a run at `now` would remove.
 */
export async function applyLogRetention(db: Db, now: Date, deadline: number, opts: { dryRun?: boolean } = {}): Promise<LogRetentionReport> {
  const dryRun = opts.dryRun ?? false;
  const settings = await asServiceRole(db, (tx) => tx.query<RetentionRow & { project_id: string; custom: boolean }>(SETTINGS_SQL));
  const plans = settings.map((r) => projectRetention(r.project_id, r.custom, retentionDays(r.custom ? r : undefined), now));
  const byId = new Map(plans.map((p) => [p.projectId, p]));

  // The longest retention anywhere decides which whole days can go.
  let logsMax = Math.max(...Object.values(LOG_RETENTION_DEFAULTS.levels));
  let spansMax = LOG_RETENTION_DEFAULTS.spans;
  for (const p of plans) {
    for (const l of LOG_LEVELS) logsMax = Math.max(logsMax, p.levels[l].days);
    spansMax = Math.max(spansMax, p.spans.days);
  }
  const partitions: LogRetentionReport['partitions'] = {
    logs: { before: utcDay(now.getTime() - logsMax * DAY), names: [] },
    spans: { before: utcDay(now.getTime() - spansMax * DAY), names: [] },
  };
  const fn = dryRun ? 'private.telemetry_partitions_before' : 'private.drop_telemetry_partitions_before';
  for (const table of ['logs', 'spans'] as const) {
    const [row] = await asServiceRole(db, (tx) => tx.query<{ names: string[] }>(`select ${fn}($1, $2::date) as names`, [table, partitions[table].before]));
    partitions[table].names = [...(row?.names ?? [])].sort();
  }
  // Dropping a partition fires no delete trigger: the counts of the dropped days go here (every run,
  // so a run that stopped between the two statements is made good by the next).
  if (!dryRun) {
    await asServiceRole(db, (tx) => tx.query('delete from public.log_counts where minute < $1', [new Date(`${partitions.logs.before}T00:00:00Z`)]));
  }

  const state = { complete: true };
  const timeUp = () => {
    if (performance.now() > deadline) state.complete = false;
    return !state.complete;
  };

  logs: for (const chunk of chunks(plans, PROJECT_CHUNK)) {
    if (timeUp()) break;
    const pairs = JSON.stringify(chunk.flatMap((p) => LOG_LEVELS.map((level) => ({ project_id: p.projectId, level, cutoff: p.levels[level].cutoff }))));
    if (dryRun) {
      const counted = await asServiceRole(db, (tx) =>
        tx.query<{ project_id: string; level: LogLevel; n: unknown }>(LOGS_COUNT_SQL, [pairs, new Date(`${partitions.logs.before}T00:00:00Z`)]),
      );
      for (const r of counted) byId.get(r.project_id)!.levels[r.level].rows = Number(r.n);
      continue;
    }
    const due = await asServiceRole(db, (tx) => tx.query<{ project_id: string; level: LogLevel }>(LOGS_DUE_SQL, [pairs]));
    for (const { project_id, level } of due) {
      const target = byId.get(project_id)!.levels[level];
      target.rows += await trim(db, LOGS_TRIM_SQL, [project_id, level, new Date(target.cutoff)], deadline, state);
      if (!state.complete) break logs;
    }
  }

  spans: for (const chunk of chunks(plans, PROJECT_CHUNK)) {
    if (timeUp()) break;
    const projects = JSON.stringify(chunk.map((p) => ({ project_id: p.projectId, cutoff: p.spans.cutoff })));
    if (dryRun) {
      const counted = await asServiceRole(db, (tx) =>
        tx.query<{ project_id: string; n: unknown }>(SPANS_COUNT_SQL, [projects, new Date(`${partitions.spans.before}T00:00:00Z`)]),
      );
      for (const r of counted) byId.get(r.project_id)!.spans.rows = Number(r.n);
      continue;
    }
    const due = await asServiceRole(db, (tx) => tx.query<{ project_id: string }>(SPANS_DUE_SQL, [projects]));
    for (const { project_id } of due) {
      const target = byId.get(project_id)!.spans;
      const cutoff = new Date(target.cutoff);
      const services = await asServiceRole(db, (tx) => tx.query<{ service: string }>(SPAN_SERVICES_SQL, [project_id, cutoff]));
      for (const { service } of services) {
        target.rows += await trim(db, SPANS_TRIM_SQL, [project_id, service, cutoff], deadline, state);
        if (!state.complete) break spans;
      }
    }
  }

  const projects = plans.filter((p) => p.spans.rows > 0 || LOG_LEVELS.some((l) => p.levels[l].rows > 0));
  const totals = {
    levels: Object.fromEntries(LOG_LEVELS.map((l) => [l, projects.reduce((sum, p) => sum + p.levels[l].rows, 0)])) as Record<LogLevel, number>,
    spans: projects.reduce((sum, p) => sum + p.spans.rows, 0),
  };
  return { dryRun, partitions, projects, totals, complete: state.complete };
}

/** Runs one batched delete until fewer than a batch is left or the deadline passes; returns rows deleted. */
async function trim(db: Db, sql: string, params: unknown[], deadline: number, state: { complete: boolean }): Promise<number> {
  let removed = 0;
  for (;;) {
    if (performance.now() > deadline) {
      state.complete = false;
      return removed;
    }
    const [row] = await asServiceRole(db, (tx) => tx.query<{ n: unknown }>(sql, params));
    const n = Number(row?.n ?? 0);
    removed += n;
    if (n < LOG_RETENTION_BATCH) return removed;
  }
}

/** The job record's view of a run: what went, without the per-project detail (which can be long). */
export function summarizeLogRetention(r: LogRetentionReport) {
  return {
    droppedPartitions: [...r.partitions.logs.names, ...r.partitions.spans.names],
    deleted: { ...r.totals.levels, spans: r.totals.spans },
    projects: r.projects.length,
    complete: r.complete,
  };
}
