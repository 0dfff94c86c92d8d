'use client';

import { useMemo, useState } from 'react';
import { errorText, QueryError } from '../../lib/api.ts';
import { useApp } from '../app-context.tsx';
import { formatValue, PALETTE, TimeSeriesChart, type ChartSeries } from '../timeseries-chart.tsx';
import { Labels, StateBadge } from './labels.tsx';
import { fieldOf } from './rule-form.ts';
import { fmtTime, labelPairs, type RuleKind } from './types.ts';

type State = 'inactive' | 'pending' | 'firing' | 'resolved';
interface Preview {
  from: string;
  to: string;
  interval: string;
  steps: string[];
  series: Array<{ labels: Record<string, string>; values: Array<number | null>; states: State[] }>;
  seriesOmitted: number;
  transitions: Array<{ labels: Record<string, string>; from: State; to: State; at: string; severity: string; value: number | null; threshold: number | null; reason: string }>;
  summary: { evaluations: number; series: number; fired: number; resolved: number; notifications: number; overCap: number; activeAtEnd: number };
}

const RANGES = [
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '6h', label: 'Last 6 hours', ms: 6 * 3_600_000 },
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
] as const;

const seriesName = (labels: Record<string, string>) => {
  const own = labelPairs(labels, ['alertname', 'severity']);
  return own.length ? own.map(([k, v]) => `${k}=${v}`).join(', ') : (labels.alertname ?? 'value');
};

/**
 * What the rule in the editor would have done over the last day (POST /alerts/rules/preview: the
 * evaluator's own query and state machine at each interval, nothing written): the evaluated values
 * with the thresholds, each series' state over time, and the transitions it would have made.
 */
export function RulePreview({ spec, kind, onFieldErrors }: { spec(): Record<string, unknown>; kind: RuleKind; onFieldErrors(byField: Record<string, string>): void }) {
  const { clients, project } = useApp();
  const [range, setRange] = useState<(typeof RANGES)[number]['id']>('24h');
  const [preview, setPreview] = useState<Preview>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const ms = RANGES.find((r) => r.id === range)!.ms;
      const body = { projectId: project!.id, rule: spec() as never, ...(range === '24h' ? {} : { from: new Date(Date.now() - ms).toISOString() }) };
      const { preview: p } = await clients.api.post('/alerts/rules/preview', { body });
      setPreview(p as Preview);
      onFieldErrors({});
    } catch (err) {
      setPreview(undefined);
      if (err instanceof QueryError && err.details?.length) {
        const byField: Record<string, string> = {};
        for (const d of err.details) {
          const f = fieldOf(d.field);
          if (f && f !== 'from' && f !== 'to') byField[f] = [byField[f], d.message].filter(Boolean).join('; ');
        }
        onFieldErrors(byField);
      }
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const thresholds = useMemo(() => {
    const c = (spec().condition ?? {}) as { op?: string; critical?: number; warning?: number };
    return c;
    // The thresholds drawn are those of the preview's run: recomputed when a new preview arrives.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [preview]);

  const chart = useMemo<ChartSeries[]>(() => {
    if (!preview) return [];
    const xs = preview.steps.map((s) => Date.parse(s));
    const out: ChartSeries[] = preview.series.slice(0, 8).map((s) => ({ label: seriesName(s.labels), points: xs.map((t, i) => [t, s.values[i] ?? null] as [number, number | null]) }));
    if (typeof thresholds.critical === 'number') out.push({ label: `critical ${thresholds.op} ${thresholds.critical}`, points: xs.map((t) => [t, thresholds.critical!]) });
    if (typeof thresholds.warning === 'number') out.push({ label: `warning ${thresholds.op} ${thresholds.warning}`, points: xs.map((t) => [t, thresholds.warning!]) });
    return out;
  }, [preview, thresholds]);

  return (
    <section className="panel al-preview" aria-labelledby="al-prev-h" aria-busy={busy}>
      <div className="al-head">
        <h2 id="al-prev-h">Preview</h2>
        <div className="toolbar">
          <label>Over
            <select value={range} onChange={(e) => setRange(e.target.value as typeof range)}>{RANGES.map((r) => <option key={r.id} value={r.id}>{r.label}</option>)}</select>
          </label>
          <button type="button" className="secondary" onClick={() => void run()} disabled={busy || kind === 'anomaly'}>{busy ? 'Evaluating…' : 'Preview rule'}</button>
        </div>
      </div>
      {kind === 'anomaly' ? <p className="hint">Anomaly rules fire on the episodes open when they are evaluated, which the past does not keep: they cannot be previewed. The Anomalies page lists past episodes.</p> : <p className="hint">Runs the evaluator's own query and state machine at each interval of the range. Nothing is saved.</p>}
      {busy ? <p className="hint" role="status">Evaluating the rule at every {spec().interval as string} of the range: a day at 1m is 1,440 evaluations, which takes some seconds.</p> : null}
      {error ? <p role="alert" className="error">{error}</p> : null}
      {preview ? (
        <div data-testid="preview">
          <p className="al-preview-summary" data-testid="preview-summary" data-fired={preview.summary.fired} data-resolved={preview.summary.resolved} data-notifications={preview.summary.notifications}>
            <strong>{preview.summary.fired === 0 ? 'Would not have fired' : `Would have fired ${preview.summary.fired} time${preview.summary.fired === 1 ? '' : 's'}`}</strong>
            {' '}· resolved {preview.summary.resolved} · {preview.summary.notifications} notification{preview.summary.notifications === 1 ? '' : 's'} before grouping
            {' '}· {preview.summary.series} series · {preview.summary.evaluations} evaluations every {preview.interval} from {fmtTime(preview.from)} to {fmtTime(preview.to)}
            {preview.summary.activeAtEnd ? <> · <span className="badge firing">{preview.summary.activeAtEnd} active now</span></> : null}
            {preview.summary.overCap ? <> · <span className="badge warn">{preview.summary.overCap} over the instance cap</span></> : null}
          </p>
          {preview.series.length === 0 ? <p className="empty">The query found no data in this range.</p> : (
            <>
              <TimeSeriesChart label="Evaluated values" series={chart} height={200} />
              <StateTimeline preview={preview} />
              {preview.seriesOmitted ? <p className="hint">{preview.seriesOmitted} more series not drawn (their transitions are listed).</p> : null}
            </>
          )}
          <h3 className="al-h3">Transitions</h3>
          <div className="scroll al-short-scroll" tabIndex={0} role="region" aria-label="Preview transitions">
            <table className="al-table" data-testid="preview-transitions">
              <thead><tr><th scope="col">Time</th><th scope="col">Series</th><th scope="col">Change</th><th scope="col">Severity</th><th scope="col" className="num">Value</th><th scope="col">Reason</th></tr></thead>
              <tbody>
                {preview.transitions.length === 0 ? <tr><td colSpan={6} className="empty">No state changes.</td></tr> : null}
                {preview.transitions.map((t, i) => (
                  <tr key={i} data-to={t.to}>
                    <td className="nowrap">{fmtTime(t.at)}</td>
                    <td><Labels labels={t.labels} skip={['alertname', 'severity']} /></td>
                    <td className="nowrap"><StateBadge state={t.from} /> → <StateBadge state={t.to} /></td>
                    <td><span className={`badge ${t.severity}`}>{t.severity}</span></td>
                    <td className="num">{t.value === null ? '—' : formatValue(t.value)}</td>
                    <td className="al-reason">{t.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}
    </section>
  );
}

/** Each series' state over the range as coloured runs (pending amber, firing red, resolved green). */
function StateTimeline({ preview }: { preview: Preview }) {
  const n = preview.steps.length;
  return (
    <div className="al-timeline" data-testid="preview-timeline">
      {preview.series.slice(0, 8).map((s, si) => {
        const runs: Array<{ state: State; start: number; end: number }> = [];
        s.states.forEach((st, i) => {
          const last = runs[runs.length - 1];
          if (last && last.state === st) last.end = i + 1;
          else runs.push({ state: st, start: i, end: i + 1 });
        });
        const active = runs.filter((r) => r.state !== 'inactive');
        const name = seriesName(s.labels);
        const text = active.length ? active.map((r) => `${r.state} ${fmtTime(preview.steps[r.start]!)}–${fmtTime(preview.steps[r.end - 1]!)}`).join('; ') : 'never pending or firing';
        return (
          <div key={name} className="al-tl-row">
            <span className="al-tl-name"><span className="swatch block" style={{ background: PALETTE[si % PALETTE.length] }} />{name}</span>
            <div className="al-tl-track" role="img" aria-label={`${name}: ${text}`} title={text}>
              {active.map((r) => <span key={r.start} className={`al-tl-run ${r.state}`} style={{ left: `${(r.start / n) * 100}%`, width: `${Math.max(0.3, ((r.end - r.start) / n) * 100)}%` }} />)}
            </div>
          </div>
        );
      })}
      <div className="al-tl-key hint"><span className="al-tl-run pending" /> pending <span className="al-tl-run firing" /> firing <span className="al-tl-run resolved" /> resolved</div>
    </div>
  );
}
