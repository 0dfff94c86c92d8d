/**
 * The command line: which command (the leading words), then its flags and arguments checked against
 * its declaration. Node's util.parseArgs reads the tokens; the checks are ours so that every mistake
 * names the flag: an unknown flag, a flag without its value, a value given to a switch.
 */
import { parseArgs } from 'node:util';
import type { Command, FlagSpec, Group } from './command.ts';
import { usage } from './errors.ts';

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseFlags(argv: string[], flags: Record<string, FlagSpec>, where: string): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(flags)) options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  const { values, positionals, tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const help = `${where} --help lists its flags`;
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = flags[t.name];
    if (!spec) throw usage(`unknown flag ${t.rawName} for "${where}"`, help);
    if (spec.type === 'boolean' && t.value !== undefined) throw usage(`${t.rawName} takes no value (got "${t.value}")`, help);
    if (spec.type === 'string') {
      if (t.value === undefined) throw usage(`${t.rawName} needs a value`, help);
      // `--url --json`: the next flag is not a value. A single dash may be one (`--query -debug`).
      if (!t.inlineValue && t.value.startsWith('--')) throw usage(`${t.rawName} needs a value (got the flag ${t.value})`, help);
      if (spec.choices && !spec.choices.includes(t.value)) throw usage(`${t.rawName} must be one of ${spec.choices.join(', ')} (got "${t.value}")`, help);
    }
  }
  return { values: values as Parsed['values'], positionals };
}

/**
 * The command named by the leading words of argv (flags may come before it: `observai --json keys
 * list`). Answers the command, or the group when only a group was named, and argv without the words.
 */
export function findCommand(
  argv: string[],
  commands: readonly Command[],
  groups: readonly Group[],
  globalStringFlags: ReadonlySet<string>,
): { command?: Command; group?: Group; rest: string[]; words: string[] } {
  const wordsAt: number[] = [];
  for (let i = 0; i < argv.length && wordsAt.length < 2; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      // A global flag's value is not a command word: `--url http://x keys list`.
      if (!a.includes('=') && globalStringFlags.has(a.replace(/^--/, ''))) i++;
      continue;
    }
    wordsAt.push(i);
    if (wordsAt.length === 1 && !groups.some((g) => g.name === a)) break;
  }
  const words = wordsAt.map((i) => argv[i]!);
  const without = (n: number) => argv.filter((_, i) => !wordsAt.slice(0, n).includes(i));
  if (words.length === 0) return { rest: argv, words };
  const group = groups.find((g) => g.name === words[0]);
  if (group) {
    const command = commands.find((c) => c.path.length === 2 && c.path[0] === words[0] && c.path[1] === words[1]);
    if (command) return { command, rest: without(2), words };
    if (words.length === 1) return { group, rest: without(1), words };
    throw usage(`unknown command "observai ${words[0]} ${words[1]}"`, `observai ${words[0]} --help lists its commands`);
  }
  const command = commands.find((c) => c.path.length === 1 && c.path[0] === words[0]);
  if (command) return { command, rest: without(1), words };
  throw usage(`unknown command "${words[0]}"`, 'observai --help lists the commands');
}
