'use client';

import Link from 'next/link';
import { useEffect, useMemo, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import { formatDuration } from '../../lib/time.ts';
import { logTime } from '../logs/format.ts';
import type { LogLine } from '../logs/log-table.tsx';
import { logsLink } from './links.ts';
import { SpanDetails } from './span-details.tsx';
import { flattenSpans, serviceColors, type SpanNode, type TraceSummary } from './types.ts';
import { Waterfall } from './waterfall.tsx';

/**
 * One trace (GET /logs/traces/{traceId}): its summary, the waterfall, the selected span's details
 * (`span` in the URL, so a link can point at a span) and the trace's logs (GET
 * /logs/traces/{traceId}/logs), each linking back to its place in the logs page.
 */
export function TraceView({ traceId, spanId, onSpan }: { traceId: string; spanId?: string; onSpan(spanId: string | undefined): void }) {
  const { clients } = useApp();
  const api = clients.api;
  const [data, setData] = useState<{ trace: TraceSummary; spans: SpanNode[] }>();
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [logsCursor, setLogsCursor] = useState<string | null>(null);
  const [error, setError] = useState<string>();

  useEffect(() => {
    let on = true;
    setData(undefined);
    setError(undefined);
    Promise.all([
      api.get('/logs/traces/{traceId}', { params: { path: { traceId } } }),
      api.get('/logs/traces/{traceId}/logs', { params: { path: { traceId }, query: { limit: 100 } } }),
    ])
      .then(([t, l]) => {
        if (!on) return;
        setData(t as { trace: TraceSummary; spans: SpanNode[] });
        setLogs(l.logs as LogLine[]);
        setLogsCursor(l.nextCursor);
      })
      .catch((err) => on && setError(errorText(err)));
    return () => { on = false; };
  }, [api, traceId]);

  const all = useMemo(() => (data ? flattenSpans(data.spans).map((r) => r.span) : []), [data]);
  const colors = useMemo(() => serviceColors(data?.trace.services.map((s) => s.service) ?? []), [data]);
  const spanNames = useMemo(() => new Map(all.map((s) => [s.spanId, s.name])), [all]);
  const selected = all.find((s) => s.spanId === spanId);

  const moreLogs = async () => {
    if (!logsCursor) return;
    try {
      const l = await api.get('/logs/traces/{traceId}/logs', { params: { path: { traceId }, query: { limit: 100, cursor: logsCursor } } });
      setLogs((prev) => [...prev, ...(l.logs as LogLine[])]);
      setLogsCursor(l.nextCursor);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const back = <p className="crumbs"><Link href="/traces/">← All traces</Link></p>;
  if (error) return <>{back}<p role="alert" className="error">{error}</p></>;
  if (!data) return <>{back}<p aria-busy="true">Loading trace {traceId}…</p></>;
  const t = data.trace;
  return (
    <>
      {back}
      <section className="trace-summary" aria-label="Trace summary">
        <h2 data-testid="trace-root">{t.root ? t.root.name : 'Root span not received'} {t.root ? <span className="muted">· {t.root.service}</span> : null}</h2>
        <dl className="lt-facts inline">
          <dt>Trace</dt><dd className="mono">{t.traceId}</dd>
          <dt>Start</dt><dd className="mono">{logTime(t.start)}</dd>
          <dt>Duration</dt><dd>{formatDuration(t.durationMs)}</dd>
          <dt>Spans</dt><dd data-testid="trace-span-count">{t.spanCount}</dd>
          <dt>Errors</dt><dd>{t.errorCount ? <span className="level-badge error">{t.errorCount}</span> : 0}</dd>
          <dt>Logs</dt><dd>{t.logCount}</dd>
        </dl>
        <p className="legend" aria-label="Services">
          {t.services.map((s) => <span key={s.service}><span className="swatch block" style={{ background: colors.get(s.service) }} aria-hidden="true" />{s.service} <span className="muted">{s.spanCount} span{s.spanCount > 1 ? 's' : ''}{s.errorCount ? `, ${s.errorCount} error${s.errorCount > 1 ? 's' : ''}` : ''}</span></span>)}
        </p>
        {t.truncated ? <p className="hint">This trace has more than 10,000 spans; the earliest 10,000 are shown.</p> : null}
        {t.orphanCount ? <p className="hint">{t.orphanCount} span{t.orphanCount > 1 ? 's' : ''} whose parent is not in the trace are shown as extra roots.</p> : null}
      </section>
      <div className={selected ? 'trace-body with-details' : 'trace-body'}>
        <section className="panel" aria-label="Waterfall">
          <Waterfall spans={data.spans} durationMs={t.durationMs} colors={colors} selected={spanId} onSelect={(s) => onSpan(s.spanId === spanId ? undefined : s.spanId)} />
        </section>
        {selected ? <SpanDetails span={selected} traceId={t.traceId} color={colors.get(selected.service)} onClose={() => onSpan(undefined)} /> : null}
      </div>
      <section className="panel lt-panel" aria-labelledby="trace-logs-title">
        <h2 id="trace-logs-title">Logs of this trace <span className="muted">{logs.length}{logsCursor ? '+' : ''}, oldest first</span> <Link className="small-link" href={logsLink(t.traceId, t.start, t.end)}>Open in Logs</Link></h2>
        {logs.length === 0 ? <p className="muted">No log line carries this trace id.</p> : (
          <table className="log-table" data-testid="trace-logs">
            <thead><tr><th scope="col" className="col-time">Time</th><th scope="col" className="col-level">Level</th><th scope="col" className="col-service">Service</th><th scope="col">Span</th><th scope="col">Message</th></tr></thead>
            <tbody>
              {logs.map((l) => (
                <tr key={l.id} data-id={l.id}>
                  <td className="mono col-time"><Link href={logsLink(t.traceId, t.start, t.end, undefined, l.id)} aria-label={`Open the line at ${logTime(l.time)} in its context`}>{logTime(l.time)}</Link></td>
                  <td className="col-level"><span className={`level-badge ${l.level}`}>{l.level}</span></td>
                  <td className="col-service">{l.service}</td>
                  <td>{l.spanId ? <button type="button" className="lt-link" onClick={() => onSpan(l.spanId!)}>{spanNames.get(l.spanId) ?? l.spanId}</button> : null}</td>
                  <td className="mono">{l.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {logsCursor ? <p><button type="button" className="secondary" onClick={() => void moreLogs()}>Load more lines</button></p> : null}
      </section>
    </>
  );
}
