'use client';

import { useEffect, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { TimeSeriesChart, formatValue, type ChartSeries } from '../timeseries-chart.tsx';
import { errorText } from '../../lib/api.ts';
import { seriesLabel } from '../../lib/metrics.ts';
import { formatTime, iso } from '../../lib/time.ts';
import type { Panel } from './types.ts';

/**
 * One panel of a saved dashboard, drawn with the API that its query belongs to: timeseries and stat
 * panels with POST /metrics/query, logs panels with GET /logs/search, traces panels with GET
 * /logs/traces, over the dashboard's time range.
 */
export function PanelView({ panel, from, to, onZoom }: { panel: Panel; from: number; to: number; onZoom(from: number, to: number): void }) {
  const { clients, project } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const [series, setSeries] = useState<ChartSeries[]>([]);
  const [rows, setRows] = useState<Array<Record<string, unknown>>>([]);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState(false);
  const key = JSON.stringify(panel);

  useEffect(() => {
    let live = true;
    setDone(false);
    const run = async () => {
      if (panel.kind === 'timeseries' || panel.kind === 'stat') {
        const queries = panel.kind === 'timeseries' ? panel.queries : [panel.query];
        const { results } = await api.post('/metrics/query', {
          body: { projectId, queries: queries.map((q, i) => ({ ...q, id: q.id ?? String(i), from: iso(from), to: iso(to), maxPoints: q.maxPoints ?? 1000 })) },
        });
        if (!live) return;
        setSeries(results.flatMap((r, i) => r.series.map((s) => ({ label: seriesLabel(queries[i]!.metric, s.tags), points: s.points as Array<[number, number | null]> }))));
      } else if (panel.kind === 'logs') {
        const q = panel.query;
        const { logs } = await api.get('/logs/search', {
          params: { query: { projectId, from: iso(from), to: iso(to), limit: Math.min(panel.limit, 200), ...(q.q ? { q: q.q } : {}), ...(q.level ? { level: q.level.join(',') } : {}), ...(q.minLevel ? { minLevel: q.minLevel } : {}), ...(q.service ? { service: q.service.join(',') } : {}), ...(q.has ? { has: q.has.join(',') } : {}) } as never },
        });
        if (live) setRows(logs as Array<Record<string, unknown>>);
      } else {
        const q = panel.query;
        const { traces } = await api.get('/logs/traces', { params: { query: { projectId, from: iso(from), to: iso(to), limit: panel.limit, ...q } as never } });
        if (live) setRows(traces as Array<Record<string, unknown>>);
      }
      if (live) setError(undefined);
    };
    run().catch((err) => live && setError(errorText(err))).finally(() => live && setDone(true));
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, projectId, key, from, to]);

  return (
    <div data-testid="panel-body" data-done={done ? 'true' : 'false'}>
      {error ? <p role="alert" className="error">{error}</p> : null}
      {panel.kind === 'timeseries' ? <TimeSeriesChart label={panel.title} series={series} height={Math.max(120, panel.gridPos.h * 30 - 90)} onZoom={onZoom} /> : null}
      {panel.kind === 'stat' ? <Stat series={series} reducer={panel.reducer} unit={panel.unit} thresholds={panel.thresholds} /> : null}
      {panel.kind === 'logs' ? (
        <ul className="panel-list">
          {rows.map((l) => (
            <li key={String(l.id)}><span className={`badge ${String(l.level)}`}>{String(l.level)}</span> <span className="muted mono">{formatTime(Date.parse(String(l.time ?? l.timestamp)))}</span> {String(l.message)}</li>
          ))}
          {done && rows.length === 0 ? <li className="muted">No logs in this range.</li> : null}
        </ul>
      ) : null}
      {panel.kind === 'traces' ? (
        <table>
          <thead><tr><th scope="col">Trace</th><th scope="col">Service</th><th scope="col">Duration</th></tr></thead>
          <tbody>
            {rows.map((t) => (
              <tr key={String(t.traceId)}><td><a href={`/traces/?id=${String(t.traceId)}`}>{root(t)?.name ?? String(t.traceId)}</a></td><td>{root(t)?.service ?? ''}</td><td>{formatValue(Number(t.durationMs ?? 0))} ms</td></tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

const root = (t: Record<string, unknown>) => t.root as { name: string; service: string } | null | undefined;

function Stat({ series, reducer, unit, thresholds }: { series: ChartSeries[]; reducer: string; unit?: string; thresholds: Array<{ value: number; color: string }> }) {
  const values = (series[0]?.points ?? []).map(([, v]) => v).filter((v): v is number => v !== null);
  const value = values.length === 0 ? null : reducer === 'last' ? values.at(-1)! : reducer === 'min' ? Math.min(...values) : reducer === 'max' ? Math.max(...values) : reducer === 'sum' ? values.reduce((a, b) => a + b, 0) : values.reduce((a, b) => a + b, 0) / values.length;
  const band = value === null ? undefined : [...thresholds].sort((a, b) => a.value - b.value).filter((t) => value >= t.value).at(-1);
  return (
    <p className="stat" data-testid="stat-value" data-value={value ?? ''}>
      {value === null ? '—' : formatValue(value)}{unit ? <span className="muted"> {unit}</span> : null}
      {band ? <span className={`stat-band ${band.color}`}> ({band.color})</span> : null}
    </p>
  );
}
