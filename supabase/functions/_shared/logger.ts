import type { Logger } from '../../../src/core/logger.ts';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

/**
 * JSON lines on stdout, in pino's shape (level, time, msg, bindings), which Supabase's log explorer
 * indexes. A tiny logger instead of pino keeps the edge bundle small and free of Node streams.
 */
export function createEdgeLogger(level: keyof typeof LEVELS, bindings: Record<string, unknown> = {}): Logger {
  const threshold = LEVELS[level];
  const write = (lvl: number) => (obj: object | string, msg?: string) => {
    if (lvl < threshold) return;
    const fields = typeof obj === 'string' ? { msg: obj } : { ...serialise(obj), ...(msg ? { msg } : {}) };
    console.log(JSON.stringify({ level: lvl, time: Date.now(), ...bindings, ...fields }));
  };
  return {
    debug: write(20),
    info: write(30),
    warn: write(40),
    error: write(50),
    child: (more) => createEdgeLogger(level, { ...bindings, ...more }),
  };
}

function serialise(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...obj };
  const err = (obj as { err?: unknown }).err;
  if (err instanceof Error) out.err = { type: err.name, message: err.message, stack: err.stack };
  return out;
}
