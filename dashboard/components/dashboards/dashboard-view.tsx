'use client';

import { useEffect, useMemo, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { RangePicker } from '../range-picker.tsx';
import { errorText, QueryError } from '../../lib/api.ts';
import { PRESETS, resolveRange, type TimeRange } from '../../lib/time.ts';
import { PanelView } from './panel-view.tsx';
import { nextRow, timePoint, type Dashboard, type Panel } from './types.ts';

const AGGREGATIONS = ['avg', 'sum', 'min', 'max', 'count', 'p50', 'p90', 'p95', 'p99', 'rate'] as const;

/** The dashboard's own range as a preset when it is one (`now-6h` .. `now`), else absolute. */
function initialRange(d: Dashboard): TimeRange {
  const preset = PRESETS.find((p) => d.time.to === 'now' && d.time.from === `now-${p.id}`);
  return preset ? { preset: preset.id } : { from: timePoint(d.time.from), to: timePoint(d.time.to) };
}

/**
 * One saved dashboard: its panels on a 24-column grid over one time range (drag across a chart to
 * zoom them all), edited in place by those who may (title, sharing, panels added, resized, moved or
 * removed; saved with the version read, so a concurrent change is a conflict, not a loss), exported
 * as JSON.
 */
export function DashboardView({ id, onClose }: { id: string; onClose(): void }) {
  const { clients } = useApp();
  const api = clients.api;
  const [saved, setSaved] = useState<Dashboard>();
  const [draft, setDraft] = useState<Dashboard>();
  const [editing, setEditing] = useState(false);
  const [range, setRange] = useState<TimeRange>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [tick, setTick] = useState(0);

  const load = () =>
    api.get('/metrics/dashboards/{id}', { params: { path: { id } } })
      .then(({ dashboard }) => {
        setSaved(dashboard);
        setDraft(dashboard);
        setRange((r) => r ?? initialRange(dashboard));
        setError(undefined);
      })
      .catch((err) => setError(errorText(err)));
  useEffect(() => { void load(); }, [id]); // eslint-disable-line react-hooks/exhaustive-deps

  const { from, to } = useMemo(() => resolveRange(range ?? { preset: '6h' }), [range, tick]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    const s = saved?.time.refreshSeconds;
    if (!s) return;
    const t = setInterval(() => setTick((x) => x + 1), s * 1000);
    return () => clearInterval(t);
  }, [saved?.time.refreshSeconds]);

  if (error && !draft) return <p role="alert" className="error">{error}</p>;
  if (!draft || !saved || !range) return <p aria-busy="true">Loading the dashboard…</p>;
  const panels = editing ? draft.panels : saved.panels;
  const change = (fn: (d: Dashboard) => Dashboard) => setDraft((d) => (d ? fn(d) : d));
  const setPanel = (i: number, p: Panel) => change((d) => ({ ...d, panels: d.panels.map((x, j) => (j === i ? p : x)) }));

  const save = async () => {
    try {
      const { dashboard } = await api.put('/metrics/dashboards/{id}', {
        params: { path: { id } },
        body: { version: saved.version, visibility: draft.visibility, title: draft.title, description: draft.description, panels: draft.panels, variables: draft.variables, time: draft.time } as never,
      });
      setSaved(dashboard);
      setDraft(dashboard);
      setEditing(false);
      setNotice('Saved.');
      setError(undefined);
    } catch (err) {
      setError(err instanceof QueryError && err.status === 409 ? 'Someone else changed this dashboard since you opened it: reload it, then make your change again.' : errorText(err));
    }
  };
  const remove = async () => {
    if (!window.confirm(`Delete the dashboard "${saved.title}"?`)) return;
    try {
      await api.delete('/metrics/dashboards/{id}', { params: { path: { id } } });
      onClose();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const exportJson = async () => {
    try {
      const doc = await api.get('/metrics/dashboards/{id}/export', { params: { path: { id } } });
      const url = URL.createObjectURL(new Blob([`${JSON.stringify(doc, null, 2)}\n`], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${saved.title.replace(/[^\w.-]+/g, '-').toLowerCase() || 'dashboard'}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <>
      <div className="toolbar">
        <button type="button" className="secondary" onClick={onClose}>← All dashboards</button>
        {editing ? (
          <label>Title <input value={draft.title} maxLength={200} onChange={(e) => change((d) => ({ ...d, title: e.target.value }))} /></label>
        ) : (
          <h2 style={{ margin: 0 }} data-testid="dashboard-title">{saved.title}</h2>
        )}
        <RangePicker value={range} onChange={setRange} />
        <button type="button" className="secondary" onClick={() => setTick((x) => x + 1)}>Refresh</button>
        <button type="button" className="secondary" onClick={() => void exportJson()}>Export JSON</button>
        {saved.canEdit && !editing ? <button type="button" onClick={() => { setDraft(saved); setEditing(true); setNotice(undefined); }}>Edit</button> : null}
        {editing ? (
          <>
            <label>Visibility
              <select value={draft.visibility} onChange={(e) => change((d) => ({ ...d, visibility: e.target.value as Dashboard['visibility'] }))}>
                <option value="organization">Shared with the organization</option>
                <option value="private">Private (only me)</option>
              </select>
            </label>
            <button type="button" onClick={() => void save()}>Save</button>
            <button type="button" className="secondary" onClick={() => { setDraft(saved); setEditing(false); setError(undefined); }}>Cancel</button>
            <button type="button" className="danger" onClick={() => void remove()}>Delete dashboard</button>
          </>
        ) : null}
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
      {notice ? <p role="status" className="muted">{notice}</p> : null}
      {saved.description && !editing ? <p className="muted">{saved.description}</p> : null}
      {panels.length === 0 ? <p className="muted">No panels yet.{saved.canEdit ? ' Edit the dashboard to add one, or use “Add to dashboard” in the metrics explorer.' : ''}</p> : null}
      <div className="dash-grid" data-testid="dashboard-grid">
        {panels.map((p, i) => (
          <section key={p.id ?? i} className="panel dash-panel" aria-label={p.title} style={{ gridColumn: `${p.gridPos.x + 1} / span ${p.gridPos.w}`, gridRow: `${p.gridPos.y + 1} / span ${p.gridPos.h}` }}>
            {editing ? (
              <PanelEditor panel={p} onChange={(x) => setPanel(i, x)} onRemove={() => change((d) => ({ ...d, panels: d.panels.filter((_, j) => j !== i) }))} />
            ) : (
              <h3 className="panel-title">{p.title}</h3>
            )}
            <PanelView panel={p} from={from} to={to} onZoom={(f, t) => setRange({ from: f, to: t })} />
          </section>
        ))}
      </div>
      {editing ? <AddPanel onAdd={(p) => change((d) => ({ ...d, panels: [...d.panels, { ...p, gridPos: { ...p.gridPos, y: nextRow(d.panels) } } as Panel] }))} /> : null}
    </>
  );
}

function PanelEditor({ panel, onChange, onRemove }: { panel: Panel; onChange(p: Panel): void; onRemove(): void }) {
  const g = panel.gridPos;
  const num = (k: 'x' | 'y' | 'w' | 'h', max: number) => (
    <label>{k}<input type="number" min={k === 'w' || k === 'h' ? 1 : 0} max={max} value={g[k]} style={{ width: 56 }} onChange={(e) => onChange({ ...panel, gridPos: { ...g, [k]: Number(e.target.value) } } as Panel)} /></label>
  );
  return (
    <div className="panel-editor" role="group" aria-label={`Edit panel ${panel.title}`}>
      <label>Panel title <input value={panel.title} maxLength={200} onChange={(e) => onChange({ ...panel, title: e.target.value } as Panel)} /></label>
      {num('x', 23)}{num('y', 10_000)}{num('w', 24)}{num('h', 100)}
      <button type="button" className="danger" onClick={onRemove}>Remove panel</button>
    </div>
  );
}

/** A new timeseries panel (a metric, an aggregation, tags to group by) or a logs panel (a search). */
function AddPanel({ onAdd }: { onAdd(p: Omit<Panel, 'gridPos'> & { gridPos: Panel['gridPos'] }): void }) {
  const { clients, project } = useApp();
  const [kind, setKind] = useState<'timeseries' | 'logs'>('timeseries');
  const [names, setNames] = useState<string[]>([]);
  const [metric, setMetric] = useState('');
  const [aggregation, setAggregation] = useState<(typeof AGGREGATIONS)[number]>('avg');
  const [groupBy, setGroupBy] = useState('');
  const [q, setQ] = useState('');
  const [title, setTitle] = useState('');
  useEffect(() => {
    clients.api.get('/metrics/names', { params: { query: { projectId: project!.id, limit: 1000 } } }).then(({ metrics }) => {
      setNames(metrics.map((m) => m.name));
      setMetric((m) => m || metrics[0]?.name || '');
    }).catch(() => setNames([]));
  }, [clients, project]);
  const add = () => {
    const gridPos = { x: 0, y: 0, w: 12, h: kind === 'logs' ? 8 : 9 };
    if (kind === 'timeseries') {
      const by = groupBy.split(',').map((s) => s.trim()).filter(Boolean);
      onAdd({ kind, title: title || `${metric} ${aggregation}${by.length ? ` by ${by.join(', ')}` : ''}`, gridPos, queries: [{ metric, aggregation, groupBy: by, filters: [] }], stacked: false } as never);
    } else {
      onAdd({ kind, title: title || (q ? `Logs: ${q}` : 'Logs'), gridPos, query: q ? { q } : {}, limit: 50 } as never);
    }
    setTitle('');
  };
  return (
    <fieldset className="panel">
      <legend>Add a panel</legend>
      <div className="toolbar">
        <label>Kind
          <select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value as 'timeseries' | 'logs')}>
            <option value="timeseries">Metric chart</option>
            <option value="logs">Logs</option>
          </select>
        </label>
        <label>Panel title <input value={title} onChange={(e) => setTitle(e.target.value)} placeholder="(from the query)" /></label>
        {kind === 'timeseries' ? (
          <>
            <label>Metric <select aria-label="Metric" value={metric} onChange={(e) => setMetric(e.target.value)}>{names.map((n) => <option key={n} value={n}>{n}</option>)}</select></label>
            <label>Aggregation <select aria-label="Aggregation" value={aggregation} onChange={(e) => setAggregation(e.target.value as (typeof AGGREGATIONS)[number])}>{AGGREGATIONS.map((a) => <option key={a}>{a}</option>)}</select></label>
            <label>Group by (tag keys) <input value={groupBy} onChange={(e) => setGroupBy(e.target.value)} placeholder="host, service" /></label>
          </>
        ) : (
          <label>Log search <input value={q} onChange={(e) => setQ(e.target.value)} placeholder='level:error "timeout"' /></label>
        )}
        <button type="button" onClick={add} disabled={kind === 'timeseries' && !metric}>Add panel</button>
      </div>
    </fieldset>
  );
}
