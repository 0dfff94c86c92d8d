/**
 * What the CLI writes: results on stdout (text, or JSON with --json), everything meant for the person
 * (progress, notices, errors) on stderr. Colour only on a terminal, never with --json or NO_COLOR.
 */
import type { Io } from './io.ts';

const ANSI = /\x1b\[[0-9;]*m/g;

export interface Colors {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  magenta(s: string): string;
  cyan(s: string): string;
  gray(s: string): string;
  bold(s: string): string;
}

function colors(enabled: boolean): Colors {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    magenta: wrap(35, 39),
    cyan: wrap(36, 39),
    gray: wrap(90, 39),
    bold: wrap(1, 22),
  };
}

/**
 * Colour on stdout when it is a terminal, unless --json, --no-color or NO_COLOR (any value, as
 * no-color.org says); FORCE_COLOR (not 0) turns it on for a pipe.
 */
export function colorEnabled(io: Io, opts: { json: boolean; noColor: boolean }): boolean {
  if (opts.json || opts.noColor) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  const force = io.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  return io.stdout.isTTY === true && io.env.TERM !== 'dumb';
}

export class Output {
  readonly c: Colors;
  constructor(
    private readonly io: Io,
    readonly color: boolean,
  ) {
    this.c = colors(color);
  }

  /** A line of the result (stdout). */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** The result as JSON (stdout). */
  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One line of NDJSON (stdout): what streams print with --json. */
  ndjson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A notice for the person (stderr). */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** Raw text on stderr (progress bars redraw with \r). */
  raw(text: string): void {
    this.io.stderr.write(text);
  }

  level(level: string): string {
    const padded = level.toUpperCase().padEnd(5);
    switch (level) {
      case 'fatal':
        return this.c.bold(this.c.magenta(padded));
      case 'error':
        return this.c.red(padded);
      case 'warn':
        return this.c.yellow(padded);
      case 'info':
        return this.c.green(padded);
      case 'debug':
        return this.c.blue(padded);
      default:
        return this.c.gray(padded);
    }
  }
}

export const visibleWidth = (s: string) => s.replace(ANSI, '').length;

/** Columns aligned on their visible width (colour codes do not count); the last column is not padded. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  if (all.length === 0) return '';
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cell))));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleWidth(cell))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** 1234567 -> 1,234,567. */
export const count = (n: number) => n.toLocaleString('en-US');

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A metric value with at most 4 significant decimals, no exponent for ordinary magnitudes. */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e15)) return v.toExponential(3);
  return String(Number(v.toPrecision(abs >= 1 ? Math.max(4, Math.ceil(Math.log10(abs + 1)) + 3) : 4)));
}

/** `{ host: "web-1", region: "eu" }` -> `host=web-1 region=eu`. */
export function labels(tags: Record<string, unknown> | null | undefined): string {
  if (!tags) return '';
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : '-';
}

/** A listing: the table, or a word on stderr when there is nothing to list (an empty table says less). */
export function listing(out: Output, rows: string[][], header: string[], nothing: string): void {
  if (rows.length === 0) out.note(nothing);
  else out.line(table(rows, header));
}
