/** The process around a command, passed in (main.ts gives the real one), never read from globals. */
export interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  env: Record<string, string | undefined>;
  stdout: Stream;
  stderr: Stream;
  stdin: AsyncIterable<Buffer | string> & { isTTY?: boolean };
  /** Calls `fn` on Ctrl-C (SIGINT) and SIGTERM; returns the function that stops listening. */
  onInterrupt(fn: () => void): () => void;
  now(): number;
  fetch: typeof fetch;
  /** Ends the process at once (a second Ctrl-C). */
  exit(code: number): never;
}

export function nodeIo(): Io {
  return {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    onInterrupt(fn) {
      process.on('SIGINT', fn);
      process.on('SIGTERM', fn);
      return () => {
        process.off('SIGINT', fn);
        process.off('SIGTERM', fn);
      };
    },
    now: () => Date.now(),
    fetch: globalThis.fetch,
    exit: (code) => process.exit(code),
  };
}
