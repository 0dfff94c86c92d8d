'use client';

import { useEffect, useRef, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import { LogTable, type LogLine } from './log-table.tsx';

/**
 * A line's context (GET /logs/{id}): the lines of the same service just before and after it, in
 * time order, the line itself highlighted, in a modal dialog (Escape closes it). "More" widens the
 * window up to the API's 100 lines each side.
 */
export function LogContext({ id, onClose }: { id: string; onClose(): void }) {
  const { clients, project } = useApp();
  const dialog = useRef<HTMLDialogElement>(null);
  const [around, setAround] = useState(10);
  const [data, setData] = useState<{ log: LogLine; before: LogLine[]; after: LogLine[] }>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);

  useEffect(() => {
    let live = true;
    clients.api.get('/logs/{id}', { params: { path: { id }, query: { projectId: project!.id, before: around, after: around } } })
      .then((r) => {
        if (!live) return;
        setData(r as { log: LogLine; before: LogLine[]; after: LogLine[] });
        setError(undefined);
      })
      .catch((err) => live && setError(errorText(err)));
    return () => { live = false; };
  }, [clients, project, id, around]);

  useEffect(() => {
    // Bring the highlighted line into view once drawn.
    dialog.current?.querySelector('tr.highlight')?.scrollIntoView({ block: 'center' });
  }, [data]);

  const lines = data ? [...data.before, data.log, ...data.after] : [];
  return (
    <dialog ref={dialog} className="log-context" aria-labelledby="log-context-title" onClose={onClose} data-testid="log-context">
      <header>
        <h2 id="log-context-title">Context{data ? <span className="muted"> · {data.log.service}, {data.before.length} lines before and {data.after.length} after</span> : null}</h2>
        <button type="button" className="secondary" onClick={() => dialog.current?.close()}>Close</button>
      </header>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="lt-scroll" tabIndex={0} role="region" aria-label="Lines around the line" aria-busy={!data}>
        {data ? <LogTable logs={lines} label="Context lines, oldest first" highlight={data.log.id} testId="context-rows" /> : <p>Loading…</p>}
      </div>
      <footer>
        <span className="hint">Oldest first; the line you opened is highlighted.</span>
        {around < 100 ? <button type="button" className="secondary" onClick={() => setAround((n) => Math.min(100, n * 3))}>More lines</button> : null}
      </footer>
    </dialog>
  );
}
