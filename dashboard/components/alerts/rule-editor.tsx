'use client';

import { useEffect, useId, useState, type ReactNode } from 'react';
import { errorText, QueryError } from '../../lib/api.ts';
import { useApp } from '../app-context.tsx';
import { RulePreview } from './rule-preview.tsx';
import { emptyForm, fieldOf, fromRule, hasThresholds, KINDS, LEVELS, toSpec, type RuleForm } from './rule-form.ts';
import type { RuleView } from './types.ts';

const AGGREGATIONS = ['', 'avg', 'sum', 'min', 'max', 'count', 'p50', 'p90', 'p95', 'p99', 'rate'];
const REDUCERS = ['avg', 'min', 'max', 'last', 'sum'];
const MEASURES = [['error_ratio', 'error ratio (0..1)'], ['p50', 'p50 latency (ms)'], ['p95', 'p95 latency (ms)'], ['p99', 'p99 latency (ms)'], ['requests', 'requests (spans)']] as const;

/**
 * Create or edit a rule of any kind the API has. The API validates: its errors are shown at the
 * field they name (`body.rule.query.metric` under Metric). The preview runs the form as it is now.
 */
export function RuleEditor({ rule, onSaved, onCancel }: { rule?: RuleView; onSaved(r: RuleView): void; onCancel(): void }) {
  const { clients, project } = useApp();
  const projectId = project!.id;
  const [form, setForm] = useState<RuleForm>(() => (rule ? fromRule(rule) : emptyForm()));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [metrics, setMetrics] = useState<string[]>([]);
  const listId = useId();

  useEffect(() => {
    clients.api.get('/metrics/names', { params: { query: { projectId, limit: 1000 } } })
      .then(({ metrics: m }) => setMetrics(m.map((x) => x.name)))
      .catch(() => setMetrics([]));
  }, [clients, projectId]);

  const set = <K extends keyof RuleForm>(k: K, v: RuleForm[K]) => setForm((f) => ({ ...f, [k]: v }));

  /** The API's field errors by form field; the rest as one message. */
  const showErrors = (err: unknown) => {
    const byField: Record<string, string> = {};
    const rest: string[] = [];
    if (err instanceof QueryError && err.details?.length) {
      for (const d of err.details) {
        const f = fieldOf(d.field);
        if (f) byField[f] = [byField[f], d.message].filter(Boolean).join('; ');
        else rest.push(d.message);
      }
      setErrors(byField);
      setGeneral(rest.length ? rest.join('; ') : 'The API refused the rule: see the fields marked below.');
    } else {
      setErrors({});
      setGeneral(errorText(err));
    }
  };

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral(undefined);
    try {
      const spec = toSpec(form) as never;
      const saved = rule
        ? await clients.api.put('/alerts/rules/{id}', { params: { path: { id: rule.id } }, body: { rule: spec } })
        : await clients.api.post('/alerts/rules', { body: { projectId, rule: spec } });
      onSaved(saved.rule as RuleView);
    } catch (err) {
      showErrors(err);
    } finally {
      setBusy(false);
    }
  };

  const k = form.kind;
  return (
    <div className="al-editor">
      <form className="panel" onSubmit={(e) => void save(e)} aria-label={rule ? `Edit rule ${rule.name}` : 'New rule'} noValidate>
        <h2>{rule ? `Edit ${rule.name}` : 'New alert rule'}</h2>
        {general ? <p role="alert" className="error">{general}</p> : null}
        <fieldset className="al-fieldset">
          <legend>Rule</legend>
          <F errors={errors} name="name" label="Name">{(p) => <input {...p} value={form.name} onChange={(e) => set('name', e.target.value)} placeholder="HighCpu" />}</F>
          <F errors={errors} name="key" label="Key">{(p) => <input {...p} value={form.key} disabled={!!rule} onChange={(e) => set('key', e.target.value)} placeholder="high-cpu" className="mono" />}</F>
          <F errors={errors} name="kind" label="Kind">{(p) => (
            <select {...p} value={k} onChange={(e) => set('kind', e.target.value as RuleForm['kind'])}>
              {KINDS.map((x) => <option key={x.kind} value={x.kind}>{x.label}</option>)}
            </select>
          )}</F>
          <F errors={errors} name="severity" label="Severity">{(p) => (
            <select {...p} value={form.severity} onChange={(e) => set('severity', e.target.value as RuleForm['severity'])}>
              <option value="critical">critical</option><option value="warning">warning</option><option value="info">info</option>
            </select>
          )}</F>
        </fieldset>

        <fieldset className="al-fieldset">
          <legend>Query</legend>
          {k === 'metric' || k === 'nodata' || k === 'anomaly' ? (
            <F errors={errors} name="query.metric" label={k === 'anomaly' ? 'Metric (empty: any)' : 'Metric'} wide>{(p) => (
              <>
                <input {...p} list={listId} value={form.metric} onChange={(e) => set('metric', e.target.value)} placeholder="cpu.usage" className="mono" />
                <datalist id={listId}>{metrics.map((m) => <option key={m} value={m} />)}</datalist>
              </>
            )}</F>
          ) : null}
          {k === 'metric' ? (
            <>
              <F errors={errors} name="query.aggregation" label="Aggregation">{(p) => <select {...p} value={form.aggregation} onChange={(e) => set('aggregation', e.target.value)}>{AGGREGATIONS.map((a) => <option key={a} value={a}>{a || "metric's default"}</option>)}</select>}</F>
              <F errors={errors} name="query.reducer" label="Reduce window by">{(p) => <select {...p} value={form.reducer} onChange={(e) => set('reducer', e.target.value)}>{REDUCERS.map((a) => <option key={a} value={a}>{a}</option>)}</select>}</F>
            </>
          ) : null}
          {k === 'metric' || k === 'nodata' ? (
            <>
              <F errors={errors} name="query.groupBy" label="Group by (tags, comma-separated)">{(p) => <input {...p} value={form.groupBy} onChange={(e) => set('groupBy', e.target.value)} placeholder="host" />}</F>
              <F errors={errors} name="query.filters" label="Filters (tag=value, …)">{(p) => <input {...p} value={form.filters} onChange={(e) => set('filters', e.target.value)} placeholder="env=prod" />}</F>
            </>
          ) : null}
          {k === 'anomaly' ? <F errors={errors} name="query.minScore" label="Minimum score">{(p) => <input {...p} inputMode="decimal" value={form.minScore} onChange={(e) => set('minScore', e.target.value)} />}</F> : null}
          {k === 'log' ? (
            <>
              <F errors={errors} name="query.q" label="Search" wide>{(p) => <input {...p} value={form.q} onChange={(e) => set('q', e.target.value)} placeholder='timeout OR "connection reset"' className="mono" />}</F>
              <fieldset className="al-levels" aria-invalid={!!errors['query.levels']}>
                <legend>Levels</legend>
                {LEVELS.map((l) => (
                  <label key={l}><input type="checkbox" checked={form.levels.includes(l)} onChange={(e) => set('levels', e.target.checked ? [...form.levels, l] : form.levels.filter((x) => x !== l))} />{l}</label>
                ))}
                {errors['query.levels'] ? <span className="error al-field-error">{errors['query.levels']}</span> : null}
              </fieldset>
              <F errors={errors} name="query.services" label="Services (comma-separated)">{(p) => <input {...p} value={form.services} onChange={(e) => set('services', e.target.value)} placeholder="api, web" />}</F>
              <F errors={errors} name="query.groupBy" label="Group by">{(p) => <input {...p} value={form.logGroupBy} onChange={(e) => set('logGroupBy', e.target.value)} placeholder="service or attr.<key>" />}</F>
            </>
          ) : null}
          {k === 'trace' ? (
            <>
              <F errors={errors} name="query.service" label="Service (empty: each)">{(p) => <input {...p} value={form.service} onChange={(e) => set('service', e.target.value)} />}</F>
              <F errors={errors} name="query.operation" label="Operation">{(p) => <input {...p} value={form.operation} onChange={(e) => set('operation', e.target.value)} />}</F>
              <F errors={errors} name="query.measure" label="Measure">{(p) => <select {...p} value={form.measure} onChange={(e) => set('measure', e.target.value)}>{MEASURES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}</select>}</F>
              <F errors={errors} name="query.minRequests" label="Min. spans">{(p) => <input {...p} inputMode="numeric" value={form.minRequests} onChange={(e) => set('minRequests', e.target.value)} />}</F>
            </>
          ) : null}
          {k !== 'anomaly' ? <F errors={errors} name="query.window" label={k === 'nodata' ? 'Silent for' : 'Window'}>{(p) => <input {...p} className="al-short" value={form.window} onChange={(e) => set('window', e.target.value)} />}</F> : null}
          {k === 'nodata' ? <F errors={errors} name="query.lookback" label="Expected if seen within">{(p) => <input {...p} className="al-short" value={form.lookback} onChange={(e) => set('lookback', e.target.value)} />}</F> : null}
        </fieldset>

        {hasThresholds(k) ? (
          <fieldset className="al-fieldset">
            <legend>Condition</legend>
            <F errors={errors} name="condition.op" label="Fires when value is">{(p) => <select {...p} value={form.op} onChange={(e) => set('op', e.target.value as RuleForm['op'])}>{['>', '>=', '<', '<='].map((o) => <option key={o} value={o}>{o}</option>)}</select>}</F>
            <F errors={errors} name="condition.critical" label="Critical">{(p) => <input {...p} className="al-short" inputMode="decimal" value={form.critical} onChange={(e) => set('critical', e.target.value)} />}</F>
            <F errors={errors} name="condition.warning" label="Warning">{(p) => <input {...p} className="al-short" inputMode="decimal" value={form.warning} onChange={(e) => set('warning', e.target.value)} />}</F>
            {errors.condition ? <p className="error al-field-error" data-testid="error-condition">{errors.condition}</p> : null}
          </fieldset>
        ) : null}

        <fieldset className="al-fieldset">
          <legend>Timing and labels</legend>
          <F errors={errors} name="for" label="Pending for">{(p) => <input {...p} className="al-short" value={form.for} onChange={(e) => set('for', e.target.value)} />}</F>
          <F errors={errors} name="keepFiringFor" label="Keep firing for">{(p) => <input {...p} className="al-short" value={form.keepFiringFor} onChange={(e) => set('keepFiringFor', e.target.value)} />}</F>
          <F errors={errors} name="interval" label="Evaluate every">{(p) => <input {...p} className="al-short" value={form.interval} onChange={(e) => set('interval', e.target.value)} />}</F>
          <F errors={errors} name="labels" label="Labels (k=v, …)">{(p) => <input {...p} value={form.labels} onChange={(e) => set('labels', e.target.value)} placeholder="team=infra" />}</F>
          <F errors={errors} name="annotations" label="Summary (template)" wide>{(p) => <input {...p} value={form.summary} onChange={(e) => set('summary', e.target.value)} placeholder="{{ $labels.host }} at {{ $value }}" />}</F>
          <label className="al-check"><input type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} /> Enabled</label>
        </fieldset>
        <div className="actions">
          <button type="submit" disabled={busy}>{rule ? 'Save rule' : 'Create rule'}</button>
          <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
        </div>
      </form>
      <RulePreview spec={() => toSpec(form)} kind={k} onFieldErrors={(byField) => { setErrors(byField); setGeneral(undefined); }} />
    </div>
  );
}

/** One labelled field with the API's error for it below (kept outside the editor so inputs keep focus). */
function F({ name, label, children, wide, errors }: { name: string; label: string; children: (p: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode; wide?: boolean; errors: Record<string, string> }) {
  const id = `rf-${name.replace(/\./g, '-')}`;
  const err = errors[name];
  return (
    <div className={`al-field${wide ? ' al-grow' : ''}`} data-field={name}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': !!err, ...(err ? { 'aria-describedby': `${id}-err` } : {}) })}
      {err ? <span id={`${id}-err`} className="error al-field-error" data-testid={`error-${name}`}>{err}</span> : null}
    </div>
  );
}
