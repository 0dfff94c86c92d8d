/**
 * `observai tail`: live logs over Server-Sent Events (GET /logs/tail), as EventSource would follow
 * them: resumes after the last line with Last-Event-ID when the server ends a stream (every 15
 * minutes) or the connection drops, waits out a full cap (429 with Retry-After), and stops for good
 * when the credential is revoked or expires. Ctrl-C ends it with 0.
 */
import type { Command, Ctx } from '../command.ts';
import { CliError, EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { readSse } from '../sse.ts';
import { checkProjectId } from './auth.ts';

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export interface LogView {
  id: string;
  time: string;
  level: string;
  service: string;
  message: string;
  attributes?: Record<string, unknown> | null;
  traceId?: string | null;
}

/** One log as a line: time, level (coloured), service, message, attributes. */
export function formatLog(out: Output, log: LogView): string {
  const attrs = log.attributes && Object.keys(log.attributes).length > 0 ? ` ${out.c.gray(JSON.stringify(log.attributes))}` : '';
  const trace = log.traceId ? ` ${out.c.gray(`trace=${log.traceId}`)}` : '';
  return `${out.c.gray(log.time)} ${out.level(log.level)} ${out.c.cyan(log.service)} ${log.message}${attrs}${trace}`;
}

/** The filter flags that log search and tail share, as the API's query parameters. */
export const FILTER_FLAGS = {
  level: { type: 'string', value: 'levels', description: 'only these levels, comma-separated (trace,debug,info,warn,error,fatal)' },
  'min-level': { type: 'string', value: 'level', choices: LEVELS, description: 'this level and above' },
  service: { type: 'string', multiple: true, value: 'name', description: 'only this service (repeatable, or comma-separated)' },
  attr: { type: 'string', multiple: true, value: 'key=value', description: 'an attribute equals a value (repeatable)' },
  'trace-id': { type: 'string', value: 'id', description: 'only lines of this trace' },
} as const;

export function filterQuery(ctx: Ctx): Record<string, string | string[] | undefined> {
  const f = ctx.flags;
  const levels = f.choices('level', LEVELS);
  const q: Record<string, string | string[] | undefined> = {
    projectId: checkProjectId(ctx.project()),
    level: levels.length ? levels : undefined,
    minLevel: f.choice('min-level', LEVELS),
    service: f.list('service', true).length ? f.list('service', true) : undefined,
    traceId: f.str('trace-id'),
  };
  for (const [k, v] of Object.entries(f.pairs('attr'))) q[`attr.${k}`] = v;
  return q;
}

/** Consecutive failed connections (no `ready`) before tail gives up. */
const MAX_FAILURES = 8;
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

const tail: Command = {
  path: ['tail'],
  summary: 'follow a project\'s logs live (Server-Sent Events), coloured by level',
  description: [
    'GET /logs/tail with the filter given: lines written after it starts, in the order they were',
    'written. Reconnects by itself with Last-Event-ID (no line lost or repeated) when the server ends',
    'the stream (after 15 minutes) or the connection drops (up to 8 failed attempts in a row, backing',
    'off to 30 s), and waits when the server\'s cap on concurrent tails is full. Lines over --rate a',
    'second are skipped by the server; tail says how many. Ends with 3 when the credential is revoked',
    'or expires, and with 0 on Ctrl-C or after --limit lines. --json prints one log per line (NDJSON).',
  ].join('\n'),
  flags: {
    query: { type: 'string', short: 'q', value: 'text', description: 'full text: words, "phrases", -excluded, a OR b, prefix*' },
    ...FILTER_FLAGS,
    rate: { type: 'string', value: 'n', description: 'at most n lines a second (1-500, default 50)' },
    limit: { type: 'string', value: 'n', description: 'stop after n lines' },
  },
  examples: [
    'observai tail',
    'observai tail --min-level warn --service checkout',
    'observai tail -q \'timeout OR refused\' --attr http.status_code=500',
    'observai tail --json | jq -r .message',
  ],
  async run(ctx) {
    const f = ctx.flags;
    const query: Record<string, string | string[] | number | undefined> = { ...filterQuery(ctx), q: f.str('query') || undefined, rate: f.int('rate', { min: 1, max: 500 }) };
    const limit = f.int('limit', { min: 1, max: 1_000_000_000 });
    const api = ctx.api({ usesProject: true });
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let lastId: string | undefined;
    let printed = 0;
    let failures = 0;
    let announced = false;
    try {
      while (!stop.signal.aborted) {
        let waitMs = 1000;
        let res: Response;
        try {
          res = await api.stream('/logs/tail', query, lastId ? { 'last-event-id': lastId } : {}, stop.signal);
        } catch (err) {
          if (stop.signal.aborted) break;
          const e = err as CliError;
          // A full cap or an unavailable server: wait and try again; anything else is final.
          const retryable = e.code === 'NETWORK' || e.code === 'TIMEOUT' || e.extra?.status === 429 || e.extra?.status === 503;
          if (!retryable || ++failures > MAX_FAILURES) throw err;
          const after = (e.extra.retryAfterSeconds ?? 0) * 1000;
          const backoff = Math.max(after, Math.min(30_000, 1000 * 2 ** (failures - 1)));
          ctx.out.note(`tail: ${e.code}: ${e.message}; trying again in ${Math.round(backoff / 1000)} s`);
          await sleep(backoff, stop.signal);
          continue;
        }
        let ended = false;
        try {
          for await (const ev of readSse(res.body!)) {
            if (ev.retry !== undefined) waitMs = ev.retry;
            // As EventSource keeps it: every event's id (ready's is where the stream starts), so a
            // reconnection resumes exactly there even before the first line.
            if (ev.id) lastId = ev.id;
            if (ev.event === 'ready') {
              failures = 0;
              if (!announced) ctx.out.note(`tail: following logs of ${query['projectId'] ? `project ${query['projectId']}` : 'the API key\'s project'} (Ctrl-C to stop)`);
              announced = true;
            } else if (ev.event === 'log') {
              const log = JSON.parse(ev.data) as LogView;
              if (ctx.json) ctx.out.ndjson(log);
              else ctx.out.line(formatLog(ctx.out, log));
              if (limit !== undefined && ++printed >= limit) {
                stop.abort();
                break;
              }
            } else if (ev.event === 'dropped') {
              const d = JSON.parse(ev.data) as { count: number };
              ctx.out.note(`tail: ${d.count} lines skipped (over --rate lines a second)`);
            } else if (ev.event === 'end') {
              const e = JSON.parse(ev.data) as { reason: string; message: string };
              if (e.reason !== 'max_duration') throw new CliError(EXIT.AUTH, e.reason.toUpperCase(), e.message);
              ended = true;
            } else if (ev.event === 'error') {
              ctx.out.note(`tail: the server reported: ${(JSON.parse(ev.data) as { message?: string }).message ?? ev.data}; reconnecting`);
            }
          }
        } catch (err) {
          if (stop.signal.aborted) break;
          if (err instanceof CliError) throw err;
          // The connection dropped mid-stream: resume after the last line.
        }
        if (stop.signal.aborted) break;
        if (!ended && ++failures > MAX_FAILURES) throw new CliError(EXIT.ERROR, 'STREAM_LOST', `the stream broke ${MAX_FAILURES} times in a row`);
        await sleep(ended ? waitMs : Math.min(30_000, waitMs * 2 ** Math.max(0, failures - 1)), stop.signal);
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return EXIT.OK;
  },
};

export const tailCommands: Command[] = [tail];
