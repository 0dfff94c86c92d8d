/**
 * `observai doctor`: what stands between this terminal and a working CLI, checked in order: the
 * configuration, the server (health, latency), the clock against the server's, the credentials, and
 * the versions. Every check runs and is printed; the exit code is the worst of them.
 */
import { Api } from '../api.ts';
import type { Command, Ctx } from '../command.ts';
import { type Credential, jwtClaims, keyPrefix, type Settings } from '../config.ts';
import { CliError, EXIT } from '../errors.ts';
import { table } from '../output.ts';
import { formatDuration } from '../time.ts';
import { VERSION } from '../version.ts';
import { VERIFY_PATH } from './auth.ts';

type Status = 'ok' | 'warn' | 'fail' | 'skip';
interface Check {
  name: string;
  status: Status;
  detail: string;
}

/** Ingest accepts events up to 10 minutes ahead: a clock further off than that loses data. */
const SKEW_FAIL_MS = 10 * 60_000;
/** The Date header counts whole seconds: within 2 s is as good as it can tell. */
const SKEW_WARN_MS = 2_000;
const MIN_NODE = [20, 11];

function nodeOk(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > MIN_NODE[0]! || (major === MIN_NODE[0] && minor >= MIN_NODE[1]!);
}

async function checkServer(ctx: Ctx, s: Settings, checks: Check[]): Promise<Api | undefined> {
  if (!s.url) {
    checks.push({ name: 'server', status: 'fail', detail: 'no URL: observai login --url <url> ..., or --url / OBSERVAI_URL' });
    return undefined;
  }
  const api = new Api(s.url, undefined, { fetch: ctx.io.fetch, timeoutMs: ctx.flags.duration('timeout') ?? 10_000, signal: ctx.signal });
  const started = ctx.io.now();
  try {
    // Health answers without credentials on every function; ingest's is the one apps depend on.
    const res = await api.call<{ status: string }>('GET', '/ingest/health', { anonymous: true });
    const ended = ctx.io.now();
    checks.push({ name: 'server', status: 'ok', detail: `${s.url} answers: ${res.body.status} (${ended - started} ms)` });
    const date = res.headers.get('date');
    if (!date) checks.push({ name: 'clock', status: 'skip', detail: 'the server sent no Date header' });
    else {
      // The server stamped its Date somewhere between sending and receiving: compare with the middle.
      const skew = Date.parse(date) - (started + ended) / 2;
      const abs = Math.abs(skew);
      const detail = abs < SKEW_WARN_MS ? 'within 2 s of the server\'s (its Date header counts whole seconds)' : `${skew > 0 ? 'behind' : 'ahead of'} the server's by about ${formatDuration(abs)}`;
      const status: Status = abs >= SKEW_FAIL_MS ? 'fail' : abs >= SKEW_WARN_MS ? 'warn' : 'ok';
      checks.push({ name: 'clock', status, detail: status === 'fail' ? `${detail}: events stamped now fall outside what ingest accepts (10 min ahead, 7 days back)` : detail });
    }
    return api;
  } catch (err) {
    const e = err as CliError;
    checks.push({ name: 'server', status: 'fail', detail: `${s.url}: ${e.code} ${e.message}` });
    checks.push({ name: 'clock', status: 'skip', detail: 'no answer from the server' });
    return undefined;
  }
}

async function checkCredential(ctx: Ctx, s: Settings, credential: Credential): Promise<Check> {
  const name = credential.kind === 'token' ? 'token' : 'API key';
  let expiry = '';
  if (credential.kind === 'token') {
    const exp = jwtClaims(credential.value)?.exp;
    if (typeof exp === 'number') {
      const left = exp * 1000 - ctx.io.now();
      if (left <= 0) return { name, status: 'fail', detail: `expired at ${new Date(exp * 1000).toISOString()}: observai login --token <a new one>` };
      expiry = `, expires in ${formatDuration(left)}`;
      if (left < 3_600_000) {
        return { name, status: 'warn', detail: `accepted${expiry}` };
      }
    }
  }
  try {
    await new Api(s.url!, credential, { fetch: ctx.io.fetch, timeoutMs: ctx.flags.duration('timeout') ?? 10_000, signal: ctx.signal }).get(VERIFY_PATH);
    return { name, status: 'ok', detail: `${credential.kind === 'apiKey' ? `${keyPrefix(credential.value)} ` : ''}accepted${expiry} (from ${s.credentialSource === 'config' ? s.configPath : s.credentialSource})` };
  } catch (err) {
    const e = err as CliError;
    return { name, status: 'fail', detail: `refused: ${e.code} ${e.message}` };
  }
}

/** The server's version: its health answer carries one for the service role only. */
async function serverVersion(ctx: Ctx, s: Settings): Promise<string> {
  if (!s.token || jwtClaims(s.token)?.role !== 'service_role') return 'not shown to this credential (GET /<function>/health shows it to the service role)';
  try {
    const api = new Api(s.url!, { kind: 'token', value: s.token }, { fetch: ctx.io.fetch, timeoutMs: 10_000, signal: ctx.signal });
    const h = await api.get<{ version?: string; mode?: string }>('/ingest/health');
    return h.version ? `${h.version}${h.mode ? ` (${h.mode} mode)` : ''}` : 'not shown';
  } catch {
    return 'unknown';
  }
}

const doctor: Command = {
  path: ['doctor'],
  summary: 'check the configuration, the server, the clock, the credentials and the versions',
  description: [
    'GET /ingest/health (no credentials) for the server and its latency, its Date header for the clock',
    '(ingest refuses events more than 10 minutes ahead), GET /webhooks/event-types with each credential.',
    'Exit 0 when nothing failed (warnings allowed), 1 when the server cannot be reached or the clock is',
    '10 minutes off or more, 3 when credentials are missing or refused.',
  ].join('\n'),
  examples: ['observai doctor', 'observai doctor --json | jq \'.checks[] | select(.status != "ok")\''],
  async run(ctx) {
    const checks: Check[] = [];
    let s: Settings;
    try {
      s = ctx.settings();
    } catch (err) {
      const e = err as CliError;
      checks.push({ name: 'config', status: 'fail', detail: e.message });
      return finish(ctx, checks);
    }
    const mode = s.storedMode;
    checks.push({
      name: 'config',
      status: mode !== undefined && (mode & 0o077) !== 0 ? 'warn' : 'ok',
      detail: s.stored
        ? `${s.configPath} (mode ${mode?.toString(8).padStart(4, '0')}${mode !== undefined && (mode & 0o077) !== 0 ? `: readable by others, chmod 600 ${s.configPath}` : ''})`
        : `${s.configPath} does not exist${s.credentialSource === 'none' ? '' : ` (credentials from ${s.credentialSource})`}`,
    });
    const api = await checkServer(ctx, s, checks);
    const credentials: Credential[] = [
      ...(s.token ? [{ kind: 'token', value: s.token } as const] : []),
      ...(s.apiKey ? [{ kind: 'apiKey', value: s.apiKey } as const] : []),
    ];
    if (credentials.length === 0) checks.push({ name: 'credentials', status: 'fail', detail: 'none: observai login --api-key <key> (or --token <jwt>), or OBSERVAI_API_KEY / OBSERVAI_TOKEN' });
    else if (!api) checks.push({ name: 'credentials', status: 'skip', detail: 'the server did not answer' });
    else for (const c of credentials) checks.push(await checkCredential(ctx, s, c));
    checks.push({ name: 'cli', status: 'ok', detail: `observai ${VERSION}` });
    checks.push({ name: 'node', status: nodeOk(process.version) ? 'ok' : 'warn', detail: `${process.version}${nodeOk(process.version) ? '' : ' (the CLI needs 20.11 or later)'}` });
    checks.push({ name: 'server version', status: api ? 'ok' : 'skip', detail: api ? await serverVersion(ctx, s) : 'the server did not answer' });
    return finish(ctx, checks);
  },
};

function finish(ctx: Ctx, checks: Check[]): number {
  const failed = (names: string[]) => checks.some((c) => c.status === 'fail' && names.includes(c.name));
  const code = failed(['server', 'clock', 'config']) ? EXIT.ERROR : failed(['credentials', 'token', 'API key']) ? EXIT.AUTH : EXIT.OK;
  if (ctx.json) {
    ctx.out.json({ ok: code === EXIT.OK, exitCode: code, checks });
    return code;
  }
  const c = ctx.out.c;
  const mark = (s: Status) => (s === 'ok' ? c.green('ok  ') : s === 'warn' ? c.yellow('warn') : s === 'fail' ? c.red('FAIL') : c.gray('skip'));
  ctx.out.line(table(checks.map((k) => [mark(k.status), k.name, k.detail])));
  return code;
}

export const doctorCommands: Command[] = [doctor];
