'use client';

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import { age, personName, usePeople } from '../oncall/people.ts';
import { Timeline } from './timeline.tsx';
import type { EscalationPolicy, Incident, OncallService, Schedule, TimelineEntry } from './types.ts';
import { useIncidentStream } from './use-incident-stream.ts';

type Action = 'acknowledge' | 'resolve' | 'unacknowledge';
const SNOOZES = [15, 30, 60, 120, 240, 480, 1440];

/**
 * One incident: what it is, its state, the actions its state allows (for members who may change the
 * project: viewers see them disabled, as the API would refuse them), and its timeline, kept current
 * by the incidents stream filtered to it.
 */
export function IncidentView({ id }: { id: string }) {
  const { clients, project, organization, can } = useApp();
  const api = clients.api;
  const { people, name } = usePeople();
  const [incident, setIncident] = useState<Incident>();
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const [service, setService] = useState<OncallService>();
  const [policy, setPolicy] = useState<EscalationPolicy>();
  const [schedules, setSchedules] = useState<Schedule[]>([]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string>();
  const mayAct = can('member');

  const load = useCallback(async () => {
    try {
      const r = await api.get('/oncall/incidents/{id}', { params: { path: { id } } });
      setIncident(r.incident);
      setTimeline(r.timeline);
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  }, [api, id]);
  useEffect(() => { void load(); }, [load]);
  const stream = useIncidentStream({ projectId: project!.id, incidentId: id }, () => void load());

  const serviceId = incident?.serviceId;
  const policyId = incident?.escalationPolicyId;
  useEffect(() => {
    if (!serviceId) return;
    api.get('/oncall/services/{id}', { params: { path: { id: serviceId } } }).then((r) => setService(r.service)).catch(() => setService(undefined));
  }, [api, serviceId]);
  useEffect(() => {
    if (!policyId) return;
    api.get('/oncall/escalation-policies/{id}', { params: { path: { id: policyId } } }).then((r) => setPolicy(r.escalationPolicy)).catch(() => setPolicy(undefined));
  }, [api, policyId]);
  useEffect(() => {
    if (!organization) return;
    api.get('/oncall/schedules', { params: { query: { organizationId: organization.id } } }).then((r) => setSchedules(r.schedules)).catch(() => setSchedules([]));
  }, [api, organization]);

  const run = async (label: string, call: () => Promise<{ incident: Incident }>) => {
    setBusy(true);
    setDone(undefined);
    try {
      const r = await call();
      setIncident(r.incident);
      setError(undefined);
      setDone(label);
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const act = (a: Action) => {
    const path = { params: { path: { id } } };
    if (a === 'acknowledge') return run('Acknowledged.', () => api.post('/oncall/incidents/{id}/acknowledge', path));
    if (a === 'resolve') return run('Resolved.', () => api.post('/oncall/incidents/{id}/resolve', path));
    return run('Unacknowledged.', () => api.post('/oncall/incidents/{id}/unacknowledge', path));
  };

  const [snooze, setSnooze] = useState('60');
  const [note, setNote] = useState('');
  const [reassignTo, setReassignTo] = useState('');
  const targetName = (t: { type: string; id: string }) =>
    t.type === 'user' ? personName(people, t.id) : t.type === 'schedule' ? `schedule ${schedules.find((s) => s.id === t.id)?.name ?? t.id.slice(0, 8)}` : `contact point ${t.id.slice(0, 8)}`;

  if (!incident) {
    return (
      <>
        <p><a href="/incidents/">← All incidents</a></p>
        {error ? <p role="alert" className="error">{error}</p> : <p aria-busy="true">Loading the incident…</p>}
      </>
    );
  }
  const open = incident.state !== 'resolved';
  const onNote = (e: FormEvent) => {
    e.preventDefault();
    void run('Note added.', () => api.post('/oncall/incidents/{id}/notes', { params: { path: { id } }, body: { text: note } })).then(() => setNote(''));
  };
  const onReassign = (e: FormEvent) => {
    e.preventDefault();
    const [type, targetId] = reassignTo.split(':') as ['user' | 'schedule', string];
    if (!targetId) return setError('Choose whom to reassign the incident to.');
    void run('Reassigned.', () => api.post('/oncall/incidents/{id}/reassign', { params: { path: { id } }, body: { targets: [{ type, id: targetId }] } }));
  };
  const disabledWhy = mayAct ? undefined : 'Viewers cannot act on incidents';

  return (
    <>
      <p><a href="/incidents/">← All incidents</a></p>
      <section className="panel inc-detail" aria-labelledby="inc-title">
        <div className="inc-head">
          <h2 id="inc-title">{incident.title}</h2>
          <span className={`oc-live oc-live-${stream.status}`} role="status">{stream.status === 'live' ? 'Live' : 'Connecting…'}</span>
        </div>
        <dl className="oc-facts">
          <div><dt>State</dt><dd><span className={`badge ${incident.state}`} data-testid="incident-state">{incident.state}</span>{incident.held ? ' (held: maintenance)' : ''}</dd></div>
          <div><dt>Urgency</dt><dd><span className={`oc-urgency ${incident.urgency}`}>{incident.urgency}</span></dd></div>
          <div><dt>Service</dt><dd>{service?.name ?? incident.serviceId.slice(0, 8)}</dd></div>
          <div><dt>Escalation policy</dt><dd>{policy?.name ?? (incident.escalationPolicyId ? incident.escalationPolicyId.slice(0, 8) : 'none: nobody is paged')}</dd></div>
          <div><dt>Opened</dt><dd><time dateTime={incident.createdAt}>{new Date(incident.createdAt).toLocaleString()}</time> ({age(Date.parse(incident.createdAt))} ago)</dd></div>
          {incident.severity ? <div><dt>Severity</dt><dd>{incident.severity}</dd></div> : null}
          {incident.acknowledgedAt ? <div><dt>Acknowledged</dt><dd>by {name(incident.acknowledgedBy)} at {new Date(incident.acknowledgedAt).toLocaleTimeString()}</dd></div> : null}
          {incident.snoozedUntil ? <div><dt>Snoozed until</dt><dd>{new Date(incident.snoozedUntil).toLocaleString()}</dd></div> : null}
          {incident.resolvedAt ? <div><dt>Resolved</dt><dd>by {incident.resolvedBy ? name(incident.resolvedBy) : 'the system (automatically)'} at {new Date(incident.resolvedAt).toLocaleString()}</dd></div> : null}
          {incident.nextWakeAt && open ? <div><dt>Next escalation step</dt><dd>{new Date(incident.nextWakeAt).toLocaleTimeString()}</dd></div> : null}
          {incident.dedupKey ? <div><dt>Dedup key</dt><dd><code>{incident.dedupKey}</code></dd></div> : null}
          {incident.mergedInto ? <div><dt>Merged into</dt><dd><a href={`/incidents/?id=${incident.mergedInto}`}>{incident.mergedInto.slice(0, 8)}</a></dd></div> : null}
        </dl>
        <div className="oc-actions" role="group" aria-label="Incident actions">
          {incident.state === 'triggered' ? <button type="button" disabled={busy || !mayAct} title={disabledWhy} onClick={() => void act('acknowledge')}>Acknowledge</button> : null}
          {incident.state === 'acknowledged' ? <button type="button" className="secondary" disabled={busy || !mayAct} title={disabledWhy} onClick={() => void act('unacknowledge')}>Unacknowledge</button> : null}
          {open ? <button type="button" className="oc-resolve" disabled={busy || !mayAct} title={disabledWhy} onClick={() => void act('resolve')}>Resolve</button> : null}
          {open ? (
            <span className="oc-inline-form">
              <label>Snooze for
                <select value={snooze} onChange={(e) => setSnooze(e.target.value)} disabled={!mayAct}>
                  {SNOOZES.map((m) => <option key={m} value={m}>{m < 60 ? `${m} min` : `${m / 60} h`}</option>)}
                </select>
              </label>
              <button type="button" className="secondary" disabled={busy || !mayAct} title={disabledWhy} onClick={() => void run('Snoozed.', () => api.post('/oncall/incidents/{id}/snooze', { params: { path: { id } }, body: { minutes: Number(snooze) } }))}>Snooze</button>
            </span>
          ) : null}
        </div>
        {open ? (
          <form className="oc-inline-form" onSubmit={onReassign} aria-label="Reassign">
            <label>Reassign to
              <select value={reassignTo} onChange={(e) => setReassignTo(e.target.value)} disabled={!mayAct}>
                <option value="">Choose a person or schedule…</option>
                <optgroup label="People">
                  {people.map((p) => <option key={p.userId} value={`user:${p.userId}`}>{p.displayName || p.email || p.userId}</option>)}
                </optgroup>
                <optgroup label="Schedules (whoever is on call)">
                  {schedules.map((s) => <option key={s.id} value={`schedule:${s.id}`}>{s.name}</option>)}
                </optgroup>
              </select>
            </label>
            <button type="submit" className="secondary" disabled={busy || !mayAct || !reassignTo} title={disabledWhy}>Reassign</button>
            <span className="hint">They take level 1's place and are paged at once.</span>
          </form>
        ) : null}
        <form className="oc-note-form" onSubmit={onNote}>
          <label htmlFor="inc-note">Add a note</label>
          <textarea id="inc-note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} disabled={!mayAct} placeholder={mayAct ? 'What you found, what you did…' : 'Viewers cannot add notes'} />
          <button type="submit" disabled={busy || !mayAct || note.trim() === ''}>Add note</button>
        </form>
        {!mayAct ? <p className="hint">Your role (viewer) may read incidents but not act on them.</p> : null}
        {error ? <p role="alert" className="error">{error}</p> : null}
        <p role="status" className="oc-done">{done ?? ''}</p>
        {Object.keys(incident.details).length ? (
          <details>
            <summary>Event details</summary>
            <pre className="mono oc-details-json">{JSON.stringify(incident.details, null, 2)}</pre>
          </details>
        ) : null}
      </section>
      <Timeline entries={timeline} name={name} targetName={targetName} />
    </>
  );
}
