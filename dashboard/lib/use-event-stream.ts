'use client';

import { useEffect, useRef, useState } from 'react';
import { useApp } from '../components/app-context.tsx';
import { errorText } from './api.ts';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/**
 * One of the functions' SSE streams, live: a stream token (`POST <tokenPath>`), then an EventSource on
 * `<streamPath>?<params>&access_token=`. A token opens one stream, so when it ends (`end`: the
 * credential expired, a cap) or drops, a new token reopens it after the last event id (`lastId`: the
 * server resumes there, nothing missed, nothing twice), backing off up to 30 s while it fails.
 * `event` names the SSE event whose JSON data goes to `onEvent`.
 */
export function useEventStream<T>(opts: {
  tokenPath: '/alerts/stream/token' | '/oncall/incidents/stream/token';
  streamPath: string;
  params: Record<string, string | undefined>;
  event: string;
  onEvent(data: T): void;
}): { status: StreamStatus; error?: string } {
  const { clients } = useApp();
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const [error, setError] = useState<string>();
  const handler = useRef(opts.onEvent);
  handler.current = opts.onEvent;
  const { tokenPath, streamPath, event } = opts;
  const paramsKey = JSON.stringify(opts.params);

  useEffect(() => {
    let stopped = false;
    let source: EventSource | undefined;
    let lastId: string | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    const params = JSON.parse(paramsKey) as Record<string, string | undefined>;
    const open = async () => {
      if (stopped) return;
      try {
        const { token } = await clients.api.post(tokenPath);
        if (stopped) return;
        const q = new URLSearchParams({ access_token: token });
        for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
        if (lastId) q.set('lastId', lastId);
        source = new EventSource(`${clients.functionsUrl}${streamPath}?${q}`);
        source.addEventListener('ready', () => { failures = 0; setStatus('live'); setError(undefined); });
        source.addEventListener(event, (e) => {
          const ev = e as MessageEvent<string>;
          if (ev.lastEventId) lastId = ev.lastEventId;
          handler.current(JSON.parse(ev.data) as T);
        });
        source.addEventListener('end', () => again());
        source.onerror = () => again();
      } catch (err) {
        setError(errorText(err));
        again();
      }
    };
    const again = () => {
      source?.close();
      source = undefined;
      if (stopped) return;
      setStatus('reconnecting');
      failures += 1;
      clearTimeout(retry);
      retry = setTimeout(() => void open(), Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
    };
    void open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
      setStatus('stopped');
    };
  }, [clients, tokenPath, streamPath, event, paramsKey]);
  return { status, error };
}
