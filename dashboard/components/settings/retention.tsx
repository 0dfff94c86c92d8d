'use client';

import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useApp } from '../app-context.tsx';
import { Alert, count, ReadOnlyNote, TableRegion, useAction, useLoad, when } from './shared.tsx';

/** Owners and admins edit the table in a form; others read it. */
function Form({ admin, onSubmit, children }: { admin: boolean; onSubmit: (e: FormEvent) => void; children: ReactNode }) {
  return admin ? <form onSubmit={onSubmit} aria-label="Retention">{children}</form> : <>{children}</>;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
type Target = (typeof LEVELS)[number] | 'spans';
const TARGETS: Target[] = [...LEVELS, 'spans'];

/**
 * How long the project keeps logs per level and spans (GET/PUT /logs/retention), and what the next
 * cleanup run would remove under those settings (GET /logs/retention/preview, for every reader).
 */
export function RetentionSection() {
  const { clients, project, can } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const admin = can('admin');
  const retention = useLoad(() => api.get('/logs/retention', { params: { query: { projectId } } }).then((r) => r.retention), [api, projectId]);
  const preview = useLoad(() => api.get('/logs/retention/preview', { params: { query: { projectId } } }).then((r) => r.preview), [api, projectId]);
  const action = useAction();
  const [draft, setDraft] = useState<Record<Target, number>>();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    const r = retention.data;
    if (r) setDraft({ ...r.levels, spans: r.spans });
  }, [retention.data]);

  const days = (t: Target, r = retention.data) => (r ? (t === 'spans' ? r.spans : r.levels[t]) : undefined);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!draft) return;
    setSaved(false);
    const ok = await action.run(async () => {
      await api.put('/logs/retention', { body: { projectId, levels: Object.fromEntries(LEVELS.map((l) => [l, draft[l]])), spans: draft.spans } });
      await Promise.all([retention.reload(), preview.reload()]);
    });
    setSaved(ok);
  };
  const p = preview.data && !('dryRun' in preview.data) ? preview.data : undefined;
  const previewOf = (t: Target) => (p ? (t === 'spans' ? p.spans : p.levels[t as (typeof LEVELS)[number]]) : undefined);

  return (
    <section aria-labelledby="retention-h" className="settings-section">
      <h2 id="retention-h">Retention <span className="muted">· {project!.name}</span></h2>
      <p className="hint">
        Days each log level and spans are kept (1–400; your plan may allow less). {retention.data?.custom ? `Custom settings, changed ${when(retention.data.updatedAt)}.` : 'This project keeps the defaults.'}
        {' '}The hourly cleanup applies a change at its next run.
      </p>
      {!admin ? <ReadOnlyNote>Owners and admins change retention.</ReadOnlyNote> : null}
      <Alert text={retention.error ?? preview.error ?? action.error} />
      <Form admin={admin} onSubmit={(e) => void save(e)}>
        <TableRegion label="Retention per level">
          <table data-testid="retention">
            <thead><tr><th scope="col">Data</th><th scope="col">Keep (days)</th><th scope="col">Default</th><th scope="col" className="num">Next cleanup removes</th><th scope="col">Older than</th></tr></thead>
            <tbody>
              {TARGETS.map((t) => (
                <tr key={t} data-target={t}>
                  <th scope="row">{t === 'spans' ? 'Spans' : `${t} logs`}</th>
                  <td>
                    {admin && draft ? (
                      <input type="number" min={1} max={400} required aria-label={`Days to keep ${t === 'spans' ? 'spans' : `${t} logs`}`} className="settings-narrow" value={draft[t]} onChange={(e) => setDraft({ ...draft, [t]: Number(e.target.value) })} />
                    ) : <span data-testid={`days-${t}`}>{days(t) ?? '…'}</span>}
                  </td>
                  <td className="muted">{retention.data ? (t === 'spans' ? retention.data.defaults.spans : retention.data.defaults.levels[t]) : '…'}</td>
                  <td className="num">{previewOf(t) ? `${count(previewOf(t)!.rows)} rows` : '…'}</td>
                  <td>{previewOf(t) ? when(previewOf(t)!.cutoff) : '…'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
        {admin ? (
          <div className="toolbar settings-after">
            <button type="submit" disabled={action.busy || !draft}>Save retention</button>
            {saved ? <span role="status" className="hint">Saved.</span> : null}
          </div>
        ) : null}
      </Form>
    </section>
  );
}
