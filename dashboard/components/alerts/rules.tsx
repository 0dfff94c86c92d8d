'use client';

import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../../lib/api.ts';
import { useApp } from '../app-context.tsx';
import { StateBadge } from './labels.tsx';
import { RuleEditor } from './rule-editor.tsx';
import { ago, fmtTime, type InstanceView, type RuleView } from './types.ts';

/** What a rule watches, in one line: `avg(cpu.usage) by host over 5m > 90`. */
function describeRule(r: RuleView): string {
  const q = r.query as Record<string, unknown>;
  const c = r.condition;
  const cond = c ? ` ${c.op} ${[c.warning !== undefined ? `${c.warning} (warn)` : '', c.critical !== undefined ? `${c.critical} (crit)` : ''].filter(Boolean).join(', ')}` : '';
  const by = Array.isArray(q.groupBy) && q.groupBy.length ? ` by ${(q.groupBy as string[]).join(', ')}` : typeof q.groupBy === 'string' ? ` by ${q.groupBy}` : '';
  switch (r.kind) {
    case 'metric': return `${q.reducer ?? 'avg'}(${q.aggregation ?? ''}${q.aggregation ? ' ' : ''}${q.metric})${by} over ${q.window ?? '5m'}${cond}`;
    case 'nodata': return `no ${q.metric}${by} for ${q.window ?? '10m'}`;
    case 'anomaly': return `anomaly in ${q.metric ?? 'any metric'}${q.minScore ? ` with score ≥ ${q.minScore}` : ''}`;
    case 'log': return `count of logs${q.q ? ` matching ${JSON.stringify(q.q)}` : ''}${Array.isArray(q.levels) ? ` (${(q.levels as string[]).join(', ')})` : ''}${by} over ${q.window ?? '5m'}${cond}`;
    case 'trace': return `${q.measure} of ${q.service ?? 'each service'}${q.operation ? ` ${q.operation}` : ''} over ${q.window ?? '5m'}${cond}`;
  }
}

/**
 * The project's rules with their state (the worst of their instances) and health, and the editor.
 * Writers (owners, admins, members) get New, Edit and Delete; the API refuses anyone else anyway.
 */
export function Rules({ canWrite, editing, setEditing, refresh }: { canWrite: boolean; editing: string; setEditing(id: string): void; refresh: number }) {
  const { clients, project } = useApp();
  const projectId = project!.id;
  const [rules, setRules] = useState<RuleView[]>();
  const [instances, setInstances] = useState<InstanceView[]>([]);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState('');
  const [confirming, setConfirming] = useState<string>();

  const load = useCallback(async () => {
    try {
      const [{ rules: r }, { instances: i }] = await Promise.all([
        clients.api.get('/alerts/rules', { params: { query: { projectId } } }),
        clients.api.get('/alerts/instances', { params: { query: { projectId, limit: 1000 } } }),
      ]);
      setRules(r as RuleView[]);
      setInstances(i as InstanceView[]);
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  }, [clients, projectId]);
  useEffect(() => { void load(); }, [load, refresh]);

  const remove = async (r: RuleView) => {
    try {
      await clients.api.delete('/alerts/rules/{id}', { params: { path: { id: r.id } } });
      setConfirming(undefined);
      setDone(`Rule ${r.name} deleted.`);
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };

  if (editing && canWrite) {
    const rule = editing === 'new' ? undefined : rules?.find((r) => r.id === editing);
    if (editing !== 'new' && !rule) return rules ? <p className="error" role="alert">That rule no longer exists.</p> : <p aria-busy="true">Loading…</p>;
    return (
      <RuleEditor
        key={editing}
        rule={rule}
        onCancel={() => setEditing('')}
        onSaved={(saved) => { setDone(`Rule ${saved.name} ${rule ? 'saved' : 'created'}.`); setEditing(''); void load(); }}
      />
    );
  }

  const stateOf = (r: RuleView) => {
    const mine = instances.filter((i) => i.ruleId === r.id);
    const firing = mine.filter((i) => i.state === 'firing').length;
    const pending = mine.filter((i) => i.state === 'pending').length;
    return { firing, pending, state: !r.enabled ? 'disabled' : firing ? 'firing' : pending ? 'pending' : 'normal' };
  };
  const counts = rules?.map(stateOf) ?? [];
  return (
    <section aria-labelledby="al-rules-h">
      <div className="al-head">
        <h2 id="al-rules-h">Rules <span className="muted">{rules?.length ?? 0}</span>
          <span className="al-count firing">{counts.filter((c) => c.state === 'firing').length} firing</span>
          <span className="al-count pending">{counts.filter((c) => c.state === 'pending').length} pending</span>
        </h2>
        {canWrite ? <button type="button" onClick={() => setEditing('new')}>New rule</button> : <span className="hint">Viewers can read rules; owners, admins and members edit them.</span>}
      </div>
      <p className="done" role="status">{done}</p>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="scroll" tabIndex={0} role="region" aria-label="Alert rules">
        <table className="al-table" data-testid="rules">
          <thead><tr><th scope="col">State</th><th scope="col">Rule</th><th scope="col">Condition</th><th scope="col">Severity</th><th scope="col">Every / for</th><th scope="col">Last evaluation</th>{canWrite ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
          <tbody>
            {rules?.length === 0 ? <tr><td colSpan={7} className="empty">No rules yet.{canWrite ? ' Create one with New rule, and preview it over the last day before saving.' : ''}</td></tr> : null}
            {rules?.map((r, i) => {
              const s = counts[i]!;
              return (
                <tr key={r.id} data-rule={r.key} data-state={s.state}>
                  <td className="nowrap"><StateBadge state={s.state} />{s.firing + s.pending > 0 ? <span className="muted"> {s.firing ? `${s.firing} firing` : ''}{s.firing && s.pending ? ', ' : ''}{s.pending ? `${s.pending} pending` : ''}</span> : null}</td>
                  <td><strong>{r.name}</strong> <span className="muted mono">{r.key}</span><div className="hint">{r.kind}</div></td>
                  <td className="mono al-cond">{describeRule(r)}</td>
                  <td><span className={`badge ${r.severity}`}>{r.severity}</span></td>
                  <td className="nowrap">{r.interval} / {r.for}</td>
                  <td className="nowrap">
                    {r.health.lastError ? <span className="error" title={r.health.lastError}>error: {r.health.lastError}</span> : <span title={fmtTime(r.health.lastEvalAt)}>{r.health.lastEvalAt ? `${ago(r.health.lastEvalAt)} (${r.health.lastEvalMs ?? 0} ms)` : 'not yet'}</span>}
                  </td>
                  {canWrite ? (
                    <td className="nowrap">
                      <button type="button" className="secondary small" onClick={() => setEditing(r.id)} aria-label={`Edit ${r.name}`}>Edit</button>{' '}
                      {confirming === r.id ? (
                        <>
                          <button type="button" className="danger small" onClick={() => void remove(r)}>Confirm delete</button>{' '}
                          <button type="button" className="secondary small" onClick={() => setConfirming(undefined)}>Keep</button>
                        </>
                      ) : <button type="button" className="secondary small" onClick={() => setConfirming(r.id)} aria-label={`Delete ${r.name}`}>Delete</button>}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
