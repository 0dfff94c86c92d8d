/**
 * Exports of logs and spans to S3-compatible storage (/logs/exports): request a run, then follow it
 * until it succeeds or fails, with a progress bar on a terminal. The server's export-telemetry job
 * does the work; a request starts it at once in the background.
 */
import type { Api } from '../api.ts';
import { checkId, type Command, type Ctx } from '../command.ts';
import { CliError, EXIT, usage } from '../errors.ts';
import { bytes, count, listing } from '../output.ts';
import { formatDuration } from '../time.ts';
import { checkProjectId } from './auth.ts';
import { LEVELS } from './tail.ts';

interface Run {
  id: string;
  projectId: string;
  destinationId: string;
  signal: 'logs' | 'spans';
  from: string;
  to: string;
  filter: { level?: string[]; service?: string[] };
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  rows: number;
  bytes: number;
  files: string[];
  progress: { day: string; nextPart: number } | null;
  attempts: number;
  error: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  finishedAt: string | null;
}

const PROGRESS = ['auto', 'bar', 'lines', 'none'] as const;
const POLL_MS = 1000;
const BAR_WIDTH = 24;

/**
 * How many rows the run will write, for the bar: logs are counted by the level histogram over the
 * same range and filter (answered from per-minute counts, cheap). Spans have no cheap count; their
 * bar follows the day being written. Unknown (undefined) when the count fails.
 */
async function expectedRows(api: Api, run: Run): Promise<number | undefined> {
  if (run.signal !== 'logs') return undefined;
  try {
    const h = await api.get<{ total: number }>('/logs/histogram', {
      projectId: run.projectId,
      from: run.from,
      to: run.to,
      buckets: 1,
      level: run.filter.level,
      service: run.filter.service,
    });
    return h.total;
  } catch {
    return undefined;
  }
}

/** 0..1: rows written of those expected, else how far the day being written is into the range. */
function fraction(run: Run, total: number | undefined): number {
  if (run.status === 'succeeded') return 1;
  if (total !== undefined && total > 0) return Math.min(0.99, run.rows / total);
  if (!run.progress) return 0;
  const from = Date.parse(run.from);
  const span = Date.parse(run.to) - from;
  const day = Date.parse(`${run.progress.day}T00:00:00Z`);
  return span > 0 ? Math.min(0.99, Math.max(0, (day - from) / span)) : 0;
}

function progressText(run: Run, total: number | undefined): string {
  const parts: string[] = [run.status];
  if (run.progress) parts.push(`day ${run.progress.day} part ${run.progress.nextPart}`);
  parts.push(`${count(run.rows)}${total !== undefined ? `/${count(total)}` : ''} rows`, bytes(run.bytes), `${run.files.length} files`);
  return parts.join('  ');
}

function renderBar(ctx: Ctx, run: Run, total: number | undefined): string {
  const f = fraction(run, total);
  const filled = Math.round(f * BAR_WIDTH);
  const bar = ctx.out.c.green('█'.repeat(filled)) + ctx.out.c.gray('░'.repeat(BAR_WIDTH - filled));
  return `export ${run.id.slice(0, 8)} [${bar}] ${String(Math.round(f * 100)).padStart(3)}%  ${progressText(run, total)}`;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Polls the run until it is done (or --wait passes), drawing progress; the exit code is the run's outcome. */
async function follow(ctx: Ctx, api: Api, queued: Run): Promise<number> {
  const mode = ctx.flags.choice('progress', PROGRESS) ?? 'auto';
  const style = mode === 'auto' ? (ctx.io.stderr.isTTY ? 'bar' : 'none') : mode;
  const waitMs = ctx.flags.duration('wait') ?? 3_600_000;
  const deadline = ctx.io.now() + waitMs;
  const total = style === 'bar' || style === 'lines' ? await expectedRows(api, queued) : undefined;
  let run = queued;
  let last = '';
  const draw = () => {
    if (style === 'bar') ctx.out.raw(`\r${renderBar(ctx, run, total)}\x1b[K`);
    else if (style === 'lines') {
      const text = `export ${run.id.slice(0, 8)}: ${Math.round(fraction(run, total) * 100)}%  ${progressText(run, total)}`;
      if (text !== last) ctx.out.note(text);
      last = text;
    }
  };
  draw();
  while (run.status === 'queued' || run.status === 'running') {
    if (ctx.io.now() >= deadline) {
      if (style === 'bar') ctx.out.raw('\n');
      throw new CliError(EXIT.ERROR, 'STILL_RUNNING', `export ${run.id} is still ${run.status} after ${formatDuration(waitMs)}`, { hint: `observai export get ${run.id} (it continues on the server)` });
    }
    await sleep(POLL_MS, ctx.signal);
    if (ctx.signal.aborted) {
      if (style === 'bar') ctx.out.raw('\n');
      ctx.out.note(`export ${run.id} continues on the server: observai export get ${run.id}`);
      return EXIT.INTERRUPTED;
    }
    run = (await api.get<{ export: Run }>(`/logs/exports/${run.id}`)).export;
    draw();
  }
  if (style === 'bar') ctx.out.raw('\n');
  if (ctx.json) ctx.out.json({ export: run });
  else printRun(ctx, run);
  if (run.status === 'failed') {
    throw new CliError(EXIT.ERROR, 'EXPORT_FAILED', run.error ?? 'the export failed', {
      hint: run.nextAttemptAt ? `the server tries again at ${run.nextAttemptAt}` : `observai export retry ${run.id}`,
    });
  }
  return EXIT.OK;
}

function printRun(ctx: Ctx, run: Run): void {
  const c = ctx.out.c;
  const status = run.status === 'succeeded' ? c.green(run.status) : run.status === 'failed' ? c.red(run.status) : c.yellow(run.status);
  ctx.out.line(`export ${run.id} ${status}: ${run.signal} from ${run.from} to ${run.to}, ${count(run.rows)} rows, ${bytes(run.bytes)}, ${run.files.length} files`);
  for (const f of run.files) ctx.out.line(`  ${f}`);
}

const WAIT_FLAGS = {
  'no-wait': { type: 'boolean', description: 'print the queued run and return at once' },
  progress: { type: 'string', value: 'style', choices: PROGRESS, description: 'auto: a bar when stderr is a terminal, else none' },
  wait: { type: 'string', value: 'duration', description: 'give up waiting after this long (default 1h; the run goes on)' },
} as const;

const run: Command = {
  path: ['export', 'run'],
  summary: 'export logs or spans of a time range to a destination, and follow the run',
  description: [
    'POST /logs/exports, then GET /logs/exports/:id every second until the run succeeds (exit 0) or',
    'fails (exit 1, with the server\'s reason). The bar counts rows against the range\'s log count',
    '(GET /logs/histogram); for spans it follows the day being written. Ctrl-C stops following, not',
    'the run. Needs a user token (owners, admins, members assigned to the project) and a destination',
    '(observai export destinations lists them; they are created with POST /logs/exports/destinations).',
    'The range is [from, to), at most 31 days, not in the future.',
  ].join('\n'),
  flags: {
    destination: { type: 'string', value: 'id', description: 'the destination (required)' },
    signal: { type: 'string', value: 'signal', choices: ['logs', 'spans'], description: 'what to export (default logs)' },
    from: { type: 'string', value: 'time', description: 'ISO 8601, or an age: 1d (required)' },
    to: { type: 'string', value: 'time', description: 'ISO 8601, an age, or now (default 5s ago: the server refuses a `to` in its future)' },
    level: { type: 'string', value: 'levels', description: 'logs only: these levels, comma-separated' },
    service: { type: 'string', multiple: true, value: 'name', description: 'only these services (repeatable, or comma-separated)' },
    'rows-per-file': { type: 'string', value: 'n', description: '100-1000000 (default 100000)' },
    ...WAIT_FLAGS,
  },
  examples: [
    'observai export run --destination 7c1d… --from 2026-03-08 --to 2026-03-09',
    'observai export run --destination 7c1d… --signal spans --from 1d --progress lines',
    'observai export run --destination 7c1d… --from 6h --level error,fatal --no-wait --json | jq -r .export.id',
  ],
  async run(ctx) {
    const f = ctx.flags;
    const destinationId = checkId(f.required('destination'), '--destination', 'a destination id')!;
    const signal = f.choice('signal', ['logs', 'spans'] as const) ?? 'logs';
    const from = f.time('from');
    if (!from) throw usage('--from is required (ISO 8601, or an age such as 1d)');
    const level = f.choices('level', LEVELS);
    const service = f.list('service', true);
    if (signal === 'spans' && level.length) throw usage('--level applies to logs only');
    const api = ctx.api();
    const { export: queued } = await api.post<{ export: Run }>('/logs/exports', {
      destinationId,
      signal,
      from,
      // Not now: a clock a little ahead of the server's would make it a `to` in the future (a 400).
      to: f.time('to') ?? new Date(ctx.io.now() - 5_000).toISOString(),
      ...(level.length || service.length ? { filter: { ...(level.length ? { level } : {}), ...(service.length ? { service } : {}) } } : {}),
      ...(f.has('rows-per-file') ? { rowsPerFile: f.int('rows-per-file', { min: 100, max: 1_000_000 }) } : {}),
      ...(ctx.project() ? { projectId: checkProjectId(ctx.project()) } : {}),
    });
    if (f.bool('no-wait')) {
      if (ctx.json) return void ctx.out.json({ export: queued });
      return void ctx.out.line(`export ${queued.id} ${queued.status}: observai export get ${queued.id}`);
    }
    return follow(ctx, api, queued);
  },
};

const retry: Command = {
  path: ['export', 'retry'],
  summary: 'run a failed export again (it continues after its last written part) and follow it',
  description: 'POST /logs/exports/:id/retry; a run that has not failed is a 409 (exit 1).',
  args: [{ name: 'exportId', required: true }],
  flags: { ...WAIT_FLAGS },
  examples: ['observai export retry 1e2f…'],
  async run(ctx) {
    const id = checkId(ctx.args[0], '<exportId>', 'an export id')!;
    const api = ctx.api();
    const { export: queued } = await api.post<{ export: Run }>(`/logs/exports/${id}/retry`);
    if (ctx.flags.bool('no-wait')) return void (ctx.json ? ctx.out.json({ export: queued }) : ctx.out.line(`export ${queued.id} ${queued.status}`));
    return follow(ctx, api, queued);
  },
};

const get: Command = {
  path: ['export', 'get'],
  summary: 'an export run: status, rows, bytes, files',
  description: 'GET /logs/exports/:id.',
  args: [{ name: 'exportId', required: true }],
  examples: ['observai export get 1e2f…', 'observai export get 1e2f… --json | jq -r \'.export.files[]\''],
  async run(ctx) {
    const id = checkId(ctx.args[0], '<exportId>', 'an export id')!;
    const { export: r } = await ctx.api().get<{ export: Run }>(`/logs/exports/${id}`);
    if (ctx.json) return void ctx.out.json({ export: r });
    printRun(ctx, r);
    if (r.error) ctx.out.line(`  error: ${r.error}`);
  },
};

const list: Command = {
  path: ['export', 'list'],
  summary: 'export runs, newest first',
  description: 'GET /logs/exports.',
  flags: {
    status: { type: 'string', value: 'status', choices: ['queued', 'running', 'succeeded', 'failed'], description: 'only this status' },
    signal: { type: 'string', value: 'signal', choices: ['logs', 'spans'], description: 'only this signal' },
    destination: { type: 'string', value: 'id', description: 'only this destination\'s' },
    limit: { type: 'string', value: 'n', description: '1-200 (default 50)' },
  },
  examples: ['observai export list --status failed'],
  async run(ctx) {
    const f = ctx.flags;
    const { exports } = await ctx.api({ usesProject: true }).get<{ exports: Run[] }>('/logs/exports', {
      projectId: checkProjectId(ctx.project()),
      status: f.str('status'),
      signal: f.str('signal'),
      destinationId: f.str('destination'),
      limit: f.int('limit', { min: 1, max: 200 }),
    });
    if (ctx.json) return void ctx.out.json({ exports });
    listing(ctx.out, exports.map((e) => [e.id, e.status, e.signal, e.from, e.to, count(e.rows), bytes(e.bytes)]), ['id', 'status', 'signal', 'from', 'to', 'rows', 'bytes'], 'no export runs');
  },
};

const destinations: Command = {
  path: ['export', 'destinations'],
  summary: 'where exports can go (S3-compatible buckets)',
  description: 'GET /logs/exports/destinations. Creating one (with its secret key) is POST /logs/exports/destinations: see docs/API.md#exports.',
  examples: ['observai export destinations'],
  async run(ctx) {
    const { destinations: list } = await ctx
      .api({ usesProject: true })
      .get<{ destinations: Array<{ id: string; name: string; endpoint: string | null; bucket: string; prefix: string; verifiedAt: string | null }> }>('/logs/exports/destinations', {
        projectId: checkProjectId(ctx.project()),
      });
    if (ctx.json) return void ctx.out.json({ destinations: list });
    listing(ctx.out, list.map((d) => [d.id, d.name, d.endpoint ?? 'AWS S3', `${d.bucket}/${d.prefix}`]), ['id', 'name', 'endpoint', 'bucket/prefix'], 'no destinations');
  },
};

export const exportCommands: Command[] = [run, get, list, retry, destinations];
