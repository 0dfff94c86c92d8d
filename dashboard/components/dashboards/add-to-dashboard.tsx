'use client';

import { useEffect, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import { nextRow, type DashboardSummary, type MetricPanelQuery } from './types.ts';

/** The metrics explorer's "Add to dashboard": the current query as a new chart at the bottom of a saved dashboard. */
export function AddToDashboard({ title, query }: { title: string; query: MetricPanelQuery }) {
  const { clients, project } = useApp();
  const api = clients.api;
  const [list, setList] = useState<DashboardSummary[]>([]);
  const [target, setTarget] = useState('');
  const [status, setStatus] = useState<string>();
  useEffect(() => {
    api.get('/metrics/dashboards', { params: { query: { projectId: project!.id } } })
      .then(({ dashboards }) => {
        const editable = dashboards.filter((d) => d.canEdit);
        setList(editable);
        setTarget((t) => t || editable[0]?.id || '');
      })
      .catch(() => setList([]));
  }, [api, project]);
  if (list.length === 0) return null;
  const add = async () => {
    try {
      const { dashboard: d } = await api.get('/metrics/dashboards/{id}', { params: { path: { id: target } } });
      const panels = [...d.panels, { kind: 'timeseries', title, gridPos: { x: 0, y: nextRow(d.panels), w: 12, h: 9 }, queries: [query], stacked: false }];
      await api.put('/metrics/dashboards/{id}', { params: { path: { id: target } }, body: { version: d.version, visibility: d.visibility, title: d.title, description: d.description, panels, variables: d.variables, time: d.time } as never });
      setStatus(`Added to “${d.title}”.`);
    } catch (err) {
      setStatus(errorText(err));
    }
  };
  return (
    <span className="add-to-dashboard">
      <label>Dashboard
        <select value={target} onChange={(e) => setTarget(e.target.value)}>
          {list.map((d) => <option key={d.id} value={d.id}>{d.title}</option>)}
        </select>
      </label>{' '}
      <button type="button" className="secondary" onClick={() => void add()}>Add to dashboard</button>{' '}
      {status ? <span role="status">{status} {status.startsWith('Added') ? <a href={`/dashboards/?id=${target}`}>Open it</a> : null}</span> : null}
    </span>
  );
}
