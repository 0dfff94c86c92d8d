'use client';

import { useCallback, useEffect, useState } from 'react';
import { errorText, QueryError } from '../../lib/api.ts';
import { useApp } from '../app-context.tsx';
import { StateBadge } from './labels.tsx';
import { fmtTime, type SilenceView } from './types.ts';

const DURATIONS = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '2 hours', ms: 2 * 3_600_000 },
  { label: '4 hours', ms: 4 * 3_600_000 },
  { label: '1 day', ms: 86_400_000 },
  { label: '1 week', ms: 7 * 86_400_000 },
] as const;

/** Label pairs as matcher lines (`alertname="CpuBusy"`), to prefill a silence from an alert. */
export const matcherLines = (labels: Record<string, string>) =>
  Object.entries(labels).filter(([k]) => k !== 'severity').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');

/**
 * Silences (Alertmanager's): matchers and a duration; writers create and expire them, everyone sees
 * them with their state at the server's time. Expired ones stay listed as history.
 */
export function Silences({ prefill, canWrite }: { prefill?: string; canWrite: boolean }) {
  const { clients, project } = useApp();
  const projectId = project!.id;
  const [silences, setSilences] = useState<SilenceView[]>();
  const [error, setError] = useState<string>();
  const [matchers, setMatchers] = useState(prefill ?? '');
  const [duration, setDuration] = useState<number>(DURATIONS[1].ms);
  const [comment, setComment] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');

  useEffect(() => { if (prefill !== undefined) setMatchers(prefill); }, [prefill]);

  const load = useCallback(async () => {
    try {
      const { silences: list } = await clients.api.get('/alerts/silences', { params: { query: { projectId, limit: 200 } } });
      setSilences(list as SilenceView[]);
    } catch (err) {
      setError(errorText(err));
    }
  }, [clients, projectId]);
  useEffect(() => { void load(); }, [load]);

  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setFieldErrors({});
    setError(undefined);
    try {
      const lines = matchers.split('\n').map((l) => l.trim()).filter(Boolean);
      const { silence } = await clients.api.post('/alerts/silences', {
        body: { projectId, matchers: lines, endsAt: new Date(Date.now() + duration).toISOString(), comment: comment.trim() },
      });
      setDone(`Silence created until ${fmtTime(silence.endsAt)}.`);
      setMatchers('');
      setComment('');
      await load();
    } catch (err) {
      const byField: Record<string, string> = {};
      if (err instanceof QueryError) for (const d of err.details ?? []) {
        const f = (d.field ?? '').replace(/^body\./, '').split('.')[0]!;
        if (['matchers', 'comment', 'endsAt'].includes(f)) byField[f] = [byField[f], d.message].filter(Boolean).join('; ');
      }
      setFieldErrors(byField);
      if (Object.keys(byField).length === 0) setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const expire = async (s: SilenceView) => {
    try {
      await clients.api.delete('/alerts/silences/{id}', { params: { path: { id: s.id } } });
      setDone('Silence expired.');
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section aria-labelledby="al-sil-h">
      <h2 id="al-sil-h">Silences</h2>
      <p className="hint">A silence keeps matching alerts out of notifications for its time; they are still evaluated, listed and kept in history.</p>
      {canWrite ? (
        <form className="panel al-silence-form" onSubmit={(e) => void create(e)} aria-label="New silence">
          <label className="al-field">Matchers (one per line)
            <textarea rows={3} value={matchers} onChange={(e) => setMatchers(e.target.value)} placeholder={'alertname="CpuBusy"\nhost=~"web-.*"'} aria-invalid={!!fieldErrors.matchers} aria-describedby={fieldErrors.matchers ? 'sil-err-matchers' : undefined} required />
            {fieldErrors.matchers ? <span id="sil-err-matchers" className="error al-field-error">{fieldErrors.matchers}</span> : null}
          </label>
          <label className="al-field">Duration
            <select value={duration} onChange={(e) => setDuration(Number(e.target.value))}>
              {DURATIONS.map((d) => <option key={d.ms} value={d.ms}>{d.label}</option>)}
            </select>
            {fieldErrors.endsAt ? <span className="error al-field-error">{fieldErrors.endsAt}</span> : null}
          </label>
          <label className="al-field al-grow">Comment
            <input value={comment} onChange={(e) => setComment(e.target.value)} placeholder="Why, and who to ask" aria-invalid={!!fieldErrors.comment} required />
            {fieldErrors.comment ? <span className="error al-field-error">{fieldErrors.comment}</span> : null}
          </label>
          <div><button type="submit" disabled={busy}>Create silence</button></div>
        </form>
      ) : null}
      <p className="done" role="status">{done}</p>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="scroll" tabIndex={0} role="region" aria-label="Silences list">
        <table className="al-table" data-testid="silences">
          <thead><tr><th scope="col">State</th><th scope="col">Matchers</th><th scope="col">Starts</th><th scope="col">Ends</th><th scope="col">Comment</th><th scope="col">By</th>{canWrite ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
          <tbody>
            {silences?.length === 0 ? <tr><td colSpan={7} className="empty">No silences.</td></tr> : null}
            {silences?.map((s) => (
              <tr key={s.id} data-state={s.state} data-comment={s.comment}>
                <td><StateBadge state={s.state} /></td>
                <td><span className="al-labels">{s.matchers.map((m) => <code key={m} className="al-label">{m}</code>)}</span></td>
                <td className="nowrap">{fmtTime(s.startsAt)}</td>
                <td className="nowrap">{fmtTime(s.endsAt)}</td>
                <td>{s.comment}</td>
                <td className="muted">{s.createdBy ?? '—'}</td>
                {canWrite ? <td>{s.state !== 'expired' ? <button type="button" className="secondary small" onClick={() => void expire(s)} aria-label={`Expire silence: ${s.comment}`}>Expire</button> : null}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
