'use client';

import { useEffect, useRef, useState } from 'react';
import { errorText, type Clients } from '../../lib/api.ts';
import type { LogLine } from './log-table.tsx';

export interface TailState {
  status: 'off' | 'connecting' | 'live' | 'ended' | 'error';
  /** Newest first, at most `max`. */
  lines: LogLine[];
  /** Lines that arrived while paused, shown on resume. */
  pending: number;
  /** Lines the server skipped because they came faster than the tail's rate. */
  dropped: number;
  message?: string;
}

const OFF: TailState = { status: 'off', lines: [], pending: 0, dropped: 0 };

/**
 * The live tail (GET /logs/tail, Server-Sent Events) as a browser opens it: a stream token first
 * (POST /logs/tail/token; EventSource cannot send the session's token in a header), then an
 * EventSource with the filter and `access_token`. New lines go on top, the last `max` kept. A token
 * opens the stream for 60 s only, so when the stream ends (`max_duration`) or drops and EventSource
 * cannot reconnect with the old URL, a new token is minted and the stream resumes after the last
 * line seen (`lastId`). Closed when turned off, when the filter changes (reopened with it) and when
 * the page is left.
 */
export function useLiveTail(opts: { clients: Clients; projectId: string; params: Record<string, string>; enabled: boolean; paused: boolean; max?: number }): TailState {
  const { clients, projectId, params, enabled, paused } = opts;
  const max = opts.max ?? 500;
  const [state, setState] = useState<TailState>(OFF);
  const pausedRef = useRef(paused);
  const pending = useRef<LogLine[]>([]);
  const key = JSON.stringify(params);

  useEffect(() => {
    pausedRef.current = paused;
    if (!paused && pending.current.length) {
      const add = pending.current;
      pending.current = [];
      setState((s) => ({ ...s, lines: [...add, ...s.lines].slice(0, max), pending: 0 }));
    }
  }, [paused, max]);

  useEffect(() => {
    if (!enabled) {
      setState(OFF);
      pending.current = [];
      return;
    }
    let closed = false;
    let source: EventSource | undefined;
    let lastId: string | undefined;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({ ...OFF, status: 'connecting' });

    const reopen = (why: string) => {
      source?.close();
      if (closed) return;
      if (++failures > 5) {
        setState((s) => ({ ...s, status: 'error', message: why }));
        return;
      }
      setState((s) => ({ ...s, status: 'connecting', message: why }));
      timer = setTimeout(() => void open(), Math.min(8000, 500 * 2 ** failures));
    };

    const open = async () => {
      try {
        const { token } = await clients.api.post('/logs/tail/token');
        if (closed) return;
        const url = new URL(`${clients.functionsUrl}/logs/tail`);
        url.searchParams.set('projectId', projectId);
        for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
        if (lastId) url.searchParams.set('lastId', lastId);
        url.searchParams.set('access_token', token);
        const es = new EventSource(url);
        source = es;
        es.addEventListener('ready', (e) => {
          const data = JSON.parse((e as MessageEvent<string>).data) as { lastId?: string | null };
          lastId ??= data.lastId ?? undefined;
          failures = 0;
          setState((s) => ({ ...s, status: 'live', message: undefined }));
        });
        es.addEventListener('log', (e) => {
          const m = e as MessageEvent<string>;
          const line = JSON.parse(m.data) as LogLine;
          lastId = m.lastEventId || line.id;
          if (pausedRef.current) {
            pending.current = [line, ...pending.current].slice(0, max);
            setState((s) => ({ ...s, pending: pending.current.length }));
          } else setState((s) => ({ ...s, lines: [line, ...s.lines].slice(0, max) }));
        });
        es.addEventListener('dropped', (e) => {
          const { count } = JSON.parse((e as MessageEvent<string>).data) as { count: number };
          setState((s) => ({ ...s, dropped: s.dropped + count }));
        });
        es.addEventListener('end', (e) => {
          const end = JSON.parse((e as MessageEvent<string>).data) as { reason: string; message?: string; lastId?: string | null };
          lastId = end.lastId ?? lastId;
          es.close();
          // Only the 15-minute cap is routine; a revoked or expired credential ends the tail for good.
          if (end.reason === 'max_duration') void open();
          else setState((s) => ({ ...s, status: 'ended', message: end.message ?? end.reason }));
        });
        es.onerror = () => {
          // CONNECTING: EventSource retries by itself. CLOSED: it gave up (the token expired, a 4xx).
          if (es.readyState === EventSource.CLOSED) reopen('The stream closed; reconnecting…');
        };
      } catch (err) {
        reopen(errorText(err));
      }
    };
    void open();
    return () => {
      closed = true;
      clearTimeout(timer);
      source?.close();
    };
    // The params are compared by value (key).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [enabled, key, projectId, clients, max]);

  return state;
}
