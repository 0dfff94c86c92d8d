/**
 * What a command declares (its flags, arguments, help and examples) and what it gets when it runs.
 * Help, flag checking and shell completion are all generated from these declarations, so they cannot
 * drift apart.
 */
import type { Api } from './api.ts';
import type { Settings } from './config.ts';
import { usage } from './errors.ts';
import type { Io } from './io.ts';
import type { Output } from './output.ts';
import { parseDuration, parseTime } from './time.ts';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** May be given more than once (`--tag a=1 --tag b=2`). */
  multiple?: boolean;
  short?: string;
  /** The value's name in help (`--from <time>`). */
  value?: string;
  description: string;
  /** The values a string flag takes (checked, and offered by completion). */
  choices?: readonly string[];
}

export interface ArgSpec {
  name: string;
  required?: boolean;
  /** Takes every remaining argument (`logs search payment declined`). */
  variadic?: boolean;
}

export interface Command {
  path: string[];
  summary: string;
  /** Paragraphs under the usage line: what it calls, what it prints, its limits. */
  description?: string;
  flags?: Record<string, FlagSpec>;
  args?: ArgSpec[];
  examples: string[];
  run(ctx: Ctx): Promise<number | void>;
}

export interface Group {
  name: string;
  summary: string;
  description?: string;
}

export interface Ctx {
  command: Command;
  flags: Flags;
  args: string[];
  io: Io;
  out: Output;
  json: boolean;
  settings(): Settings;
  /**
   * The API with the credential this command sends: a user token when there is one (a person),
   * else the API key; `ingest` takes the API key only (ingest refuses user tokens).
   */
  api(opts?: { ingest?: boolean; anonymous?: boolean; usesProject?: boolean }): Api;
  /** The project flag, environment variable or stored default. */
  project(): string | undefined;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

/** Flags given on the command line, read through checks that name the flag when a value is wrong. */
export class Flags {
  constructor(
    private readonly values: Record<string, string | boolean | string[] | undefined>,
    private readonly now: () => number,
  ) {}

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  str(name: string): string | undefined {
    const v = this.values[name];
    return Array.isArray(v) ? v[v.length - 1] : typeof v === 'string' ? v : undefined;
  }

  required(name: string): string {
    const v = this.str(name);
    if (v === undefined || v === '') throw usage(`--${name} is required`);
    return v;
  }

  bool(name: string): boolean {
    return this.values[name] === true;
  }

  /** Every value of a repeatable flag; `split` also splits each at commas (`--scopes ingest,read`). */
  list(name: string, split = false): string[] {
    const v = this.values[name];
    const all = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
    return split ? all.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '') : all;
  }

  int(name: string, range: { min: number; max: number }): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v.trim()) || Number(v) < range.min || Number(v) > range.max) {
      throw usage(`--${name} must be a whole number from ${range.min} to ${range.max} (got "${v}")`);
    }
    return Number(v);
  }

  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (!(choices as readonly string[]).includes(v)) throw usage(`--${name} must be one of ${choices.join(', ')} (got "${v}")`);
    return v as T;
  }

  /** Comma-separated values, each one of `choices`. */
  choices<T extends string>(name: string, choices: readonly T[]): T[] {
    const values = this.list(name, true);
    for (const v of values) if (!(choices as readonly string[]).includes(v)) throw usage(`--${name} takes ${choices.join(', ')} (got "${v}")`);
    return values as T[];
  }

  /** An ISO 8601 instant from `2026-03-09T10:00:00Z`, `2026-03-09`, `now` or an age (`15m`: 15 minutes ago). */
  time(name: string): string | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    const t = parseTime(v, this.now());
    if (t === undefined) throw usage(`--${name} must be an ISO 8601 time, "now", or an age such as 15m, 2h or 7d (got "${v}")`);
    return t;
  }

  /** Milliseconds from `90s`, `15m`, `1h30m`, `7d`. */
  duration(name: string): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined) throw usage(`--${name} must be a duration such as 30s, 15m, 2h or 7d (got "${v}")`);
    return ms;
  }

  /** `k=v` pairs of a repeatable flag, as an object. */
  pairs(name: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const item of this.list(name)) {
      const at = item.indexOf('=');
      if (at <= 0) throw usage(`--${name} takes key=value (got "${item}")`);
      out[item.slice(0, at)] = item.slice(at + 1);
    }
    return out;
  }
}

/** The flags every command takes. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', description: 'print the result as JSON (errors too, on stderr)' },
  url: { type: 'string', value: 'url', description: 'the functions base URL (default: OBSERVAI_URL, then the stored login)' },
  'api-key': { type: 'string', value: 'key', description: 'an API key (default: OBSERVAI_API_KEY, then the stored login)' },
  token: { type: 'string', value: 'jwt', description: 'a user access token (default: OBSERVAI_TOKEN, then the stored login)' },
  project: { type: 'string', value: 'id', description: 'the project (default: OBSERVAI_PROJECT, then the stored login; an API key means its own)' },
  timeout: { type: 'string', value: 'duration', description: 'how long to wait for each answer (default 30s)' },
  'no-color': { type: 'boolean', description: 'no colour (also NO_COLOR=1)' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id argument or flag (every id the API takes is a UUID): checked here so a typo is exit 2, not a 400. */
export function checkId(id: string | undefined, label: string, what = 'an id'): string | undefined {
  if (id !== undefined && !UUID.test(id)) throw usage(`${label} must be ${what} (a UUID; got "${id}")`);
  return id;
}
