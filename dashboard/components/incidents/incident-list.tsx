'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import { useUrlState } from '../../lib/use-url-state.ts';
import { age, usePeople } from '../oncall/people.ts';
import { IncidentStats } from './incident-stats.tsx';
import type { Incident, IncidentChange, OncallService } from './types.ts';
import { useIncidentStream } from './use-incident-stream.ts';

const STATE_ORDER: Record<Incident['state'], number> = { triggered: 0, acknowledged: 1, resolved: 2 };
const STATES = [
  { id: 'open', label: 'Open (triggered or acknowledged)' },
  { id: 'triggered', label: 'Triggered' },
  { id: 'acknowledged', label: 'Acknowledged' },
  { id: 'resolved', label: 'Resolved' },
  { id: 'all', label: 'All' },
] as const;

/**
 * The project's incidents, open first (triggered, then acknowledged, high urgency before low, newest
 * first), filtered by state and service through the API and by urgency here (the list endpoint has
 * no urgency filter), kept current by the incidents stream.
 */
export function IncidentList() {
  const { clients, project } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const { name } = usePeople();
  const [params, setParams] = useUrlState();
  const [incidents, setIncidents] = useState<Incident[]>();
  const [services, setServices] = useState<OncallService[]>([]);
  const [error, setError] = useState<string>();
  const [now, setNow] = useState(() => Date.now());
  // Bumped (at most every 2 s) when the stream reports changes, so the response times follow them.
  const [statsVersion, setStatsVersion] = useState(0);
  const statsTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  const state = params?.get('state') ?? 'open';
  const urgency = params?.get('urgency') ?? '';
  const serviceId = params?.get('service') ?? '';

  const load = useCallback(async () => {
    try {
      const query = { projectId, limit: 500, ...(state !== 'all' ? { state: state as 'open' } : {}), ...(serviceId ? { serviceId } : {}) };
      const { incidents: list } = await api.get('/oncall/incidents', { params: { query } });
      setIncidents(list);
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  }, [api, projectId, state, serviceId]);

  useEffect(() => { if (params) void load(); }, [load, params]);
  useEffect(() => {
    api.get('/oncall/services', { params: { query: { projectId } } }).then(({ services: s }) => setServices(s)).catch((err) => setError(errorText(err)));
  }, [api, projectId]);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => { clearInterval(t); clearTimeout(statsTimer.current); };
  }, []);

  // A change to an incident we list: its state at once from the event, then the whole incident from
  // the API (who acknowledged, when, snoozed until...). One we do not know (a new incident, or one now
  // entering the filter) reloads the list, which is the API's answer to the filter.
  const refreshOne = useCallback(async (id: string) => {
    try {
      const { incident } = await api.get('/oncall/incidents/{id}', { params: { path: { id } } });
      setIncidents((list) => list?.map((i) => (i.id === id && i.version <= incident.version ? incident : i)));
    } catch (err) {
      setError(errorText(err));
    }
  }, [api]);
  const onChange = useCallback((c: IncidentChange) => {
    setNow(Date.now());
    statsTimer.current ??= setTimeout(() => { statsTimer.current = undefined; setStatsVersion((n) => n + 1); }, 2000);
    setIncidents((list) => {
      const known = list?.find((i) => i.id === c.incidentId);
      if (!list || !known) {
        void load();
        return list;
      }
      if (known.version > c.incident.version) return list;
      void refreshOne(c.incidentId);
      return list.map((i) => (i.id === c.incidentId ? { ...i, ...c.incident, updatedAt: c.at } : i));
    });
  }, [load, refreshOne]);
  const stream = useIncidentStream({ projectId }, onChange);

  if (!params) return null;
  const set = (k: string, v: string) => setParams((p) => (v ? p.set(k, v) : p.delete(k)));
  const shown = (incidents ?? [])
    .filter((i) => (state === 'open' ? i.state !== 'resolved' : state === 'all' || i.state === state))
    .filter((i) => !urgency || i.urgency === urgency)
    .sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || (a.urgency === b.urgency ? 0 : a.urgency === 'high' ? -1 : 1) || Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const serviceName = (id: string) => services.find((s) => s.id === id)?.name ?? id.slice(0, 8);
  const counts = { triggered: 0, acknowledged: 0 };
  for (const i of incidents ?? []) if (i.state !== 'resolved') counts[i.state] += 1;

  return (
    <>
      <div className="toolbar" role="group" aria-label="Filters">
        <label>State
          <select value={state} onChange={(e) => set('state', e.target.value === 'open' ? '' : e.target.value)}>
            {STATES.map((s) => <option key={s.id} value={s.id}>{s.label}</option>)}
          </select>
        </label>
        <label>Urgency
          <select value={urgency} onChange={(e) => set('urgency', e.target.value)}>
            <option value="">Any</option>
            <option value="high">High</option>
            <option value="low">Low</option>
          </select>
        </label>
        <label>Service
          <select value={serviceId} onChange={(e) => set('service', e.target.value)}>
            <option value="">All services</option>
            {services.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </label>
        <span className="oc-spacer" />
        <span className={`oc-live oc-live-${stream.status}`} data-testid="stream-status" role="status">
          {stream.status === 'live' ? 'Live' : stream.status === 'connecting' ? 'Connecting…' : stream.status === 'reconnecting' ? 'Reconnecting…' : 'Stopped'}
        </span>
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <p className="inc-summary" aria-live="polite">
        <span className="badge triggered">{counts.triggered} triggered</span>{' '}
        <span className="badge acknowledged">{counts.acknowledged} acknowledged</span>{' '}
        <span className="muted">{shown.length} shown</span>
      </p>
      <section className="panel" aria-busy={incidents === undefined}>
        <div className="oc-scroll" role="region" aria-label="Incidents" tabIndex={0}>
          <table className="incidents" data-testid="incidents">
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Urgency</th>
                <th scope="col">Service</th>
                <th scope="col">Title</th>
                <th scope="col">Age</th>
                <th scope="col" title="Who acknowledged it; who was paged is in the incident's timeline">Acknowledged by</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((i) => (
                <tr key={i.id} data-id={i.id} data-state={i.state} className={`urg-${i.urgency}`}>
                  <td><span className={`badge ${i.state}`}>{i.state}</span>{i.held ? <span className="badge muted"> held</span> : null}</td>
                  <td><span className={`oc-urgency ${i.urgency}`}>{i.urgency}</span></td>
                  <td>{serviceName(i.serviceId)}</td>
                  <td><a href={`/incidents/?id=${i.id}`}>{i.title}</a></td>
                  <td className="oc-nowrap"><time dateTime={i.createdAt} title={new Date(i.createdAt).toLocaleString()}>{age(Date.parse(i.createdAt), now)}</time></td>
                  <td>{i.state === 'resolved' ? (i.acknowledgedBy ? name(i.acknowledgedBy) : '—') : i.acknowledgedBy ? name(i.acknowledgedBy) : <span className="muted">not yet</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {incidents && shown.length === 0 ? <p className="oc-empty">No incidents match these filters.{state === 'open' ? ' Nothing is open.' : ''}</p> : null}
        </div>
      </section>
      <IncidentStats services={services} refresh={statsVersion} />
    </>
  );
}
