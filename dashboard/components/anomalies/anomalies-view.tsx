'use client';

import { useCallback, useEffect, useMemo, useState } from 'react';
import { errorText } from '../../lib/api.ts';
import { formatTags, seriesLabel } from '../../lib/metrics.ts';
import { useUrlState } from '../../lib/use-url-state.ts';
import { useApp } from '../app-context.tsx';
import { formatValue, TimeSeriesChart, type Band, type ChartSeries } from '../timeseries-chart.tsx';
import { type Config, type ConfigForm, DETECTORS, DIRECTIONS, emptyConfigForm, fromConfig, SENSITIVITIES, toConfigBody } from './config-form.ts';

interface Explanation { detector: string; expected: number | null; lower: number | null; upper: number | null; observed: number | null; [k: string]: unknown }
interface Episode {
  id: string;
  metric: string;
  tags: Record<string, string>;
  detector: string;
  startedAt: string;
  endedAt: string | null;
  status: string;
  peakScore: number;
  peakAt: string;
  explanation: Explanation;
  feedback: string | null;
  incidentId: string | null;
}
interface EpisodeDetail extends Episode {
  band: { expected: number | null; lower: number | null; upper: number | null; observed: number | null };
  series: { resolution: '1m'; points: Array<[number, number | null, number | null, number | null]> };
}

const fmt = (iso: string | null) => (iso ? new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '—');

/**
 * The Anomalies page: the detector's episodes (newest first), one episode drawn with the series
 * around it, its expected band and the anomalous span, with feedback; and the per-metric detector
 * configurations. The episode is in the URL (`?episode=<id>`).
 */
export function AnomaliesView() {
  const [params, setParams] = useUrlState();
  if (!params) return null;
  const id = params.get('episode');
  return (
    <>
      {id ? <EpisodeView id={id} onBack={() => setParams((p) => p.delete('episode'))} /> : null}
      <Episodes status={params.get('status') ?? ''} setStatus={(s) => setParams((p) => (s ? p.set('status', s) : p.delete('status')))} open={(e) => { setParams((p) => p.set('episode', e)); window.scrollTo({ top: 0 }); }} selected={id} />
      <Configs />
    </>
  );
}

function Episodes({ status, setStatus, open, selected }: { status: string; setStatus(s: string): void; open(id: string): void; selected: string | null }) {
  const { clients, project } = useApp();
  const [episodes, setEpisodes] = useState<Episode[]>();
  const [metric, setMetric] = useState('');
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    clients.api.get('/anomalies/episodes', { params: { query: { projectId: project!.id, limit: 200, ...(status ? { status: status as never } : {}), ...(metric ? { metric } : {}) } } })
      .then(({ episodes: e }) => { if (live) { setEpisodes(e as Episode[]); setError(undefined); } })
      .catch((err) => live && setError(errorText(err)));
    return () => { live = false; };
  }, [clients, project, status, metric]);
  const metrics = useMemo(() => [...new Set((episodes ?? []).map((e) => e.metric))].sort(), [episodes]);
  return (
    <section aria-labelledby="an-ep-h">
      <h2 id="an-ep-h">Episodes <span className="muted">{episodes?.length ?? ''}</span></h2>
      <div className="toolbar">
        <label>Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">any</option><option value="open">open</option><option value="closed">closed</option>
          </select>
        </label>
        <label>Metric
          <select value={metric} onChange={(e) => setMetric(e.target.value)}>
            <option value="">any</option>
            {(metric && !metrics.includes(metric) ? [metric, ...metrics] : metrics).map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </label>
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="scroll" tabIndex={0} role="region" aria-label="Anomaly episodes">
        <table className="al-table" data-testid="episodes">
          <thead><tr><th scope="col">Metric</th><th scope="col">Series</th><th scope="col" className="num">Peak score (0–1)</th><th scope="col">Started</th><th scope="col">Ended</th><th scope="col">State</th><th scope="col">Feedback</th></tr></thead>
          <tbody>
            {episodes?.length === 0 ? <tr><td colSpan={7} className="empty">No anomalies found{status ? ` (${status})` : ''}. The detector scans metrics every minute after their rollups.</td></tr> : null}
            {episodes?.map((e) => (
              <tr key={e.id} data-episode={e.id} data-metric={e.metric} aria-current={selected === e.id ? 'true' : undefined} className={selected === e.id ? 'an-selected' : undefined}>
                <td><button type="button" className="link" onClick={() => open(e.id)}>{e.metric}</button></td>
                <td className="mono">{formatTags(e.tags) || '—'}</td>
                <td className="num"><span className="an-score" title="In [0, 1]; 0.5 and above is anomalous">{e.peakScore.toFixed(2)}</span></td>
                <td className="nowrap">{fmt(e.startedAt)}</td>
                <td className="nowrap">{e.endedAt ? fmt(e.endedAt) : <span className="muted">ongoing</span>}</td>
                <td><span className={`badge ${e.status === 'open' ? 'firing' : 'resolved'}`}>{e.status}</span></td>
                <td>{e.feedback === 'not_anomaly' ? <span className="badge muted">not an anomaly</span> : <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function EpisodeView({ id, onBack }: { id: string; onBack(): void }) {
  const { clients, can } = useApp();
  const [episode, setEpisode] = useState<EpisodeDetail>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');

  const load = useCallback(async () => {
    try {
      const { episode: e } = await clients.api.get('/anomalies/episodes/{id}', { params: { path: { id } } });
      setEpisode(e as EpisodeDetail);
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  }, [clients, id]);
  useEffect(() => { setEpisode(undefined); void load(); }, [load]);

  const notAnomaly = async () => {
    setBusy(true);
    try {
      await clients.api.post('/anomalies/episodes/{id}/feedback', { params: { path: { id } }, body: { kind: 'not_anomaly' } });
      setDone('Feedback stored: the detector raises its threshold for this series.');
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const view = useMemo(() => {
    if (!episode) return undefined;
    const start = Date.parse(episode.startedAt);
    // The span: from the first anomalous minute to the last (an open episode: up to the newest point).
    const last = episode.series.points.at(-1)?.[0] ?? Date.parse(episode.peakAt);
    const end = episode.endedAt ? Date.parse(episode.endedAt) - 1 : last;
    const avg = episode.series.points.map(([t, v]) => [t, v] as [number, number | null]);
    const label = seriesLabel(episode.metric, episode.tags);
    const series: ChartSeries[] = [
      { label: `${label} (1m avg)`, points: avg },
      { label: 'anomalous span', points: avg.map(([t, v]) => [t, t >= start && t <= end ? v : null]) },
    ];
    const { lower, upper } = episode.band;
    const band: Band | undefined = lower !== null || upper !== null
      ? { label: 'expected range', points: avg.filter(([t]) => t >= start && t <= end).map(([t]) => [t, lower, upper]) }
      : undefined;
    return { series, band, start, end };
  }, [episode]);

  const writer = can('member');
  return (
    <section className="panel an-episode" aria-labelledby="an-one-h" aria-busy={!episode && !error}>
      <div className="al-head">
        <h2 id="an-one-h">{episode ? <>{seriesLabel(episode.metric, episode.tags)}</> : 'Episode'}</h2>
        <button type="button" className="secondary" onClick={onBack}>Close</button>
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
      {episode && view ? (
        <>
          <dl className="an-facts">
            <div><dt>State</dt><dd><span className={`badge ${episode.status === 'open' ? 'firing' : 'resolved'}`}>{episode.status}</span></dd></div>
            <div><dt>Started</dt><dd>{fmt(episode.startedAt)}</dd></div>
            <div><dt>Ended</dt><dd>{episode.endedAt ? fmt(episode.endedAt) : 'ongoing'}</dd></div>
            <div><dt>Peak score</dt><dd data-testid="peak-score">{episode.peakScore.toFixed(3)} at {fmt(episode.peakAt)}</dd></div>
            <div><dt>Observed at the peak</dt><dd data-testid="observed">{episode.band.observed === null ? '—' : formatValue(episode.band.observed)}</dd></div>
            <div><dt>Expected</dt><dd data-testid="expected">{episode.band.expected === null ? '—' : formatValue(episode.band.expected)}{episode.band.lower !== null || episode.band.upper !== null ? <span className="muted"> (range {episode.band.lower === null ? '−∞' : formatValue(episode.band.lower)} to {episode.band.upper === null ? '∞' : formatValue(episode.band.upper)})</span> : null}</dd></div>
            <div><dt>Detector</dt><dd>{episode.detector}</dd></div>
          </dl>
          <TimeSeriesChart label={`${episode.metric} around the episode`} series={view.series} band={view.band} height={240} />
          <p className="hint">The shaded range is what the detector expected at the peak, drawn over the anomalous span (orange); 30 minutes of context either side.</p>
          <div className="actions an-feedback" role="group" aria-label="Feedback">
            <span>Feedback:</span>
            {episode.feedback === 'not_anomaly' ? <span className="badge muted" data-testid="feedback">marked not an anomaly</span> : <span className="muted" data-testid="feedback">none yet</span>}
            {writer ? (
              <button type="button" className="secondary" disabled={busy || episode.feedback === 'not_anomaly'} aria-pressed={episode.feedback === 'not_anomaly'} onClick={() => void notAnomaly()}>Not an anomaly</button>
            ) : <span className="hint">Owners, admins and members give feedback.</span>}
            <span className="hint">The API records only “not an anomaly” (it tunes the detector); there is no “confirmed” feedback to store yet.</span>
          </div>
          <p className="done" role="status">{done}</p>
        </>
      ) : null}
    </section>
  );
}

/**
 * The per-metric detector configurations (`GET /anomalies/configs`), and for owners and admins a
 * form that creates or replaces one (`PUT /anomalies/configs`: one per metric and series filter; the
 * scanner starts fresh detector states for the affected series on its next run).
 */
function Configs() {
  const { clients, project, can } = useApp();
  const [configs, setConfigs] = useState<Config[]>();
  const [error, setError] = useState<string>();
  const [form, setForm] = useState<ConfigForm>(emptyConfigForm);
  const [formError, setFormError] = useState<string>();
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);
  const canWrite = can('admin');
  const load = useCallback(() => {
    clients.api.get('/anomalies/configs', { params: { query: { projectId: project!.id } } })
      .then(({ configs: c }) => { setConfigs(c as Config[]); setError(undefined); })
      .catch((err) => setError(errorText(err)));
  }, [clients, project]);
  useEffect(load, [load]);
  const set = (k: keyof ConfigForm) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setForm((f) => ({ ...f, [k]: e.target.type === 'checkbox' ? (e.target as HTMLInputElement).checked : e.target.value }));
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setSaved('');
    const made = toConfigBody(form, project!.id);
    if ('error' in made) return setFormError(made.error);
    setBusy(true);
    try {
      const { config } = await clients.api.put('/anomalies/configs', { body: made.body as never });
      setFormError(undefined);
      setSaved(`Saved ${config.metric}${Object.keys(config.filter).length ? ` (${formatTags(config.filter)})` : ''}: the scanner starts over for its series on its next run.`);
      load();
    } catch (err) {
      setFormError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="an-cfg-h">
      <h2 id="an-cfg-h">Detector configuration per metric</h2>
      <p className="hint">Metrics without one use the default detector (onset, medium sensitivity, both directions); see docs/anomaly-detection.md.</p>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="scroll" tabIndex={0} role="region" aria-label="Detector configurations">
        <table className="al-table" data-testid="configs">
          <thead><tr><th scope="col">Metric</th><th scope="col">Series filter</th><th scope="col">Detector settings</th><th scope="col">Enabled</th><th scope="col">Updated</th>{canWrite ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
          <tbody>
            {configs?.length === 0 ? <tr><td colSpan={canWrite ? 6 : 5} className="empty">No per-metric configuration: every metric uses the defaults.</td></tr> : null}
            {configs?.map((c) => (
              <tr key={c.id} data-metric={c.metric}>
                <td className="mono">{c.metric}</td>
                <td className="mono">{formatTags(c.filter) || 'every series'}</td>
                <td className="mono">{Object.entries(c.config).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' · ') || 'defaults'}</td>
                <td>{c.enabled ? 'yes' : <span className="muted">no</span>}</td>
                <td className="nowrap">{fmt(c.updatedAt)}</td>
                {canWrite ? <td><button type="button" className="secondary small" aria-label={`Edit the configuration of ${c.metric}`} onClick={() => { setForm(fromConfig(c)); setFormError(undefined); setSaved(''); document.getElementById('an-cfg-form')?.scrollIntoView({ block: 'center' }); }}>Edit</button></td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {canWrite ? (
        <form id="an-cfg-form" className="an-cfg-form" onSubmit={(e) => void save(e)} aria-labelledby="an-cfg-form-h">
          <h3 id="an-cfg-form-h">Create or change a configuration</h3>
          <p className="hint">One per metric and series filter: saving the same metric and filter again replaces it.</p>
          <label>Metric<input name="metric" required maxLength={200} value={form.metric} onChange={set('metric')} /></label>
          <label>Series filter (tag=value, …; empty = every series)<input name="filter" value={form.filter} onChange={set('filter')} /></label>
          <label>Detector<select name="detector" value={form.detector} onChange={set('detector')}>{DETECTORS.map((d) => <option key={d} value={d}>{d === 'onset' ? 'onset (default)' : d}</option>)}</select></label>
          <label>Sensitivity<select name="sensitivity" value={form.sensitivity} onChange={set('sensitivity')}>{(SENSITIVITIES as readonly string[]).includes(form.sensitivity) ? null : <option value={form.sensitivity}>{form.sensitivity} (robust sigmas)</option>}{SENSITIVITIES.map((x) => <option key={x} value={x}>{x}</option>)}</select></label>
          <label>Direction<select name="direction" value={form.direction} onChange={set('direction')}>{DIRECTIONS.map((x) => <option key={x} value={x}>{x === 'both' ? 'up and down' : x === 'up' ? 'up only' : 'down only'}</option>)}</select></label>
          <label>Minimum change (in the metric's unit)<input name="minAbs" type="number" min="0" step="any" value={form.minAbs} onChange={set('minAbs')} /></label>
          <label>Minimum relative change (%)<input name="minRelPct" type="number" min="0" step="any" value={form.minRelPct} onChange={set('minRelPct')} /></label>
          <label className="inline"><input name="enabled" type="checkbox" checked={form.enabled} onChange={set('enabled')} /> Enabled</label>
          {formError ? <p role="alert" className="error" data-testid="config-error">{formError}</p> : null}
          <div className="actions">
            <button type="submit" disabled={busy}>Save configuration</button>
            <button type="button" className="secondary" onClick={() => { setForm(emptyConfigForm()); setFormError(undefined); setSaved(''); }}>Clear</button>
          </div>
          <p role="status" className="done">{saved}</p>
        </form>
      ) : null}
    </section>
  );
}
