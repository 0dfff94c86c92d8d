'use client';

import { useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { Alert, bytes, count, ReadOnlyNote, TableRegion, useAction, useLoad, when } from './shared.tsx';

type Signal = 'logs' | 'spans';

/**
 * Exports to S3-compatible storage (/logs/exports): destinations (owners and admins add and delete;
 * the API checks the credentials by writing a test object), daily schedules (owners and admins) and
 * runs (owners, admins and the project's members request one; everyone who reads the project lists them).
 */
export function ExportsSection() {
  const { clients, project, can } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const admin = can('admin');
  const requester = can('member');
  const destinations = useLoad(() => api.get('/logs/exports/destinations', { params: { query: { projectId } } }).then((r) => r.destinations), [api, projectId]);
  const schedules = useLoad(() => api.get('/logs/exports/schedules', { params: { query: { projectId } } }).then((r) => r.schedules), [api, projectId]);
  const runs = useLoad(() => api.get('/logs/exports', { params: { query: { projectId, limit: 50 } } }).then((r) => r.exports), [api, projectId]);
  const action = useAction();
  const names = new Map((destinations.data ?? []).map((d) => [d.id, d.name]));

  const [dest, setDest] = useState({ name: '', endpoint: '', region: 'us-east-1', bucket: '', prefix: '', accessKeyId: '', secretAccessKey: '', forcePathStyle: false });
  const addDestination = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await action.run(async () => {
      await api.post('/logs/exports/destinations', { body: { projectId, ...dest, endpoint: dest.endpoint || undefined } });
      await destinations.reload();
    });
    if (ok) setDest({ ...dest, name: '', accessKeyId: '', secretAccessKey: '' });
  };
  const deleteDestination = (id: string, name: string) => {
    if (!window.confirm(`Delete the destination ${name}? Its schedules and runs go too; objects stay in the bucket.`)) return;
    void action.run(async () => {
      await api.delete('/logs/exports/destinations/{id}', { params: { path: { id } } });
      await Promise.all([destinations.reload(), schedules.reload(), runs.reload()]);
    });
  };

  const today = new Date().toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const [run, setRun] = useState<{ destinationId: string; signal: Signal; from: string; to: string }>({ destinationId: '', signal: 'logs', from: yesterday, to: today });
  const requestRun = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      const destinationId = run.destinationId || destinations.data?.[0]?.id || '';
      await api.post('/logs/exports', { body: { projectId, destinationId, signal: run.signal, from: new Date(`${run.from}T00:00:00Z`).toISOString(), to: new Date(`${run.to}T00:00:00Z`).toISOString() } });
      await runs.reload();
    });
  };
  const retry = (id: string) => action.run(async () => { await api.post('/logs/exports/{id}/retry', { params: { path: { id } } }); await runs.reload(); });

  const [sched, setSched] = useState<{ destinationId: string; signal: Signal; startDay: string }>({ destinationId: '', signal: 'logs', startDay: yesterday });
  const putSchedule = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      const destinationId = sched.destinationId || destinations.data?.[0]?.id || '';
      await api.put('/logs/exports/schedules', { body: { projectId, destinationId, signal: sched.signal, startDay: sched.startDay, enabled: true } });
      await schedules.reload();
    });
  };
  const toggleSchedule = (s: { destinationId: string; signal: Signal; enabled: boolean }) =>
    action.run(async () => { await api.put('/logs/exports/schedules', { body: { projectId, destinationId: s.destinationId, signal: s.signal, enabled: !s.enabled } }); await schedules.reload(); });
  const deleteSchedule = (id: string) => action.run(async () => { await api.delete('/logs/exports/schedules/{id}', { params: { path: { id } } }); await schedules.reload(); });

  const hasDestinations = (destinations.data?.length ?? 0) > 0;
  const destinationPicker = (value: string, set: (v: string) => void) => (
    <label>Destination
      <select value={value || destinations.data?.[0]?.id || ''} onChange={(e) => set(e.target.value)}>
        {(destinations.data ?? []).map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
      </select>
    </label>
  );
  const signalPicker = (value: Signal, set: (v: Signal) => void) => (
    <label>Signal
      <select value={value} onChange={(e) => set(e.target.value as Signal)}><option value="logs">logs</option><option value="spans">spans</option></select>
    </label>
  );

  return (
    <section aria-labelledby="exports-h" className="settings-section">
      <h2 id="exports-h">Exports <span className="muted">· {project!.name}</span></h2>
      <p className="hint">Logs and spans copied to S3-compatible storage (AWS S3, Supabase Storage, MinIO) as gzipped NDJSON with a BigQuery schema, on request or every day.</p>
      {!admin ? <ReadOnlyNote>Owners and admins manage destinations and schedules{requester ? '; you may request a run' : ''}.</ReadOnlyNote> : null}
      <Alert text={destinations.error ?? schedules.error ?? runs.error ?? action.error} />

      <h3>Destinations</h3>
      {destinations.data?.length === 0 ? <p className="muted">No destinations.</p> : (
        <TableRegion label="Export destinations">
          <table data-testid="export-destinations">
            <thead><tr><th scope="col">Name</th><th scope="col">Bucket</th><th scope="col">Endpoint</th><th scope="col">Access key</th><th scope="col">Verified</th>{admin ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
            <tbody>
              {(destinations.data ?? []).map((d) => (
                <tr key={d.id}>
                  <td>{d.name}</td>
                  <td><code>{d.bucket}{d.prefix ? `/${d.prefix}` : ''}</code></td>
                  <td>{d.endpoint ?? `AWS S3 (${d.region})`}</td>
                  <td><code>{d.accessKeyId}</code></td>
                  <td>{when(d.verifiedAt)}</td>
                  {admin ? <td className="settings-actions"><button type="button" className="danger" disabled={action.busy} onClick={() => deleteDestination(d.id, d.name)}>Delete<span className="sr-only"> {d.name}</span></button></td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      {admin ? (
        <details className="settings-details">
          <summary>Add a destination</summary>
          <form className="settings-grid" onSubmit={(e) => void addDestination(e)} aria-label="Add a destination">
            <label>Name<input required value={dest.name} onChange={(e) => setDest({ ...dest, name: e.target.value })} /></label>
            <label>Endpoint<input type="url" value={dest.endpoint} onChange={(e) => setDest({ ...dest, endpoint: e.target.value })} placeholder="empty for AWS S3" /></label>
            <label>Region<input required value={dest.region} onChange={(e) => setDest({ ...dest, region: e.target.value })} /></label>
            <label>Bucket<input required value={dest.bucket} onChange={(e) => setDest({ ...dest, bucket: e.target.value })} /></label>
            <label>Prefix<input value={dest.prefix} onChange={(e) => setDest({ ...dest, prefix: e.target.value })} /></label>
            <label>Access key id<input required autoComplete="off" value={dest.accessKeyId} onChange={(e) => setDest({ ...dest, accessKeyId: e.target.value })} /></label>
            <label>Secret access key<input required type="password" autoComplete="new-password" value={dest.secretAccessKey} onChange={(e) => setDest({ ...dest, secretAccessKey: e.target.value })} /></label>
            <label><input type="checkbox" checked={dest.forcePathStyle} onChange={(e) => setDest({ ...dest, forcePathStyle: e.target.checked })} />Path-style URLs (MinIO, Supabase Storage)</label>
            <div><button type="submit" disabled={action.busy}>Check and save</button></div>
          </form>
        </details>
      ) : null}

      <h3>Schedules</h3>
      {schedules.data?.length === 0 ? <p className="muted">No daily schedules.</p> : (
        <TableRegion label="Export schedules">
          <table data-testid="export-schedules">
            <thead><tr><th scope="col">Destination</th><th scope="col">Signal</th><th scope="col">Enabled</th><th scope="col">From day</th><th scope="col">Last day queued</th>{admin ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
            <tbody>
              {(schedules.data ?? []).map((s) => (
                <tr key={s.id}>
                  <td>{names.get(s.destinationId) ?? s.destinationId}</td>
                  <td>{s.signal}</td>
                  <td>{s.enabled ? 'yes' : 'paused'}</td>
                  <td>{s.startDay}</td>
                  <td>{s.lastScheduledDay ?? '—'}</td>
                  {admin ? (
                    <td className="settings-actions">
                      <button type="button" className="secondary" disabled={action.busy} onClick={() => void toggleSchedule(s)}>{s.enabled ? 'Pause' : 'Resume'}<span className="sr-only"> the {s.signal} schedule</span></button>
                      <button type="button" className="danger" disabled={action.busy} onClick={() => void deleteSchedule(s.id)}>Delete<span className="sr-only"> the {s.signal} schedule</span></button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      {admin && hasDestinations ? (
        <form className="toolbar settings-after" onSubmit={(e) => void putSchedule(e)} aria-label="Export every day">
          {destinationPicker(sched.destinationId, (v) => setSched({ ...sched, destinationId: v }))}
          {signalPicker(sched.signal, (v) => setSched({ ...sched, signal: v }))}
          <label>From day<input type="date" required value={sched.startDay} max={today} onChange={(e) => setSched({ ...sched, startDay: e.target.value })} /></label>
          <button type="submit" disabled={action.busy}>Export every day</button>
        </form>
      ) : null}

      <h3>Runs</h3>
      {requester && hasDestinations ? (
        <form className="toolbar" onSubmit={(e) => void requestRun(e)} aria-label="Request an export">
          {destinationPicker(run.destinationId, (v) => setRun({ ...run, destinationId: v }))}
          {signalPicker(run.signal, (v) => setRun({ ...run, signal: v }))}
          <label>From<input type="date" required value={run.from} onChange={(e) => setRun({ ...run, from: e.target.value })} /></label>
          <label>To (exclusive)<input type="date" required value={run.to} onChange={(e) => setRun({ ...run, to: e.target.value })} /></label>
          <button type="submit" disabled={action.busy}>Export now</button>
        </form>
      ) : null}
      {runs.data?.length === 0 ? <p className="muted">No export runs.</p> : (
        <TableRegion label="Export runs">
          <table data-testid="export-runs">
            <thead><tr><th scope="col">Requested</th><th scope="col">Destination</th><th scope="col">Signal</th><th scope="col">Range</th><th scope="col">Status</th><th scope="col">Rows</th><th scope="col">Size</th><th scope="col">Files</th>{requester ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
            <tbody>
              {(runs.data ?? []).map((r) => (
                <tr key={r.id}>
                  <td>{when(r.createdAt)}{r.scheduleId ? <span className="muted"> (daily)</span> : null}</td>
                  <td>{names.get(r.destinationId) ?? r.destinationId}</td>
                  <td>{r.signal}</td>
                  <td>{when(r.from)} → {when(r.to)}</td>
                  <td><span className={`badge run-${r.status}`}>{r.status}</span>{r.error ? <div className="error settings-small">{r.error}</div> : null}</td>
                  <td className="num">{count(r.rows)}</td>
                  <td className="num">{bytes(r.bytes)}</td>
                  <td className="num">{r.files.length}</td>
                  {requester ? <td className="settings-actions">{r.status === 'failed' ? <button type="button" className="secondary" disabled={action.busy} onClick={() => void retry(r.id)}>Retry</button> : null}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </section>
  );
}
