import { z } from 'zod';

/** Exports of logs and spans to S3-compatible storage: request schemas and the views the API returns. */

export const Signal = z.enum(['logs', 'spans']);
export type Signal = z.output<typeof Signal>;

const Level = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** The longest range one run may cover: a month of daily partitions. */
export const MAX_RANGE_DAYS = 31;
export const DEFAULT_ROWS_PER_FILE = 100_000;
const RowsPerFile = z.number().int().min(100).max(1_000_000);

/** Optional narrowing of what a run exports; `level` applies to logs only. */
export const ExportFilter = z.strictObject({
  level: z.array(Level).min(1).max(6).optional(),
  service: z.array(z.string().min(1).max(200)).min(1).max(50).optional(),
});
export type ExportFilter = z.output<typeof ExportFilter>;

const Time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

/** Object key prefix: path segments of safe characters, no leading or trailing slash, no `.`/`..` segments. */
const Prefix = z
  .string()
  .max(200)
  .transform((s) => s.replace(/^\/+|\/+$/g, ''))
  .refine((s) => s === '' || /^[a-zA-Z0-9!_.*'()=-]+(\/[a-zA-Z0-9!_.*'()=-]+)*$/.test(s), 'must be path segments of letters, digits and !_.*\'()=-')
  .refine((s) => !/(^|\/)\.\.?(\/|$)/.test(s), 'must not contain . or .. segments');

export const CreateDestination = z.strictObject({
  projectId: z.uuid(),
  name: z.string().trim().min(1).max(200),
  /** The S3 API base URL; leave out for AWS S3. Supabase Storage: https://<ref>.supabase.co/storage/v1/s3 */
  endpoint: z
    .string()
    .max(500)
    .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'must be an http(s) URL without query or fragment')
    .transform((s) => s.replace(/\/+$/, ''))
    .optional(),
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,50}$/, 'must be a region name such as us-east-1')
    .default('us-east-1'),
  bucket: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$/, 'must be 3-63 letters, digits, dots, hyphens or underscores'),
  prefix: Prefix.default(''),
  /** Path-style URLs (endpoint/bucket/key): needed by Supabase Storage, MinIO and most local servers. */
  forcePathStyle: z.boolean().default(false),
  accessKeyId: z.string().min(1).max(200),
  secretAccessKey: z.string().min(1).max(200),
});
export type CreateDestination = z.output<typeof CreateDestination>;

export const IdParams = z.object({ id: z.uuid() });

export const ProjectQuery = z.strictObject({ projectId: z.uuid().optional() });
export type ProjectQuery = z.output<typeof ProjectQuery>;

/** Rules shared by requested runs and schedules: `level` only makes sense for logs. */
function checkFilter(v: { signal: Signal; filter?: ExportFilter | undefined }, ctx: z.RefinementCtx) {
  if (v.signal === 'spans' && v.filter?.level) {
    ctx.addIssue({ code: 'custom', path: ['filter', 'level'], message: 'applies to logs only' });
  }
}

export const RequestExport = z
  .strictObject({
    projectId: z.uuid().optional(),
    destinationId: z.uuid(),
    signal: Signal,
    /** Inclusive start and exclusive end of log time / span start time. */
    from: Time,
    to: Time,
    filter: ExportFilter.default({}),
    rowsPerFile: RowsPerFile.default(DEFAULT_ROWS_PER_FILE),
  })
  .superRefine((v, ctx) => {
    // Zod runs object refinements even when a field failed; then the times may not be Dates.
    if (!(v.from instanceof Date) || !(v.to instanceof Date)) return;
    if (v.to.getTime() <= v.from.getTime()) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (v.to.getTime() - v.from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${MAX_RANGE_DAYS} days after from` });
    }
    checkFilter(v, ctx);
  });
export type RequestExport = z.output<typeof RequestExport>;

export const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed']);
export type RunStatus = z.output<typeof RunStatus>;

export const ListExportsQuery = z.strictObject({
  projectId: z.uuid().optional(),
  status: RunStatus.optional(),
  signal: Signal.optional(),
  destinationId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListExportsQuery = z.output<typeof ListExportsQuery>;

const Day = z.iso.date();

export const PutSchedule = z
  .strictObject({
    projectId: z.uuid().optional(),
    destinationId: z.uuid(),
    signal: Signal,
    enabled: z.boolean().default(true),
    filter: ExportFilter.default({}),
    rowsPerFile: RowsPerFile.default(DEFAULT_ROWS_PER_FILE),
    /** First UTC day to export (YYYY-MM-DD); default yesterday. Only used when the schedule is created. */
    startDay: Day.optional(),
  })
  .superRefine(checkFilter);
export type PutSchedule = z.output<typeof PutSchedule>;

// ---------------------------------------------------------------------------- views

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const day = (d: Date | string | null) => (d === null ? null : typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10));

export const DESTINATION_COLUMNS =
  'id, project_id, organization_id, name, endpoint, region, bucket, prefix, force_path_style, access_key_id, verified_at, created_by, created_at';

export interface DestinationRow {
  id: string;
  project_id: string;
  organization_id: string;
  name: string;
  endpoint: string | null;
  region: string;
  bucket: string;
  prefix: string;
  force_path_style: boolean;
  access_key_id: string;
  verified_at: Date | null;
  created_by: string | null;
  created_at: Date;
}

/** A destination as the API shows it: never the secret key nor its ciphertext. */
export const toDestinationView = (r: DestinationRow) => ({
  id: r.id,
  projectId: r.project_id,
  organizationId: r.organization_id,
  name: r.name,
  endpoint: r.endpoint,
  region: r.region,
  bucket: r.bucket,
  prefix: r.prefix,
  forcePathStyle: r.force_path_style,
  accessKeyId: r.access_key_id,
  verifiedAt: iso(r.verified_at),
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
});

export const RUN_COLUMNS = `id, project_id, organization_id, destination_id, schedule_id, signal, from_time, to_time, filter, rows_per_file,
  status, row_count::text as row_count, byte_count::text as byte_count, files, progress, attempts, error, next_attempt_at,
  requested_by, created_at, started_at, finished_at`;

/** Where a run stands: the last key written, the UTC day it is in and that day's next part number. */
export interface RunProgress {
  after: string[];
  day: string;
  nextPart: number;
}

export interface RunRow {
  id: string;
  project_id: string;
  organization_id: string;
  destination_id: string;
  schedule_id: string | null;
  signal: Signal;
  from_time: Date;
  to_time: Date;
  filter: ExportFilter;
  rows_per_file: number;
  status: RunStatus;
  row_count: string;
  byte_count: string;
  files: string[];
  progress: RunProgress | null;
  attempts: number;
  error: string | null;
  next_attempt_at: Date | null;
  requested_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export const toRunView = (r: RunRow) => ({
  id: r.id,
  projectId: r.project_id,
  destinationId: r.destination_id,
  scheduleId: r.schedule_id,
  signal: r.signal,
  from: iso(r.from_time),
  to: iso(r.to_time),
  filter: r.filter,
  rowsPerFile: r.rows_per_file,
  status: r.status,
  rows: Number(r.row_count),
  bytes: Number(r.byte_count),
  files: r.files,
  progress: r.progress ? { day: r.progress.day, nextPart: r.progress.nextPart } : null,
  attempts: r.attempts,
  error: r.error,
  nextAttemptAt: iso(r.next_attempt_at),
  requestedBy: r.requested_by,
  createdAt: iso(r.created_at),
  startedAt: iso(r.started_at),
  finishedAt: iso(r.finished_at),
});
export type RunView = ReturnType<typeof toRunView>;

export const SCHEDULE_COLUMNS = `id, project_id, destination_id, signal, filter, rows_per_file, enabled, start_day::text as start_day,
  last_scheduled_day::text as last_scheduled_day, created_by, created_at, updated_at`;

export interface ScheduleRow {
  id: string;
  project_id: string;
  destination_id: string;
  signal: Signal;
  filter: ExportFilter;
  rows_per_file: number;
  enabled: boolean;
  start_day: string;
  last_scheduled_day: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export const toScheduleView = (r: ScheduleRow) => ({
  id: r.id,
  projectId: r.project_id,
  destinationId: r.destination_id,
  signal: r.signal,
  filter: r.filter,
  rowsPerFile: r.rows_per_file,
  enabled: r.enabled,
  startDay: day(r.start_day),
  lastScheduledDay: day(r.last_scheduled_day),
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
