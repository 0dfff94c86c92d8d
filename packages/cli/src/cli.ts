/**
 * `observai <command> [flags]`: finds the command, checks its flags, runs it, and turns whatever it
 * throws into `error CODE: message` on stderr (JSON with --json) and the exit code scripts rely on.
 */
import { Api } from './api.ts';
import { COMMANDS, GROUPS } from './commands/index.ts';
import { type Command, type Ctx, Flags, GLOBAL_FLAGS } from './command.ts';
import { jwtClaims, resolveSettings, type Settings } from './config.ts';
import { CliError, EXIT, toCliError, usage } from './errors.ts';
import { commandHelp, groupHelp, mainHelp } from './help.ts';
import type { Io } from './io.ts';
import { colorEnabled, Output } from './output.ts';
import { findCommand, parseFlags } from './parse.ts';
import { VERSION } from './version.ts';

const GLOBAL_STRING_FLAGS = new Set(Object.entries(GLOBAL_FLAGS).filter(([, s]) => s.type === 'string').map(([n]) => n));

export async function run(argv: string[], io: Io): Promise<number> {
  // `observai help logs search` is `observai logs search --help`.
  if (argv[0] === 'help') argv = [...argv.slice(1), '--help'];
  // Until the flags are read, errors follow what argv says about --json.
  let json = argv.includes('--json');
  let out = new Output(io, false);
  const abort = new AbortController();
  let interrupts = 0;
  const stopListening = io.onInterrupt(() => {
    interrupts += 1;
    // A second Ctrl-C while a command is still winding down ends it at once.
    if (interrupts > 1) io.exit(EXIT.INTERRUPTED);
    abort.abort();
  });
  try {
    if (argv[0] === '--version' || argv[0] === '-v' || (argv[0] === 'version' && argv.length === 1)) {
      io.stdout.write(json ? `${JSON.stringify({ version: VERSION, node: process.version })}\n` : `observai ${VERSION} (node ${process.version})\n`);
      return EXIT.OK;
    }
    const found = findCommand(argv, COMMANDS, GROUPS, GLOBAL_STRING_FLAGS);
    if (!found.command) {
      const wantsHelp = found.rest.some((a) => a === '--help' || a === '-h');
      const unexpected = found.rest.find((a) => a !== '--help' && a !== '-h' && a !== '--no-color');
      if (unexpected !== undefined && !wantsHelp) throw usage(`unexpected "${unexpected}"`, `observai${found.group ? ` ${found.group.name}` : ''} --help lists the commands`);
      io.stdout.write(`${found.group ? groupHelp(found.group, COMMANDS) : mainHelp(GROUPS, COMMANDS)}\n`);
      return EXIT.OK;
    }
    const command = found.command;
    const where = `observai ${command.path.join(' ')}`;
    const spec = { ...GLOBAL_FLAGS, ...command.flags };
    const parsed = parseFlags(found.rest, spec, where);
    const flags = new Flags(parsed.values, io.now);
    json = flags.bool('json');
    out = new Output(io, colorEnabled(io, { json, noColor: flags.bool('no-color') }));
    if (flags.bool('help')) {
      io.stdout.write(`${commandHelp(command)}\n`);
      return EXIT.OK;
    }
    const args = checkArgs(command, parsed.positionals, where);
    const timeoutMs = flags.duration('timeout') ?? 30_000;
    if (timeoutMs < 1) throw usage('--timeout must be at least 1ms');
    const ctx = makeContext(command, flags, args, io, out, json, abort.signal, timeoutMs);
    const code = await command.run(ctx);
    return code ?? EXIT.OK;
  } catch (err) {
    return report(toCliError(err), out, io, json);
  } finally {
    stopListening();
  }
}

function checkArgs(command: Command, positionals: string[], where: string): string[] {
  const specs = command.args ?? [];
  const variadic = specs.some((a) => a.variadic);
  const required = specs.filter((a) => a.required).length;
  if (positionals.length < required) {
    const missing = specs.filter((a) => a.required)[positionals.length]!;
    throw usage(`${where} needs <${missing.name}>`, `${where} --help shows an example`);
  }
  if (!variadic && positionals.length > specs.length) throw usage(`unexpected argument "${positionals[specs.length]}" for ${where}`, `${where} --help shows its arguments`);
  return positionals;
}

function makeContext(command: Command, flags: Flags, args: string[], io: Io, out: Output, json: boolean, signal: AbortSignal, timeoutMs: number): Ctx {
  let settings: Settings | undefined;
  const getSettings = () => {
    if (!settings) {
      settings = resolveSettings({ url: flags.str('url'), apiKey: flags.str('api-key'), token: flags.str('token'), project: flags.str('project') }, io.env);
      warnAboutPermissions(settings, out);
    }
    return settings;
  };
  return {
    command,
    flags,
    args,
    io,
    out,
    json,
    signal,
    settings: getSettings,
    project: () => getSettings().project,
    api: (opts = {}) => makeApi(getSettings(), opts, io, signal, timeoutMs),
  };
}

/** As ssh does with a key file: stored secrets others can read deserve a word (when they are used). */
function warnAboutPermissions(s: Settings, out: Output): void {
  if (s.credentialSource !== 'config' || s.storedMode === undefined || (s.storedMode & 0o077) === 0) return;
  out.note(`warning: ${s.configPath} is readable by others (mode ${s.storedMode.toString(8).padStart(4, '0')}): chmod 600 ${s.configPath}`);
}

function makeApi(
  s: Settings,
  opts: { ingest?: boolean; anonymous?: boolean; usesProject?: boolean },
  io: Io,
  signal: AbortSignal,
  timeoutMs: number,
): Api {
  let credential: Api['credential'];
  let blocked: CliError | undefined;
  if (!s.url) blocked = new CliError(EXIT.AUTH, 'NOT_LOGGED_IN', 'no server URL', { hint: 'observai login --url <url> ..., or give --url or OBSERVAI_URL' });
  else if (!opts.anonymous) {
    if (opts.ingest) {
      if (s.apiKey) credential = { kind: 'apiKey', value: s.apiKey };
      else blocked = noCredentials(s.token ? 'sending needs an API key with the ingest scope (ingest does not take user tokens)' : 'no API key to send with');
    } else if (s.token) credential = { kind: 'token', value: s.token };
    else if (s.apiKey) credential = { kind: 'apiKey', value: s.apiKey };
    else blocked = noCredentials('no credentials');
  }
  const hint = (err: CliError): string | undefined => {
    if (err.extra.status === 401 && credential?.kind === 'token') {
      const exp = jwtClaims(credential.value)?.exp;
      if (typeof exp === 'number' && exp * 1000 <= io.now()) return `the token expired at ${new Date(exp * 1000).toISOString()}: observai login --token <a new one>`;
    }
    if (err.extra.status === 401) return `the server refused the ${credential?.kind === 'token' ? 'token' : 'API key'} from ${describeSource(s)}: observai login again`;
    const aboutProject = err.extra.status === 404 || err.extra.details?.some((d) => d.field?.endsWith('projectId'));
    if (opts.usesProject && aboutProject && credential?.kind === 'token' && !s.project) {
      return 'with a user token, name the project: --project <id> (or observai login --project <id>, or OBSERVAI_PROJECT)';
    }
    return undefined;
  };
  return new Api(s.url ?? '', credential, { fetch: io.fetch, timeoutMs, signal, hint }, blocked);
}

function describeSource(s: Settings): string {
  return s.credentialSource === 'flags' ? 'the command line' : s.credentialSource === 'environment' ? 'the environment' : s.configPath;
}

function noCredentials(what: string): CliError {
  return new CliError(EXIT.AUTH, 'NOT_LOGGED_IN', what, {
    hint: 'observai login --url <url> --api-key <key> (or --token <jwt>), or set OBSERVAI_API_KEY / OBSERVAI_TOKEN',
  });
}

function report(err: CliError, out: Output, io: Io, json: boolean): number {
  if (json) {
    const { status, details, requestId, hint } = err.extra;
    io.stderr.write(`${JSON.stringify({ error: { code: err.code, message: err.message, exitCode: err.exitCode, status, details, requestId, hint } })}\n`);
    return err.exitCode;
  }
  const lines = [`error ${err.code}: ${err.message}`];
  for (const d of err.extra.details ?? []) {
    const text = `${d.field ? `${d.field}: ` : ''}${d.message}`;
    // The message often is the first detail already (`body.name: Too small ...`).
    if (text !== err.message) lines.push(`  ${text}`);
  }
  if (err.extra.hint) lines.push(`hint: ${err.extra.hint}`);
  if (err.extra.requestId && err.exitCode === EXIT.ERROR) lines.push(`request id: ${err.extra.requestId}`);
  out.note(lines.join('\n'));
  if (io.env.OBSERVAI_DEBUG && err.code === 'INTERNAL') out.note(String(err.stack));
  return err.exitCode;
}

