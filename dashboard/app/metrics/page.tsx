'use client';

import { useEffect, useMemo, useState } from 'react';
import { useApp } from '../../components/app-context.tsx';
import { Console } from '../../components/console.tsx';
import { RangePicker } from '../../components/range-picker.tsx';
import { AddToDashboard } from '../../components/dashboards/add-to-dashboard.tsx';
import { TimeSeriesChart, type ChartSeries } from '../../components/timeseries-chart.tsx';
import { errorText } from '../../lib/api.ts';
import { seriesLabel } from '../../lib/metrics.ts';
import { iso, rangeFromParams, rangeToParams, resolveRange, type TimeRange } from '../../lib/time.ts';
import { useUrlState } from '../../lib/use-url-state.ts';

const AGGREGATIONS = ['avg', 'sum', 'min', 'max', 'count', 'p50', 'p90', 'p95', 'p99', 'rate'] as const;

export default function MetricsPage() {
  return <Console title="Metrics explorer"><Explorer /></Console>;
}

interface MetricName { name: string; types: string[]; unit: string | null; series: number }

function Explorer() {
  const { clients, project, can } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const [params, setParams] = useUrlState();
  const [names, setNames] = useState<MetricName[]>([]);
  const [tagKeys, setTagKeys] = useState<Array<{ key: string; values: number }>>([]);
  const [series, setSeries] = useState<ChartSeries[]>([]);
  const [meta, setMeta] = useState<{ step: number; resolution: string; truncated: boolean }>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  /** The query the chart now shows (`data-drawn`: what bench:dashboard waits for). */
  const [drawn, setDrawn] = useState('');

  const metric = params?.get('metric') ?? '';
  const aggregation = params?.get('agg') ?? 'avg';
  const groupBy = useMemo(() => (params?.get('by') ?? '').split(',').filter(Boolean), [params]);
  const filterKey = params?.get('fk') ?? '';
  const filterValue = params?.get('fv') ?? '';
  const range: TimeRange = params ? rangeFromParams(params) : { preset: '1h' };
  const rangeKey = JSON.stringify(range);

  useEffect(() => {
    let live = true;
    api.get('/metrics/names', { params: { query: { projectId, limit: 1000 } } })
      .then(({ metrics }) => {
        if (!live) return;
        setNames(metrics as MetricName[]);
        if (params && !params.get('metric') && metrics[0]) setParams((p) => p.set('metric', metrics[0]!.name));
      })
      .catch((err) => live && setError(errorText(err)));
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, projectId, params === undefined]);

  useEffect(() => {
    if (!metric) return;
    let live = true;
    api.get('/metrics/tags', { params: { query: { projectId, metric } } })
      .then(({ tags }) => live && setTagKeys(tags))
      .catch((err) => live && setError(errorText(err)));
    return () => { live = false; };
  }, [api, projectId, metric]);

  useEffect(() => {
    if (!metric) return;
    let live = true;
    const { from, to } = resolveRange(range);
    const key = [metric, aggregation, groupBy.join(','), `${filterKey}=${filterValue}`, rangeKey].join('|');
    setLoading(true);
    api.post('/metrics/query', {
      body: {
        projectId,
        queries: [{
          id: 'a', metric, aggregation: aggregation as (typeof AGGREGATIONS)[number], groupBy,
          filters: filterKey && filterValue ? [{ key: filterKey, op: '=', value: filterValue }] : [],
          from: iso(from), to: iso(to), maxPoints: 1000,
        }],
      },
    })
      .then(({ results }) => {
        if (!live) return;
        const r = results[0]!;
        setMeta({ step: r.step, resolution: r.resolution, truncated: r.truncated });
        setSeries(r.series.map((s) => ({ label: seriesLabel(metric, s.tags), points: s.points as Array<[number, number | null]> })));
        setDrawn(key);
        setError(undefined);
      })
      .catch((err) => live && setError(errorText(err)))
      .finally(() => live && setLoading(false));
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, projectId, metric, aggregation, groupBy.join(','), filterKey, filterValue, rangeKey]);

  const [tagValues, setTagValues] = useState<string[]>([]);
  useEffect(() => {
    if (!metric || !filterKey) return setTagValues([]);
    api.get('/metrics/tags/values', { params: { query: { projectId, metric, key: filterKey, limit: 200 } } })
      .then(({ values }) => setTagValues(values))
      .catch((err) => setError(errorText(err)));
  }, [api, projectId, metric, filterKey]);

  if (!params) return null;
  const set = (k: string, v: string) => setParams((p) => (v ? p.set(k, v) : p.delete(k)));
  return (
    <>
      <div className="toolbar" role="group" aria-label="Query">
        <label>Metric
          <select value={metric} onChange={(e) => setParams((p) => { p.set('metric', e.target.value); p.delete('by'); p.delete('fk'); p.delete('fv'); })}>
            {names.length === 0 ? <option value="">No metrics yet</option> : null}
            {names.map((m) => <option key={m.name} value={m.name}>{m.name}{m.unit ? ` (${m.unit})` : ''}</option>)}
          </select>
        </label>
        <label>Aggregation
          <select value={aggregation} onChange={(e) => set('agg', e.target.value)}>
            {AGGREGATIONS.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </label>
        <fieldset className="inline">
          <legend>Group by</legend>
          {tagKeys.length === 0 ? <span className="muted">no tags</span> : null}
          {tagKeys.map((t) => (
            <label key={t.key}>
              <input type="checkbox" checked={groupBy.includes(t.key)} onChange={(e) => set('by', (e.target.checked ? [...groupBy, t.key] : groupBy.filter((g) => g !== t.key)).join(','))} />
              {t.key}
            </label>
          ))}
        </fieldset>
        <label>Filter
          <select value={filterKey} onChange={(e) => setParams((p) => { if (e.target.value) p.set('fk', e.target.value); else p.delete('fk'); p.delete('fv'); })}>
            <option value="">(none)</option>
            {tagKeys.map((t) => <option key={t.key} value={t.key}>{t.key}</option>)}
          </select>
        </label>
        {filterKey ? (
          <label>=
            <select aria-label={`Value of ${filterKey}`} value={filterValue} onChange={(e) => set('fv', e.target.value)}>
              <option value="">(any)</option>
              {tagValues.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          </label>
        ) : null}
        <RangePicker value={range} onChange={(r) => setParams((p) => rangeToParams(r, p))} />
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <section className="panel" aria-busy={loading} data-testid="metrics-panel" data-drawn={drawn}>
        <h2>{metric || 'No metric selected'} <span className="muted">{aggregation}{groupBy.length ? ` by ${groupBy.join(', ')}` : ''}</span></h2>
        {metric && can('member') ? (
          <AddToDashboard
            title={`${metric} ${aggregation}${groupBy.length ? ` by ${groupBy.join(', ')}` : ''}`}
            query={{ metric, aggregation: aggregation as (typeof AGGREGATIONS)[number], groupBy, filters: filterKey && filterValue ? [{ key: filterKey, op: '=', value: filterValue }] : [] }}
          />
        ) : null}
        {meta ? <p className="hint">{meta.resolution} rollups, a point every {meta.step} s{meta.truncated ? ' (truncated: too many series)' : ''}. Drag across the chart to zoom.</p> : null}
        <TimeSeriesChart label={`${metric} ${aggregation}`} series={series} onZoom={(from, to) => setParams((p) => rangeToParams({ from, to }, p))} />
      </section>
    </>
  );
}
