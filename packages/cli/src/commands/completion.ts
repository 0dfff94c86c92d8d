/**
 * `observai completion bash|zsh|fish`: a completion script generated from the command declarations
 * (commands, subcommands, each command's flags and their fixed values), so it always matches.
 */
import { type Command, type FlagSpec, GLOBAL_FLAGS, type Group } from '../command.ts';
import { usage } from '../errors.ts';

const SHELLS = ['bash', 'zsh', 'fish'] as const;

interface Tree {
  top: Array<{ name: string; summary: string }>;
  subs: Map<string, Array<{ name: string; summary: string }>>;
  flags: Map<string, Record<string, FlagSpec>>;
}

function tree(commands: readonly Command[], groups: readonly Group[]): Tree {
  const top: Tree['top'] = [];
  const subs: Tree['subs'] = new Map();
  const flags: Tree['flags'] = new Map();
  for (const c of commands) {
    flags.set(c.path.join(' '), { ...GLOBAL_FLAGS, ...c.flags });
    if (c.path.length === 1) top.push({ name: c.path[0]!, summary: c.summary });
    else {
      const g = c.path[0]!;
      if (!subs.has(g)) {
        subs.set(g, []);
        top.push({ name: g, summary: groups.find((x) => x.name === g)?.summary ?? '' });
      }
      subs.get(g)!.push({ name: c.path[1]!, summary: c.summary });
    }
  }
  return { top, subs, flags };
}

const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(t: Tree): string {
  const cases = [...t.flags.entries()]
    .map(([path, flags]) => {
      const words = Object.entries(flags).flatMap(([n, f]) => [`--${n}`, ...(f.short ? [`-${f.short}`] : [])]);
      const values = Object.entries(flags)
        .filter(([, f]) => f.choices)
        .map(([n, f]) => `          --${n}) COMPREPLY=($(compgen -W ${shellWord(f.choices!.join(' '))} -- "$cur")); return ;;`)
        .join('\n');
      return `      ${shellWord(path)})\n        case "$prev" in\n${values}\n        esac\n        COMPREPLY=($(compgen -W ${shellWord(words.join(' '))} -- "$cur")) ;;`;
    })
    .join('\n');
  const groups = [...t.subs.entries()].map(([g, s]) => `    ${g}) COMPREPLY=($(compgen -W ${shellWord(s.map((x) => x.name).join(' '))} -- "$cur")); return ;;`).join('\n');
  return `# observai completion for bash: eval "$(observai completion bash)" (e.g. in ~/.bashrc)
_observai() {
  local cur prev words=() i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ "\${COMP_WORDS[i]}" != -* ]] && words+=("\${COMP_WORDS[i]}")
  done
  if [[ \${#words[@]} -eq 0 ]]; then
    COMPREPLY=($(compgen -W ${shellWord(t.top.map((x) => x.name).join(' '))} -- "$cur")); return
  fi
  if [[ \${#words[@]} -eq 1 && "$cur" != -* ]]; then
    case "\${words[0]}" in
${groups}
    esac
  fi
  local path="\${words[0]}"
  case "\${words[0]}" in ${[...t.subs.keys()].join('|')}) path="\${words[0]} \${words[1]}" ;; esac
  case "$path" in
${cases}
  esac
}
complete -F _observai observai
`;
}

function zsh(t: Tree): string {
  const describe = (items: Array<{ name: string; summary: string }>) => items.map((x) => shellWord(`${x.name}:${x.summary.replace(/:/g, '\\:')}`)).join(' ');
  const flagSpecs = (flags: Record<string, FlagSpec>) =>
    Object.entries(flags)
      .map(([n, f]) => {
        const desc = f.description.replace(/[[\]:']/g, ' ');
        const value = f.type === 'string' ? `:${f.value ?? 'value'}:${f.choices ? `(${f.choices.join(' ')})` : ''}` : '';
        return shellWord(`${f.multiple ? '*' : ''}--${n}[${desc}]${value}`);
      })
      .join(' ');
  const cases = [...t.flags.entries()].map(([path, flags]) => `    ${shellWord(path)}) _arguments -s ${flagSpecs(flags)} '*:argument:' ;;`).join('\n');
  const groups = [...t.subs.entries()].map(([g, s]) => `      ${g}) local -a subs; subs=(${describe(s)}); _describe 'command' subs; return ;;`).join('\n');
  return `#compdef observai
# observai completion for zsh: observai completion zsh > "\${fpath[1]}/_observai" (then compinit)
_observai() {
  local -a words_=() top
  local w
  for w in "\${(@)words[2,CURRENT-1]}"; do [[ "$w" != -* ]] && words_+=("$w"); done
  if (( \${#words_} == 0 )) && [[ "$PREFIX" != -* ]]; then
    top=(${describe(t.top)}); _describe 'command' top; return
  fi
  if (( \${#words_} == 1 )) && [[ "$PREFIX" != -* ]]; then
    case "\${words_[1]}" in
${groups}
    esac
  fi
  local path_="\${words_[1]}"
  case "\${words_[1]}" in ${[...t.subs.keys()].join('|')}) path_="\${words_[1]} \${words_[2]}" ;; esac
  case "$path_" in
${cases}
  esac
}
compdef _observai observai
`;
}

function fish(t: Tree): string {
  const lines = ['# observai completion for fish: observai completion fish > ~/.config/fish/completions/observai.fish', 'complete -c observai -f'];
  for (const c of t.top) lines.push(`complete -c observai -n __fish_use_subcommand -a ${c.name} -d ${shellWord(c.summary)}`);
  for (const [g, subs] of t.subs) {
    const others = subs.map((s) => s.name).join(' ');
    for (const s of subs) lines.push(`complete -c observai -n '__fish_seen_subcommand_from ${g}; and not __fish_seen_subcommand_from ${others}' -a ${s.name} -d ${shellWord(s.summary)}`);
  }
  for (const [path, flags] of t.flags) {
    const words = path.split(' ');
    const cond = words.map((w) => `__fish_seen_subcommand_from ${w}`).join('; and ');
    for (const [n, f] of Object.entries(flags)) {
      const value = f.type === 'string' ? (f.choices ? ` -x -a ${shellWord(f.choices.join(' '))}` : ' -r') : '';
      lines.push(`complete -c observai -n ${shellWord(cond)} -l ${n}${f.short ? ` -s ${f.short}` : ''}${value} -d ${shellWord(f.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionCommands(all: () => { commands: readonly Command[]; groups: readonly Group[] }): Command[] {
  return [
    {
      path: ['completion'],
      summary: 'print a shell completion script (bash, zsh or fish)',
      description: 'Completes commands, subcommands, flags and the values of flags that take a fixed set.',
      args: [{ name: 'shell', required: true }],
      examples: [
        'eval "$(observai completion bash)"                       # in ~/.bashrc',
        'observai completion zsh > "${fpath[1]}/_observai"        # then restart zsh',
        'observai completion fish > ~/.config/fish/completions/observai.fish',
      ],
      async run(ctx) {
        const shell = ctx.args[0]!;
        if (!(SHELLS as readonly string[]).includes(shell)) throw usage(`<shell> must be one of ${SHELLS.join(', ')} (got "${shell}")`);
        const { commands, groups } = all();
        const t = tree(commands, groups);
        ctx.io.stdout.write(shell === 'bash' ? bash(t) : shell === 'zsh' ? zsh(t) : fish(t));
      },
    },
  ];
}
