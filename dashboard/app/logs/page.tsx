'use client';

import { useEffect, useMemo, useState } from 'react';
import { useApp } from '../../components/app-context.tsx';
import { Console } from '../../components/console.tsx';
import { LevelHistogram, type HistogramData } from '../../components/logs/level-histogram.tsx';
import { LogContext } from '../../components/logs/log-context.tsx';
import { LogTable, type LogLine } from '../../components/logs/log-table.tsx';
import { addToSearch, filterParams, parseSearch, SYNTAX_HELP } from '../../components/logs/query-syntax.ts';
import { useLiveTail } from '../../components/logs/use-live-tail.ts';
import { RangePicker } from '../../components/range-picker.tsx';
import { errorText } from '../../lib/api.ts';
import { iso, rangeFromParams, rangeToParams, resolveRange, type TimeRange } from '../../lib/time.ts';
import { useUrlState } from '../../lib/use-url-state.ts';

export default function LogsPage() {
  return <Console title="Logs"><LogsExplorer /></Console>;
}

type SearchQuery = { projectId: string; from: string; to: string; limit: number; cursor?: string };

function LogsExplorer() {
  const { clients, project } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const [params, setParams] = useUrlState();
  const text = params?.get('q') ?? '';
  const range: TimeRange = params ? rangeFromParams(params) : { preset: '1h' };
  const rangeKey = JSON.stringify(range);
  const contextId = params?.get('ctx') ?? undefined;
  const filter = useMemo(() => filterParams(parseSearch(text)), [text]);
  const filterKey = JSON.stringify(filter);

  const [draft, setDraft] = useState('');
  const [help, setHelp] = useState(false);
  const [run, setRun] = useState(0);
  const [histogram, setHistogram] = useState<HistogramData>();
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [page, setPage] = useState<{ nextCursor: string | null; query: SearchQuery }>();
  const [loading, setLoading] = useState(false);
  /** The filter the results now show (`data-drawn`: what bench:dashboard waits for). */
  const [drawn, setDrawn] = useState('');
  const [error, setError] = useState<string>();
  const [live, setLive] = useState(false);
  const [paused, setPaused] = useState(false);
  const tail = useLiveTail({ clients, projectId, params: filter, enabled: live, paused });

  useEffect(() => {
    if (params) setDraft(params.get('q') ?? '');
    // The box follows the URL when the page loads; afterwards it is the user's until submitted.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [params === undefined]);

  useEffect(() => {
    if (!params || live) return;
    let on = true;
    const { from, to } = resolveRange(range);
    const query: SearchQuery = { projectId, from: iso(from), to: iso(to), limit: 100 };
    setLoading(true);
    // Attribute conditions (`attr.<key>`) are free-form query keys the typed client cannot list.
    const withFilter = <T,>(q: T) => ({ ...q, ...filter }) as unknown as never;
    Promise.all([
      api.get('/logs/histogram', { params: { query: withFilter({ projectId, from: query.from, to: query.to, buckets: 100 }) } }),
      api.get('/logs/search', { params: { query: withFilter(query) } }),
    ])
      .then(([h, s]) => {
        if (!on) return;
        setHistogram({ ...h, from: Date.parse(h.from), to: Date.parse(h.to), buckets: h.buckets.map((b) => ({ ...b, start: Date.parse(b.start) })) });
        setLogs(s.logs as LogLine[]);
        setPage({ nextCursor: s.nextCursor, query });
        setDrawn(filterKey);
        setError(undefined);
      })
      .catch((err) => on && setError(errorText(err)))
      .finally(() => on && setLoading(false));
    return () => { on = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, projectId, filterKey, rangeKey, run, live, params === undefined]);

  const loadMore = async () => {
    if (!page?.nextCursor) return;
    setLoading(true);
    try {
      const s = await api.get('/logs/search', { params: { query: { ...page.query, ...filter, cursor: page.nextCursor } as unknown as never } });
      setLogs((prev) => [...prev, ...(s.logs as LogLine[])]);
      setPage({ ...page, nextCursor: s.nextCursor });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };

  if (!params) return null;
  const search = (next: string) => {
    setDraft(next);
    setParams((p) => (next.trim() ? p.set('q', next.trim()) : p.delete('q')));
    setRun((n) => n + 1);
  };
  const addFilter = (token: string) => search(addToSearch(draft, token));
  const shown = live ? tail.lines : logs;

  return (
    <>
      <form role="search" className="log-search" onSubmit={(e) => { e.preventDefault(); search(draft); }}>
        <label className="grow">
          <span className="sr-only">Search logs</span>
          <input type="search" className="mono" aria-label="Search logs" placeholder='Search: words, "phrases", level:error, service:web, @http.status_code:500' value={draft} onChange={(e) => setDraft(e.target.value)} spellCheck={false} />
        </label>
        <button type="submit">Search</button>
        <button type="button" className="secondary" aria-expanded={help} aria-controls="log-syntax" onClick={() => setHelp((v) => !v)}>Syntax</button>
        {live ? null : <RangePicker value={range} onChange={(r) => setParams((p) => rangeToParams(r, p))} />}
        <button type="button" className={live ? 'tail-toggle on' : 'tail-toggle secondary'} aria-pressed={live} onClick={() => { setLive((v) => !v); setPaused(false); }}>
          <span className="dot" aria-hidden="true" />Live tail
        </button>
        {live ? <button type="button" className="secondary" aria-pressed={paused} onClick={() => setPaused((v) => !v)}>{paused ? `Resume${tail.pending ? ` (${tail.pending} new)` : ''}` : 'Pause'}</button> : null}
      </form>
      {help ? (
        <section id="log-syntax" className="panel syntax-help" aria-label="Search syntax">
          <table>
            <thead><tr><th scope="col">Write</th><th scope="col">To find</th></tr></thead>
            <tbody>{SYNTAX_HELP.map(([w, what]) => <tr key={w}><td><code>{w}</code></td><td>{what}</td></tr>)}</tbody>
          </table>
          <p className="hint">Terms are combined with AND. Field filters (<code>level:</code> also as <code>status:</code>) go to the API as parameters; the rest is its full-text query.</p>
        </section>
      ) : null}
      {error ? <p role="alert" className="error">{error}</p> : null}
      {live ? (
        <p role="status" className={`tail-status ${tail.status}`} data-testid="tail-status" data-status={tail.status}>
          {tail.status === 'connecting' ? 'Connecting to the live tail…' : tail.status === 'live' ? (paused ? 'Paused: new lines are kept until you resume.' : 'Live: new lines appear at the top (the last 500 are kept).') : tail.status === 'ended' ? 'The live tail ended.' : tail.status === 'error' ? 'The live tail failed.' : ''}
          {tail.message ? ` ${tail.message}` : ''}
          {tail.dropped ? ` ${tail.dropped} lines skipped (faster than 50 a second).` : ''}
        </p>
      ) : histogram ? (
        <section className="panel" aria-label="Histogram" aria-busy={loading}>
          <LevelHistogram data={histogram} onZoom={(from, to) => setParams((p) => rangeToParams({ from, to }, p))} onLevel={(l) => addFilter(`level:${l}`)} />
        </section>
      ) : null}
      <section className="panel log-results" aria-label={live ? 'Live tail' : 'Results'} aria-busy={loading} data-testid="log-results" data-drawn={drawn}>
        <h2>
          {live ? 'Live tail' : 'Lines'} <span className="muted" data-testid="result-count">· {shown.length.toLocaleString()}{!live && page?.nextCursor ? '+' : ''}{live ? ' received' : ', newest first'}</span>
        </h2>
        {shown.length === 0 && !loading ? <p className="muted">{live ? 'Waiting for new lines that match the search…' : 'No lines match this search in this time range.'}</p> : null}
        {shown.length ? <LogTable logs={shown} label={live ? 'Live tail lines' : 'Log lines'} onFilter={addFilter} onContext={(l) => setParams((p) => p.set('ctx', l.id))} /> : null}
        {!live && page?.nextCursor ? <p><button type="button" className="secondary" onClick={() => void loadMore()} disabled={loading}>Load older lines</button></p> : null}
      </section>
      {contextId ? <LogContext id={contextId} onClose={() => setParams((p) => p.delete('ctx'))} /> : null}
    </>
  );
}
