'use client';

import { useCallback, useEffect, useState } from 'react';
import { formatValue } from '../timeseries-chart.tsx';
import { errorText } from '../../lib/api.ts';
import { useApp } from '../app-context.tsx';
import { Labels, StateBadge } from './labels.tsx';
import { fmtTime, type TransitionView } from './types.ts';

const TO_STATES = ['', 'firing', 'pending', 'resolved', 'inactive'] as const;

/** Every state change of the project's alerts, newest first, a page at a time (GET /alerts/history). */
export function History({ refresh }: { refresh: number }) {
  const { clients, project } = useApp();
  const projectId = project!.id;
  const [rows, setRows] = useState<TransitionView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [toState, setToState] = useState<(typeof TO_STATES)[number]>('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const load = useCallback(async (after?: string) => {
    setBusy(true);
    try {
      const page = await clients.api.get('/alerts/history', { params: { query: { projectId, limit: 100, ...(toState ? { to_state: toState } : {}), ...(after ? { cursor: after } : {}) } } });
      setRows((r) => (after ? [...r, ...(page.transitions as TransitionView[])] : (page.transitions as TransitionView[])));
      setCursor(page.nextCursor);
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }, [clients, projectId, toState]);
  useEffect(() => { void load(); }, [load, refresh]);

  return (
    <section aria-labelledby="al-hist-h">
      <h2 id="al-hist-h">History</h2>
      <div className="toolbar">
        <label>To state
          <select value={toState} onChange={(e) => setToState(e.target.value as (typeof TO_STATES)[number])}>
            {TO_STATES.map((s) => <option key={s} value={s}>{s || 'any'}</option>)}
          </select>
        </label>
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="scroll" tabIndex={0} role="region" aria-label="Alert history">
        <table className="al-table" data-testid="history">
          <thead><tr><th scope="col">Time</th><th scope="col">Alert</th><th scope="col">Change</th><th scope="col">Labels</th><th scope="col" className="num">Value</th><th scope="col">Reason</th></tr></thead>
          <tbody>
            {rows.length === 0 && !busy ? <tr><td colSpan={6} className="empty">No state changes yet.</td></tr> : null}
            {rows.map((t) => (
              <tr key={t.id} data-alertname={t.labels.alertname} data-to={t.toState}>
                <td className="nowrap">{fmtTime(t.at)}</td>
                <td className="nowrap"><strong>{t.labels.alertname ?? '—'}</strong> <span className={`badge ${t.severity}`}>{t.severity}</span></td>
                <td className="nowrap"><StateBadge state={t.fromState} /> → <StateBadge state={t.toState} /></td>
                <td><Labels labels={t.labels} skip={['alertname', 'severity']} /></td>
                <td className="num">{t.value === null ? '—' : formatValue(t.value)}</td>
                <td className="al-reason">{t.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cursor ? <button type="button" className="secondary" disabled={busy} onClick={() => void load(cursor)}>Load older</button> : null}
    </section>
  );
}
