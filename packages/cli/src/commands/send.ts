/**
 * `observai send`: metric points and log lines through @observai/sdk (batched, gzipped, retried
 * without duplicates), from flags or NDJSON on stdin, flushed before the command ends. The SDK never
 * throws into its app, so what went wrong is collected from its reports and its stats, and becomes
 * the exit code.
 */
import { createInterface } from 'node:readline';
import type { Client, Counter, Gauge, Histogram, ObservAIError, Tags } from '#sdk';
import type { Command, Ctx } from '../command.ts';
import { CliError, EXIT, exitCodeForStatus, usage } from '../errors.ts';
import { formatDuration } from '../time.ts';

const METRIC_TYPES = ['gauge', 'counter', 'histogram'] as const;
type MetricType = (typeof METRIC_TYPES)[number];
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];
/** The server's aliases (docs/API.md#ingest). */
const LEVEL_ALIASES: Record<string, Level> = { warning: 'warn', critical: 'fatal' };

/** A problem with one input (a flag or a stdin line): reported, and the command ends with 1. */
interface InputError {
  line?: number;
  field?: string;
  message: string;
}

/** Lines read before the queue is drained when it holds this many events: stdin never outruns the SDK's bound. */
const DRAIN_AT = 20_000;
const MAX_REPORTED = 20;

function parseMetricFlag(text: string): { name: string; value: number } {
  const at = text.lastIndexOf('=');
  const name = text.slice(0, at);
  const raw = text.slice(at + 1);
  if (at <= 0 || raw.trim() === '' || !Number.isFinite(Number(raw))) throw usage(`--metric takes name=number (got "${text}")`);
  return { name, value: Number(raw) };
}

function toTimestamp(v: unknown): number | undefined | 'invalid' {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : 'invalid';
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? 'invalid' : ms;
  }
  return 'invalid';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

type Instrument = { type: 'counter'; i: Counter } | { type: 'gauge'; i: Gauge } | { type: 'histogram'; i: Histogram };

class Sender {
  private readonly instruments = new Map<string, Instrument>();
  /** The timestamp of the event being handed to the SDK (its `now` option reads it): a line's own time. */
  stamp: number | undefined;

  constructor(
    readonly client: Client,
    private readonly type: MetricType,
  ) {}

  metric(name: string, value: number, tags: Tags | undefined, unit: string | undefined): void {
    const key = `${name}\u0000${unit ?? ''}`;
    let inst = this.instruments.get(key);
    if (!inst) {
      const c = this.client;
      inst = this.type === 'counter' ? { type: 'counter', i: c.counter(name, { unit }) } : this.type === 'histogram' ? { type: 'histogram', i: c.histogram(name, { unit }) } : { type: 'gauge', i: c.gauge(name, { unit }) };
      this.instruments.set(key, inst);
    }
    if (inst.type === 'counter') inst.i.add(value, tags);
    else if (inst.type === 'histogram') inst.i.record(value, tags);
    else inst.i.set(value, tags);
  }
}

/** One NDJSON line, in the shape POST /ingest takes (`"type": "metric" | "log"`), to the SDK. */
function sendLine(sender: Sender, text: string, n: number): InputError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line: n, message: 'not valid JSON' };
  }
  if (!isObject(value)) return { line: n, message: 'must be a JSON object' };
  const time = toTimestamp(value.timestamp);
  if (time === 'invalid') return { line: n, field: 'timestamp', message: 'must be epoch milliseconds or an ISO 8601 time' };
  sender.stamp = time;
  try {
    if (value.type === 'metric') {
      if (typeof value.name !== 'string') return { line: n, field: 'name', message: 'is required (a string)' };
      if (value.histogram !== undefined) return { line: n, field: 'histogram', message: 'bucketed histograms are not sent by the CLI: send observations (--type histogram) or POST /ingest' };
      if (typeof value.value !== 'number' || !Number.isFinite(value.value)) return { line: n, field: 'value', message: 'is required (a finite number)' };
      if (value.tags !== undefined && !isObject(value.tags)) return { line: n, field: 'tags', message: 'must be an object of strings' };
      if (value.unit !== undefined && typeof value.unit !== 'string') return { line: n, field: 'unit', message: 'must be a string' };
      sender.metric(value.name, value.value, value.tags as Tags | undefined, value.unit as string | undefined);
      return undefined;
    }
    if (value.type === 'log') {
      if (typeof value.message !== 'string') return { line: n, field: 'message', message: 'is required (a string)' };
      const raw = value.level === undefined ? 'info' : String(value.level).toLowerCase();
      const level = LEVEL_ALIASES[raw] ?? raw;
      if (!(LEVELS as readonly string[]).includes(level)) return { line: n, field: 'level', message: `must be one of ${LEVELS.join(', ')}` };
      if (value.attributes !== undefined && !isObject(value.attributes)) return { line: n, field: 'attributes', message: 'must be an object' };
      sender.client.log({
        message: value.message,
        level: level as Level,
        ...(time !== undefined ? { timestamp: time } : {}),
        ...(typeof value.service === 'string' ? { service: value.service } : {}),
        ...(value.attributes ? { attributes: value.attributes as Record<string, unknown> } : {}),
        ...(typeof value.trace_id === 'string' ? { traceId: value.trace_id } : {}),
        ...(typeof value.span_id === 'string' ? { spanId: value.span_id } : {}),
      });
      return undefined;
    }
    if (value.type === 'span') return { line: n, field: 'type', message: 'span lines are not sent by the CLI (the SDK times spans itself): POST them to /ingest' };
    return { line: n, field: 'type', message: 'must be "metric" or "log"' };
  } catch (err) {
    // onInvalid: 'throw': the SDK refused the event at the call (name, tags, value, attributes).
    return { line: n, message: (err as Error).message };
  } finally {
    sender.stamp = undefined;
  }
}

async function readStdin(ctx: Ctx, sender: Sender, errors: InputError[], timeoutMs: number): Promise<number> {
  if (ctx.io.stdin.isTTY) ctx.out.note('send: reading NDJSON events from the terminal, one a line; Ctrl-D ends');
  const rl = createInterface({ input: ctx.io.stdin as NodeJS.ReadableStream, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of rl) {
    if (ctx.signal.aborted) break;
    n += 1;
    if (line.trim() === '') continue;
    const err = sendLine(sender, line, n);
    if (err) errors.push(err);
    if (n % 1000 === 0 && sender.client.stats().queued >= DRAIN_AT) await sender.client.flush({ timeoutMs });
  }
  rl.close();
  return n;
}

const send: Command = {
  path: ['send'],
  summary: 'send metric points and log lines through @observai/sdk, or NDJSON from stdin',
  description: [
    'Needs an API key with the ingest scope (--api-key, OBSERVAI_API_KEY or the stored login).',
    'Events go through @observai/sdk: batched, gzipped, retried on 408/429/5xx and network failures',
    '(never twice stored: every event carries an id), and flushed before the command ends. Exit 0',
    'when every event was accepted (or was already stored); 1 when some were refused, by the server',
    'or here (each is printed), or could not be delivered within --timeout; 3 when the key is refused.',
    '',
    '--stdin reads the NDJSON lines POST /ingest takes: {"type":"metric","name","value","timestamp"?,',
    '"tags"?,"unit"?} and {"type":"log","message","level"?,"timestamp"?,"service"?,"attributes"?,',
    '"trace_id"?,"span_id"?}; timestamps in epoch ms or ISO 8601. Metric lines are --type (default',
    'gauge; NDJSON has no field for it). Not sent: span lines (the SDK times spans itself) and bucketed',
    'histograms (POST them to /ingest); a line\'s own "id" is replaced by the SDK\'s.',
  ].join('\n'),
  flags: {
    metric: { type: 'string', multiple: true, value: 'name=value', description: 'a metric point, now' },
    type: { type: 'string', value: 'type', choices: METRIC_TYPES, description: 'the metrics\' type (default gauge): a counter point is an increment, a histogram point one observation' },
    unit: { type: 'string', value: 'unit', description: 'the unit of the --metric points (ms, By, 1, ...)' },
    tag: { type: 'string', multiple: true, value: 'key=value', description: 'a tag on every --metric point' },
    log: { type: 'string', multiple: true, value: 'message', description: 'a log line, now' },
    level: { type: 'string', value: 'level', choices: LEVELS, description: 'the --log lines\' level (default info)' },
    service: { type: 'string', value: 'name', description: 'service of the log lines (default observai-cli)' },
    attr: { type: 'string', multiple: true, value: 'key=value', description: 'an attribute on every --log line' },
    stdin: { type: 'boolean', description: 'read NDJSON events from stdin' },
  },
  examples: [
    'observai send --metric deploys=1 --type counter --tag service=checkout --tag env=prod',
    'observai send --log "deploy finished" --level warn --service checkout --attr version=1.4.2',
    'observai send --metric queue.depth=17 --log "queue is backing up" --level warn',
    'printf \'%s\\n\' \'{"type":"metric","name":"cpu.usage","value":0.71,"tags":{"host":"web-1"}}\' \\',
    '  \'{"type":"log","level":"error","service":"web","message":"disk full"}\' | observai send --stdin',
  ],
  async run(ctx) {
    const f = ctx.flags;
    const type = f.choice('type', METRIC_TYPES) ?? 'gauge';
    const metrics = f.list('metric').map(parseMetricFlag);
    const tags = f.pairs('tag');
    const attributes = f.pairs('attr');
    const logs = f.list('log');
    const level = f.choice('level', LEVELS) ?? 'info';
    if (metrics.length === 0 && logs.length === 0 && !f.bool('stdin')) throw usage('nothing to send: give --metric, --log or --stdin');
    const api = ctx.api({ ingest: true });
    const timeoutMs = f.duration('timeout') ?? 30_000;
    const reports: ObservAIError[] = [];
    const { createClient } = await import('#sdk');
    let sender: Sender | undefined;
    const client = createClient({
      url: api.base,
      apiKey: api.credential!.value,
      service: f.str('service') ?? 'observai-cli',
      level: 'trace',
      onInvalid: 'throw',
      onError: (e) => reports.push(e),
      now: () => sender?.stamp ?? ctx.io.now(),
      requestTimeoutMs: Math.min(timeoutMs, 10_000),
      retry: { baseMs: 250, maxMs: 2000, giveUpAfterMs: timeoutMs },
      fetch: (input, init) => ctx.io.fetch(input, init),
    });
    sender = new Sender(client, type);
    const errors: InputError[] = [];
    const flagEvent = (flag: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        // onInvalid: 'throw': a flag's event refused at the call is a command-line mistake.
        void client.close({ timeoutMs: 0 });
        throw usage(`${flag}: ${(err as Error).message}`);
      }
    };
    for (const m of metrics) flagEvent('--metric', () => sender!.metric(m.name, m.value, Object.keys(tags).length ? tags : undefined, f.str('unit')));
    for (const message of logs) flagEvent('--log', () => client.log({ message, level, ...(Object.keys(attributes).length ? { attributes } : {}) }));
    let lines = 0;
    if (f.bool('stdin')) lines = await readStdin(ctx, sender, errors, timeoutMs);
    const flushed = await client.close({ timeoutMs: ctx.signal.aborted ? 0 : timeoutMs + 2000 });
    const s = client.stats();
    const refusedEvents: InputError[] = [];
    for (const r of reports) {
      if (r.code === 'EVENTS_REJECTED' && Array.isArray(r.details)) {
        for (const d of r.details as Array<{ field?: string; message?: string }>) refusedEvents.push({ field: d.field, message: `refused by the server: ${d.message ?? ''}` });
      }
    }
    const summary = {
      ...(f.bool('stdin') ? { lines } : {}),
      enqueued: s.enqueued,
      accepted: s.accepted,
      duplicates: s.duplicates,
      rejected: s.rejected,
      invalid: errors.length,
      notDelivered: s.dropped + flushed.pending,
      errors: [...errors, ...refusedEvents].slice(0, 100),
    };
    const problems = [...errors, ...refusedEvents];
    if (ctx.json) ctx.out.json(summary);
    else {
      const parts = [`${summary.accepted} accepted`];
      if (summary.duplicates) parts.push(`${summary.duplicates} already stored`);
      if (summary.rejected) parts.push(`${summary.rejected} refused by the server`);
      if (summary.invalid) parts.push(`${summary.invalid} not sent (invalid)`);
      if (summary.notDelivered) parts.push(`${summary.notDelivered} not delivered`);
      ctx.out.line(`${summary.enqueued} event${summary.enqueued === 1 ? '' : 's'}: ${parts.join(', ')}`);
      for (const e of problems.slice(0, MAX_REPORTED)) ctx.out.note(`  ${e.line !== undefined ? `line ${e.line}: ` : ''}${e.field ? `${e.field}: ` : ''}${e.message}`);
      if (problems.length > MAX_REPORTED) ctx.out.note(`  ... and ${problems.length - MAX_REPORTED} more (--json lists the first 100)`);
    }
    const refused = reports.find((r) => r.code === 'REQUEST_FAILED');
    if (ctx.signal.aborted) return EXIT.INTERRUPTED;
    if (refused) {
      const envelope = (refused.details ?? {}) as { code?: string; message?: string };
      const auth = refused.status === 401 || refused.status === 403;
      throw new CliError(exitCodeForStatus(refused.status ?? 0), envelope.code ?? `HTTP_${refused.status}`, envelope.message ?? refused.message, {
        status: refused.status,
        hint: auth ? 'send needs an API key with the ingest scope of its project: --api-key, OBSERVAI_API_KEY, or observai login --api-key' : undefined,
      });
    }
    if (summary.notDelivered > 0) {
      const last = reports.find((r) => r.code === 'RETRIES_EXHAUSTED');
      throw new CliError(EXIT.ERROR, 'NOT_DELIVERED', `${summary.notDelivered} event${summary.notDelivered === 1 ? ' was' : 's were'} not delivered within ${formatDuration(timeoutMs)}${last ? `: ${last.message}` : ''}`, {
        hint: 'observai doctor checks the connection; --timeout waits longer',
      });
    }
    return problems.length > 0 || summary.rejected > 0 ? EXIT.ERROR : EXIT.OK;
  },
};

export const sendCommands: Command[] = [send];
