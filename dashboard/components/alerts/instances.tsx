'use client';

import { useCallback, useEffect, useState } from 'react';
import { formatValue } from '../timeseries-chart.tsx';
import { errorText } from '../../lib/api.ts';
import { useApp } from '../app-context.tsx';
import { Labels, StateBadge } from './labels.tsx';
import { ago, fmtTime, type InstanceView, type TransitionView } from './types.ts';
import { useAlertStream } from './use-alert-stream.ts';

const STATES = ['', 'firing', 'pending', 'resolved'] as const;

/**
 * Firing and pending alerts (and those resolved in the last 15 minutes), newest first, kept current
 * by the alert stream: each transition reloads the list. `onSilence` starts a silence for one.
 * `linked` is the fingerprint a notification's link names (`?alert=`): its row is marked and
 * scrolled to, or a note says it is no longer listed.
 */
export function Instances({ onSilence, onTransition, linked }: { onSilence?(labels: Record<string, string>): void; onTransition?(t: TransitionView): void; linked?: string }) {
  const { clients, project } = useApp();
  const projectId = project!.id;
  const [instances, setInstances] = useState<InstanceView[]>();
  const [state, setState] = useState<(typeof STATES)[number]>('');
  const [filter, setFilter] = useState('');
  const [applied, setApplied] = useState('');
  const [error, setError] = useState<string>();
  const [seen, setSeen] = useState(0);

  const load = useCallback(async () => {
    try {
      const { instances: list } = await clients.api.get('/alerts/instances', {
        params: { query: { projectId, limit: 500, ...(state ? { state } : {}), ...(applied.trim() ? { filter: applied.trim() } : {}) } },
      });
      setInstances(list as InstanceView[]);
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  }, [clients, projectId, state, applied]);
  useEffect(() => { void load(); }, [load]);

  const stream = useAlertStream(projectId, (t) => {
    setSeen((n) => n + 1);
    onTransition?.(t);
    void load();
  });

  const linkedListed = linked !== undefined && instances?.some((i) => i.fingerprint === linked);
  useEffect(() => {
    if (linkedListed) document.querySelector('[data-linked="true"]')?.scrollIntoView({ block: 'center' });
  }, [linkedListed]);

  const firing = instances?.filter((i) => i.state === 'firing').length ?? 0;
  const pending = instances?.filter((i) => i.state === 'pending').length ?? 0;
  return (
    <section aria-labelledby="al-inst-h">
      <div className="al-head">
        <h2 id="al-inst-h">Alerts <span className="al-count firing">{firing} firing</span> <span className="al-count pending">{pending} pending</span></h2>
        <span className={`live live-${stream.status}`} data-testid="alert-stream" title={stream.error}>{stream.status === 'live' ? 'Live' : stream.status}{seen ? ` · ${seen} update${seen === 1 ? '' : 's'}` : ''}</span>
      </div>
      <form className="toolbar" onSubmit={(e) => { e.preventDefault(); setApplied(filter); }}>
        <label>State
          <select value={state} onChange={(e) => setState(e.target.value as (typeof STATES)[number])}>
            {STATES.map((s) => <option key={s} value={s}>{s || 'all'}</option>)}
          </select>
        </label>
        <label>Matchers
          <input className="al-matcher-input" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder='{severity="critical", service=~"api|web"}' />
        </label>
        <button type="submit" className="secondary">Filter</button>
      </form>
      {error ? <p role="alert" className="error">{error}</p> : null}
      {linked !== undefined && instances && !linkedListed ? (
        <p className="hint" data-testid="linked-gone">The linked alert is not firing, pending or recently resolved{state || applied ? ' among the alerts that match' : ''}; its transitions are in History.</p>
      ) : null}
      <div className="scroll" tabIndex={0} role="region" aria-label="Alert instances">
        <table className="al-table" data-testid="instances">
          <thead><tr><th scope="col">State</th><th scope="col">Alert</th><th scope="col">Labels</th><th scope="col">Severity</th><th scope="col" className="num">Value</th><th scope="col">Since</th><th scope="col">Reason</th>{onSilence ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
          <tbody>
            {instances?.length === 0 ? <tr><td colSpan={8} className="empty">Nothing is firing or pending{state || applied ? ' that matches' : ''}.</td></tr> : null}
            {instances?.map((i) => (
              <tr key={i.fingerprint} data-alertname={i.labels.alertname} data-state={i.state} data-linked={i.fingerprint === linked ? 'true' : undefined} aria-current={i.fingerprint === linked ? 'true' : undefined} className={`al-row-${i.state}${i.fingerprint === linked ? ' al-row-linked' : ''}`}>
                <td><StateBadge state={i.state} />{i.flapping ? <span className="badge warn al-flap" title="Changing state often: resolves only after a quiet period">flapping</span> : null}</td>
                <td className="nowrap"><strong>{i.labels.alertname ?? '—'}</strong>{i.source === 'external' ? <span className="muted"> (external)</span> : null}{i.annotations.summary ? <div className="hint">{i.annotations.summary}</div> : null}</td>
                <td><Labels labels={i.labels} skip={['alertname', 'severity']} /></td>
                <td><span className={`badge ${i.severity}`}>{i.severity}</span></td>
                <td className="num">{i.value === null ? '—' : formatValue(i.value)}{i.threshold !== null ? <span className="muted"> / {formatValue(i.threshold)}</span> : null}</td>
                <td className="nowrap" title={fmtTime(i.state === 'resolved' ? i.resolvedAt : i.firedAt ?? i.activeAt)}>{ago(i.state === 'resolved' ? i.resolvedAt : i.firedAt ?? i.activeAt)}</td>
                <td className="al-reason">{i.reason ?? ''}</td>
                {onSilence ? <td>{i.state !== 'resolved' ? <button type="button" className="secondary small" onClick={() => onSilence(i.labels)} aria-label={`Silence ${i.labels.alertname ?? 'alert'}`}>Silence…</button> : null}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
