'use client';

import { useEffect, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import type { Schedule } from '../incidents/types.ts';
import { when } from './people.ts';

interface OnCall {
  scheduleId: string;
  at: string;
  onCall: { userId: string; source: { kind: 'override'; overrideId: string; index: number } | { kind: 'layer'; layerId: string; layerName: string }; until: string | null } | null;
  nextHandoff: { at: string; from: string | null; to: string | null } | null;
}

/** Who is on call now on each schedule (GET /oncall/schedules/{id}/on-call), until when, and who is next. */
export function OnCallNow({ schedules, name, refresh, onPick }: { schedules: Schedule[]; name: (id: string | null | undefined) => string; refresh: number; onPick(id: string): void }) {
  const { clients } = useApp();
  const [rows, setRows] = useState<Record<string, OnCall>>({});
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    Promise.all(schedules.map((s) => clients.api.get('/oncall/schedules/{id}/on-call', { params: { path: { id: s.id } } })))
      .then((list) => { if (live) { setRows(Object.fromEntries(list.map((r) => [r.scheduleId, r as OnCall]))); setError(undefined); } })
      .catch((err) => live && setError(errorText(err)));
    return () => { live = false; };
  }, [clients, schedules, refresh]);
  return (
    <section className="panel" aria-labelledby="now-h">
      <h2 id="now-h">On call now</h2>
      {error ? <p role="alert" className="error">{error}</p> : null}
      {schedules.length === 0 ? <p className="oc-empty">This organization has no on-call schedules yet. Owners and admins create them through the API (POST /oncall/schedules; docs/oncall.md).</p> : (
        <table data-testid="on-call-now">
          <thead><tr><th scope="col">Schedule</th><th scope="col">On call now</th><th scope="col">Because of</th><th scope="col">Until</th><th scope="col">Next on call</th></tr></thead>
          <tbody>
            {schedules.map((s) => {
              const r = rows[s.id];
              return (
                <tr key={s.id} data-schedule={s.id}>
                  <th scope="row"><button type="button" className="oc-link" onClick={() => onPick(s.id)}>{s.name}</button> <span className="muted">{s.timeZone}</span></th>
                  <td data-testid="on-call-person">{r === undefined ? '…' : r.onCall ? <strong>{name(r.onCall.userId)}</strong> : <span className="error">Nobody</span>}</td>
                  <td>{r?.onCall ? (r.onCall.source.kind === 'override' ? 'an override' : `layer ${r.onCall.source.layerName}`) : ''}</td>
                  <td>{r?.onCall?.until ? when(r.onCall.until) : r?.onCall ? 'no change within a year' : ''}</td>
                  <td>{r?.nextHandoff ? `${r.nextHandoff.to ? name(r.nextHandoff.to) : 'nobody'} at ${when(r.nextHandoff.at)}` : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
