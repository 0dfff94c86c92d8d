'use client';

import Link from 'next/link';
import { useEffect, useMemo, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { RangePicker } from '../range-picker.tsx';
import { errorText } from '../../lib/api.ts';
import { logTime } from '../logs/format.ts';
import { formatDuration, iso, rangeFromParams, rangeToParams, resolveRange, type TimeRange } from '../../lib/time.ts';
import { RedTable, type ServiceRow } from './red-table.tsx';
import { serviceColors } from './types.ts';

interface Hit {
  traceId: string;
  root: { spanId: string; service: string; name: string } | null;
  start: string;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: Array<{ service: string; spanCount: number; errorCount: number }>;
  matched: { spanId: string; service: string; name: string; start: string; durationMs: number; status: string };
}

type Query = { projectId: string; from: string; to: string; limit: number; service?: string; operation?: string; minDurationMs?: number; status?: 'error' };

/**
 * Trace search (GET /logs/traces: service, operation, minimum duration, errors only, time range)
 * with the RED table per service (GET /logs/traces/services) for the same range. The form's state
 * is in the URL; a hit opens its trace at /traces/?id=<traceId>.
 */
export function TraceSearch({ params, setParams }: { params: URLSearchParams; setParams(fn: (p: URLSearchParams) => void): void }) {
  const { clients, project } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const range: TimeRange = rangeFromParams(params);
  const rangeKey = JSON.stringify(range);
  const service = params.get('service') ?? '';
  const operation = params.get('operation') ?? '';
  const minMs = params.get('minMs') ?? '';
  const errorsOnly = params.get('errors') === '1';
  const [form, setForm] = useState({ service, operation, minMs, errorsOnly });
  const [run, setRun] = useState(0);
  const [hits, setHits] = useState<Hit[]>([]);
  const [next, setNext] = useState<{ cursor: string | null; query: Query }>();
  const [services, setServices] = useState<{ rows: ServiceRow[]; truncated: boolean }>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();

  useEffect(() => {
    let on = true;
    const { from, to } = resolveRange(range);
    const query: Query = { projectId, from: iso(from), to: iso(to), limit: 50 };
    if (service) query.service = service;
    if (operation) query.operation = operation;
    if (minMs && Number(minMs) > 0) query.minDurationMs = Number(minMs);
    if (errorsOnly) query.status = 'error';
    setLoading(true);
    Promise.all([
      api.get('/logs/traces', { params: { query } }),
      // About 40 buckets over the range, for the sparklines (the API allows 1,000).
      api.get('/logs/traces/services', { params: { query: { projectId, from: query.from, to: query.to, limit: 50, step: Math.max(60, Math.ceil((to - from) / 1000 / 40)) } } }),
    ])
      .then(([t, s]) => {
        if (!on) return;
        setHits(t.traces as Hit[]);
        setNext({ cursor: t.nextCursor, query });
        setServices({ rows: (s.services ?? []) as ServiceRow[], truncated: s.truncated });
        setError(undefined);
      })
      .catch((err) => on && setError(errorText(err)))
      .finally(() => on && setLoading(false));
    return () => { on = false; };
  }, [api, projectId, service, operation, minMs, errorsOnly, rangeKey, run]);

  const colors = useMemo(() => serviceColors((services?.rows ?? []).map((r) => r.service)), [services]);

  const loadMore = async () => {
    if (!next?.cursor) return;
    setLoading(true);
    try {
      const t = await api.get('/logs/traces', { params: { query: { ...next.query, cursor: next.cursor } } });
      setHits((h) => [...h, ...(t.traces as Hit[])]);
      setNext({ ...next, cursor: t.nextCursor });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };

  const submit = (f = form) => {
    setForm(f);
    setParams((p) => {
      const set = (k: string, v: string) => (v ? p.set(k, v) : p.delete(k));
      set('service', f.service.trim());
      set('operation', f.operation.trim());
      set('minMs', f.minMs.trim());
      set('errors', f.errorsOnly ? '1' : '');
    });
    setRun((n) => n + 1);
  };

  return (
    <>
      <form role="search" aria-label="Search traces" className="toolbar trace-search" onSubmit={(e) => { e.preventDefault(); submit(); }}>
        <label>Service
          <input list="trace-services" value={form.service} onChange={(e) => setForm({ ...form, service: e.target.value })} size={12} />
          <datalist id="trace-services">{services?.rows.map((r) => <option key={r.service} value={r.service} />)}</datalist>
        </label>
        <label>Operation
          <input value={form.operation} onChange={(e) => setForm({ ...form, operation: e.target.value })} placeholder="span name" size={14} />
        </label>
        <label>Min duration
          <input type="number" min={0} step="any" value={form.minMs} onChange={(e) => setForm({ ...form, minMs: e.target.value })} style={{ width: 80 }} aria-label="Min duration (ms)" /> ms
        </label>
        <label><input type="checkbox" checked={form.errorsOnly} onChange={(e) => setForm({ ...form, errorsOnly: e.target.checked })} />Errors only</label>
        <RangePicker value={range} onChange={(r) => setParams((p) => rangeToParams(r, p))} />
        <button type="submit">Search</button>
      </form>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <section className="panel lt-panel" aria-labelledby="red-title" aria-busy={loading}>
        <h2 id="red-title">Services <span className="muted">requests, errors, duration</span></h2>
        {services ? <RedTable rows={services.rows} truncated={services.truncated} colors={colors} onService={(s) => submit({ ...form, service: s })} /> : null}
      </section>
      <section className="panel lt-panel" aria-labelledby="traces-title" aria-busy={loading}>
        <h2 id="traces-title">Traces <span className="muted" data-testid="trace-count">{hits.length}{next?.cursor ? '+' : ''}, newest first</span></h2>
        {hits.length === 0 && !loading ? <p className="muted">No trace has a span matching this search in this time range.</p> : null}
        {hits.length ? (
          <table className="trace-table" data-testid="trace-results">
            <thead>
              <tr><th scope="col">Root</th><th scope="col">Services</th><th scope="col" className="num">Duration</th><th scope="col" className="num">Spans</th><th scope="col" className="num">Errors</th><th scope="col">Start</th></tr>
            </thead>
            <tbody>
              {hits.map((h) => (
                <tr key={h.traceId} data-trace-id={h.traceId}>
                  <td>
                    <Link href={`/traces/?id=${h.traceId}`}>{h.root ? h.root.name : <span>{h.traceId.slice(0, 16)} <span className="muted">(root not received)</span></span>}</Link>
                    {h.root ? <span className="muted"> · {h.root.service}</span> : null}
                  </td>
                  <td>
                    {h.services.map((s) => <span key={s.service} className="svc-chip"><span className="swatch" style={{ background: colors.get(s.service) ?? '#57606a' }} aria-hidden="true" />{s.service} {s.spanCount}</span>)}
                  </td>
                  <td className="num">{formatDuration(h.durationMs)}</td>
                  <td className="num">{h.spanCount}</td>
                  <td className="num">{h.errorCount ? <span className="level-badge error">{h.errorCount} error{h.errorCount > 1 ? 's' : ''}</span> : '0'}</td>
                  <td className="mono">{logTime(h.start)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {next?.cursor ? <p><button type="button" className="secondary" onClick={() => void loadMore()} disabled={loading}>Load more traces</button></p> : null}
      </section>
    </>
  );
}
