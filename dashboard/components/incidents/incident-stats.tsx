'use client';

import { useEffect, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import { seconds, usePeople } from '../oncall/people.ts';
import type { OncallService } from './types.ts';

const RANGES = [
  { id: '7', label: 'Last 7 days' },
  { id: '30', label: 'Last 30 days' },
  { id: '90', label: 'Last 90 days' },
  { id: '365', label: 'Last 365 days' },
] as const;

interface Figures {
  opened: number; acknowledged: number; resolved: number;
  mttaSeconds: number | null; mttaP50Seconds: number | null; mttaP90Seconds: number | null;
  mttrSeconds: number | null; mttrP50Seconds: number | null; mttrP90Seconds: number | null;
}

/** MTTA and MTTR over incidents opened in the range (GET /oncall/incidents/stats), per service and responder. */
export function IncidentStats({ services, refresh }: { services: OncallService[]; refresh: number }) {
  const { clients, project } = useApp();
  const { name } = usePeople();
  const [days, setDays] = useState('30');
  const [stats, setStats] = useState<{ total: Figures; services: Array<Figures & { serviceId: string | null; name: string | null }>; responders: Array<Figures & { acknowledgedBy: string | null }> }>();
  const [error, setError] = useState<string>();
  const projectId = project!.id;

  useEffect(() => {
    let live = true;
    const to = Date.now();
    const from = to - Number(days) * 86_400_000;
    clients.api.get('/oncall/incidents/stats', { params: { query: { projectId, from: new Date(from).toISOString(), to: new Date(to).toISOString() } } })
      .then((s) => { if (live) { setStats(s); setError(undefined); } })
      .catch((err) => live && setError(errorText(err)));
    return () => { live = false; };
  }, [clients, projectId, days, refresh]);

  const row = (key: string, label: string, f: Figures) => (
    <tr key={key}>
      <th scope="row">{label}</th>
      <td className="oc-num">{f.opened}</td>
      <td className="oc-num">{f.acknowledged}</td>
      <td className="oc-num">{f.resolved}</td>
      <td className="oc-num">{seconds(f.mttaSeconds)}</td>
      <td className="oc-num">{seconds(f.mttaP90Seconds)}</td>
      <td className="oc-num">{seconds(f.mttrSeconds)}</td>
      <td className="oc-num">{seconds(f.mttrP90Seconds)}</td>
    </tr>
  );
  return (
    <section className="panel" aria-labelledby="stats-h">
      <div className="inc-head">
        <h2 id="stats-h">Response times <span className="muted">MTTA and MTTR of incidents opened in the range</span></h2>
        <label>Range
          <select value={days} onChange={(e) => setDays(e.target.value)}>
            {RANGES.map((r) => <option key={r.id} value={r.id}>{r.label}</option>)}
          </select>
        </label>
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
      {stats ? (
        <div className="oc-scroll" role="region" aria-label="Response times" tabIndex={0}>
          <table className="stats" data-testid="stats">
            <thead>
              <tr>
                <th scope="col">Scope</th><th scope="col">Opened</th><th scope="col">Acknowledged</th><th scope="col">Resolved</th>
                <th scope="col">MTTA</th><th scope="col">MTTA p90</th><th scope="col">MTTR</th><th scope="col">MTTR p90</th>
              </tr>
            </thead>
            <tbody>
              {row('total', 'All services', stats.total)}
              {stats.services.map((s) => row(`s-${s.serviceId}`, `Service: ${s.name ?? services.find((x) => x.id === s.serviceId)?.name ?? 'removed service'}`, s))}
              {stats.responders.map((r) => row(`r-${r.acknowledgedBy}`, `Responder: ${name(r.acknowledgedBy)}`, r))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
