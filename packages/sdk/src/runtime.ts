/**
 * The few places the runtimes differ, found through globalThis so that this package imports nothing
 * runtime-specific (it runs on Node 20+, Deno, browsers and edge runtimes with fetch alone):
 * unref'ing timers, and flushing when the process or page goes away.
 */
import type { FlushResult } from './types.ts';

interface NodeProcess {
  pid: number;
  versions?: { node?: string };
  on(event: string, fn: (...args: unknown[]) => void): void;
  off(event: string, fn: (...args: unknown[]) => void): void;
  listenerCount(event: string): number;
  kill(pid: number, signal: string): void;
}
interface DenoNs {
  unrefTimer?(id: number): void;
}
interface EventTargetLike {
  addEventListener(type: string, fn: (e: Event) => void): void;
  removeEventListener(type: string, fn: (e: Event) => void): void;
}

const g = globalThis as unknown as { process?: NodeProcess; Deno?: DenoNs; document?: { visibilityState?: string } } & Partial<EventTargetLike>;

/** Deno first: Deno 2 also defines a `process` global. */
export const runtime: 'deno' | 'node' | 'browser' | 'other' = g.Deno
  ? 'deno'
  : g.process?.versions?.node
    ? 'node'
    : g.document !== undefined && typeof g.addEventListener === 'function'
      ? 'browser'
      : 'other';

/** A timer that must not keep the process alive on its own (Node: unref(); Deno: Deno.unrefTimer). */
export function unrefTimer(t: unknown): void {
  if (typeof t === 'object' && t !== null && typeof (t as { unref?: unknown }).unref === 'function') (t as { unref(): void }).unref();
  else if (typeof t === 'number' && g.Deno?.unrefTimer) g.Deno.unrefTimer(t);
}

/**
 * Flush on the way out, where the runtime lets asynchronous work finish; answers the uninstaller.
 * - Node: `beforeExit` (the event loop ran dry: flush, which keeps it alive until delivered or timed
 *   out; not again after a timeout, or a dead server would keep the process forever), and SIGTERM /
 *   SIGINT: flush, then, when no other listener handles the signal, re-raise it so the process ends
 *   as it would have without us (a second signal during the flush re-raises at once).
 * - Deno: `beforeunload` (the loop ran dry; preventDefault() keeps it running while the flush goes on).
 *   Deno's `unload` cannot wait for anything asynchronous, so it is no place to send from.
 * - Browsers: `visibilitychange` to hidden and `pagehide` start a flush (the page may not wait; small
 *   bodies are sent with `keepalive`).
 */
export function installShutdownHooks(flush: (timeoutMs: number) => Promise<FlushResult>, pending: () => number, timeoutMs: number): () => void {
  let gaveUp = false;
  const flushOnce = () =>
    flush(timeoutMs).then((r) => {
      if (!r.ok) gaveUp = true;
      return r;
    });

  if (runtime === 'node') {
    const proc = g.process!;
    const onBeforeExit = () => {
      if (pending() > 0 && !gaveUp) void flushOnce();
    };
    const signals = ['SIGTERM', 'SIGINT'] as const;
    let flushing = false;
    const handlers = signals.map((sig) => {
      const onSignal = () => {
        const reraise = () => {
          if (proc.listenerCount(sig) > 1) return; // the app handles this signal itself
          uninstall();
          proc.kill(proc.pid, sig);
        };
        if (flushing) return reraise();
        flushing = true;
        void flushOnce().finally(reraise);
      };
      proc.on(sig, onSignal);
      return [sig, onSignal] as const;
    });
    proc.on('beforeExit', onBeforeExit);
    const uninstall = () => {
      proc.off('beforeExit', onBeforeExit);
      for (const [sig, fn] of handlers) proc.off(sig, fn);
    };
    return uninstall;
  }

  if (runtime === 'deno' && typeof g.addEventListener === 'function') {
    const onBeforeUnload = (e: Event) => {
      if (pending() > 0 && !gaveUp) {
        e.preventDefault();
        void flushOnce();
      }
    };
    g.addEventListener('beforeunload', onBeforeUnload);
    return () => g.removeEventListener!('beforeunload', onBeforeUnload);
  }

  if (runtime === 'browser') {
    const onHide = () => {
      if (g.document?.visibilityState === 'hidden' && pending() > 0) void flush(timeoutMs);
    };
    const onPageHide = () => void flush(timeoutMs);
    g.addEventListener!('visibilitychange', onHide);
    g.addEventListener!('pagehide', onPageHide);
    return () => {
      g.removeEventListener!('visibilitychange', onHide);
      g.removeEventListener!('pagehide', onPageHide);
    };
  }
  return () => {};
}
