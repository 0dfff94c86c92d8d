'use client';

import { useEffect, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import { formatTime } from '../../lib/time.ts';
import type { DashboardSummary } from './types.ts';

/** The project's dashboards; create one, or import an exported one (JSON). */
export function DashboardList({ onOpen }: { onOpen(id: string): void }) {
  const { clients, project, can } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const [list, setList] = useState<DashboardSummary[]>();
  const [error, setError] = useState<string>();
  const [title, setTitle] = useState('');
  const [visibility, setVisibility] = useState<'organization' | 'private'>('organization');
  const [importText, setImportText] = useState('');
  const mayCreate = can('member');

  const load = () => api.get('/metrics/dashboards', { params: { query: { projectId } } }).then(({ dashboards }) => setList(dashboards)).catch((err) => setError(errorText(err)));
  useEffect(() => { void load(); }, [projectId]); // eslint-disable-line react-hooks/exhaustive-deps

  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const { dashboard } = await api.post('/metrics/dashboards', { body: { projectId, title, visibility } as never });
      onOpen(dashboard.id);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const importJson = async (e: FormEvent) => {
    e.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(importText);
    } catch (err) {
      return setError(`The import is not JSON: ${(err as Error).message}`);
    }
    try {
      const { dashboard } = await api.post('/metrics/dashboards/import', { body: { projectId, visibility, dashboard: parsed } as never });
      onOpen(dashboard.id);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const readFile = async (file: File | undefined) => file && setImportText(await file.text());

  return (
    <>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <table data-testid="dashboard-list">
        <thead><tr><th scope="col">Dashboard</th><th scope="col">Shared</th><th scope="col">Panels</th><th scope="col">Updated</th></tr></thead>
        <tbody>
          {(list ?? []).map((d) => (
            <tr key={d.id}>
              <td><a href={`/dashboards/?id=${d.id}`} onClick={(e) => { e.preventDefault(); onOpen(d.id); }}>{d.title}</a>{d.description ? <div className="muted">{d.description}</div> : null}</td>
              <td>{d.visibility === 'organization' ? 'with the organization' : 'private'}</td>
              <td>{d.panelCount}</td>
              <td>{formatTime(Date.parse(d.updatedAt))}</td>
            </tr>
          ))}
          {list && list.length === 0 ? <tr><td colSpan={4} className="muted">No dashboards yet{mayCreate ? ': create one below, or add a chart from the metrics explorer.' : '.'}</td></tr> : null}
        </tbody>
      </table>
      {mayCreate ? (
        <div className="split">
          <form className="panel" onSubmit={(e) => void create(e)} aria-labelledby="new-dashboard">
            <h2 id="new-dashboard">New dashboard</h2>
            <label>Title <input required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} /></label>{' '}
            <label>Visibility
              <select value={visibility} onChange={(e) => setVisibility(e.target.value as 'organization' | 'private')}>
                <option value="organization">Shared with the organization</option>
                <option value="private">Private (only me)</option>
              </select>
            </label>{' '}
            <button type="submit">Create</button>
          </form>
          <form className="panel" onSubmit={(e) => void importJson(e)} aria-labelledby="import-dashboard">
            <h2 id="import-dashboard">Import a dashboard</h2>
            <label>JSON file <input type="file" accept="application/json,.json" onChange={(e) => void readFile(e.target.files?.[0])} /></label>
            <label className="block">or paste the export
              <textarea rows={4} value={importText} onChange={(e) => setImportText(e.target.value)} aria-label="Dashboard JSON" />
            </label>
            <button type="submit" disabled={!importText.trim()}>Import</button>
          </form>
        </div>
      ) : null}
    </>
  );
}
