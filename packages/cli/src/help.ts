/** `--help` text, generated from the command declarations. */
import { type Command, type FlagSpec, GLOBAL_FLAGS, type Group } from './command.ts';
import { table } from './output.ts';

export const EXIT_CODES_HELP = `Exit codes
  0    ok
  1    the server refused the request (its error code and message are printed), a network failure or
       timeout, or an operation that failed (an export run, events the server rejected)
  2    bad command line: unknown command or flag, a missing or malformed value
  3    no credentials, or the server refused them (401, 403)
  4    not found (404)
  130  interrupted (Ctrl-C), except tail, which ends with 0`;

const usageLine = (c: Command) =>
  `observai ${c.path.join(' ')}${(c.args ?? []).map((a) => ` ${a.required ? `<${a.name}>` : `[${a.name}]`}${a.variadic ? '...' : ''}`).join('')} [flags]`;

function flagRows(flags: Record<string, FlagSpec>): string[][] {
  return Object.entries(flags).map(([name, f]) => {
    const value = f.type === 'string' ? ` <${f.value ?? 'value'}>` : '';
    const short = f.short ? `-${f.short}, ` : '';
    const choices = f.choices ? ` (${f.choices.join('|')})` : '';
    return [`  ${short}--${name}${value}${f.multiple ? ' ...' : ''}`, `${f.description}${choices}`];
  });
}

export function commandHelp(c: Command): string {
  const parts = [`observai ${c.path.join(' ')}: ${c.summary}`, '', 'Usage', `  ${usageLine(c)}`];
  if (c.description) parts.push('', ...c.description.split('\n').map((l) => (l ? `  ${l}` : '')));
  if (c.flags && Object.keys(c.flags).length > 0) parts.push('', 'Flags', table(flagRows(c.flags)));
  parts.push('', 'Global flags', table(flagRows(GLOBAL_FLAGS)));
  parts.push('', 'Examples', ...c.examples.map((e) => `  ${e}`));
  return parts.join('\n');
}

export function groupHelp(g: Group, commands: readonly Command[]): string {
  const own = commands.filter((c) => c.path[0] === g.name);
  const parts = [`observai ${g.name}: ${g.summary}`];
  if (g.description) parts.push('', ...g.description.split('\n').map((l) => (l ? `  ${l}` : '')));
  parts.push('', 'Commands', table(own.map((c) => [`  ${c.path.join(' ')}`, c.summary])));
  parts.push('', `observai ${g.name} <command> --help shows a command's flags and examples.`);
  return parts.join('\n');
}

export function mainHelp(groups: readonly Group[], commands: readonly Command[]): string {
  const rows: string[][] = [];
  for (const c of commands) {
    if (c.path.length === 1) rows.push([`  ${c.path[0]}`, c.summary]);
    else if (!rows.some((r) => r[0] === `  ${c.path[0]}`)) rows.push([`  ${c.path[0]}`, groups.find((g) => g.name === c.path[0])?.summary ?? '']);
  }
  return [
    'observai: ObservAI from a terminal: send, tail and query telemetry; API keys, alerts, incidents, exports',
    '',
    'Usage',
    '  observai <command> [flags]',
    '',
    'Commands',
    table(rows),
    '',
    'Global flags',
    table(flagRows(GLOBAL_FLAGS)),
    '',
    EXIT_CODES_HELP,
    '',
    'Start with',
    '  observai login --url http://localhost:54321 --api-key oai_...',
    '  observai doctor',
    '',
    'observai <command> --help shows a command\'s flags and examples; observai completion bash|zsh|fish',
    'prints a shell completion script. Credentials come from flags, then OBSERVAI_URL, OBSERVAI_API_KEY,',
    'OBSERVAI_TOKEN and OBSERVAI_PROJECT, then the login stored in $OBSERVAI_CONFIG',
    '(default ~/.config/observai/config.json).',
  ].join('\n');
}
