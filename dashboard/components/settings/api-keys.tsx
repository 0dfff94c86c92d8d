'use client';

import { useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { Alert, OneTimeSecret, ReadOnlyNote, TableRegion, useAction, useLoad, when } from './shared.tsx';

const SCOPES = [
  { id: 'ingest', help: 'send telemetry' },
  { id: 'read', help: 'query the project' },
  { id: 'admin', help: "manage the project's keys and webhooks" },
] as const;
type Scope = (typeof SCOPES)[number]['id'];

/**
 * The project's API keys (the api-keys function): everyone who sees the project lists them (the
 * prefix, never the secret); owners and admins create, revoke and rotate. A new or rotated key's
 * secret is in that one answer: shown here once, held only in component state.
 */
export function ApiKeysSection() {
  const { clients, project, can } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const admin = can('admin');
  const [showRevoked, setShowRevoked] = useState(false);
  const keys = useLoad(
    () => api.get('/api-keys', { params: { query: { projectId, includeRevoked: showRevoked ? 'true' : 'false' } } }).then((r) => r.apiKeys),
    [api, projectId, showRevoked],
  );
  const action = useAction();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['ingest']);
  const [expires, setExpires] = useState('');
  const [secret, setSecret] = useState<{ name: string; secret: string; note?: string }>();

  const create = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      const body = { projectId, name, scopes, ...(expires ? { expiresAt: new Date(`${expires}T23:59:59`).toISOString() } : {}) };
      const created = await api.post('/api-keys', { body });
      setSecret({ name: created.apiKey.name, secret: created.secret });
      setName('');
      setExpires('');
      await keys.reload();
    });
  };
  const revoke = (id: string, label: string) => {
    if (!window.confirm(`Revoke ${label}? Anything sending with it is refused at once.`)) return;
    void action.run(async () => {
      await api.post('/api-keys/{id}/revoke', { params: { path: { id } } });
      await keys.reload();
    });
  };
  const rotate = (id: string, label: string) =>
    action.run(async () => {
      const rotated = await api.post('/api-keys/{id}/rotate', { params: { path: { id } }, body: { gracePeriodSeconds: 86400 } });
      setSecret({ name: rotated.apiKey.name, secret: rotated.secret, note: `The previous secret of ${label} keeps working until ${when(rotated.previous.expiresAt)}.` });
      await keys.reload();
    });

  return (
    <section aria-labelledby="keys-h" className="settings-section">
      <h2 id="keys-h">API keys <span className="muted">· {project!.name}</span></h2>
      {!admin ? <ReadOnlyNote>Owners and admins create, rotate and revoke keys; you see their prefixes.</ReadOnlyNote> : null}
      {admin ? (
        <form className="toolbar" onSubmit={(e) => void create(e)} aria-label="Create an API key">
          <label>Name<input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="otel-collector" /></label>
          <fieldset className="inline">
            <legend>Scopes</legend>
            {SCOPES.map((s) => (
              <label key={s.id} title={s.help}>
                <input type="checkbox" checked={scopes.includes(s.id)} onChange={(e) => setScopes(e.target.checked ? [...scopes, s.id] : scopes.filter((x) => x !== s.id))} />
                {s.id}
              </label>
            ))}
          </fieldset>
          <label>Expires<input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} min={new Date().toISOString().slice(0, 10)} /></label>
          <button type="submit" disabled={action.busy || scopes.length === 0}>Create key</button>
        </form>
      ) : null}
      {secret ? (
        <OneTimeSecret label={`Secret of ${secret.name}`} value={secret.secret} onDismiss={() => setSecret(undefined)}>
          {secret.note ? <p className="hint">{secret.note}</p> : null}
        </OneTimeSecret>
      ) : null}
      <Alert text={keys.error ?? action.error} />
      <label className="settings-filter"><input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} />Show revoked keys</label>
      {keys.data?.length === 0 ? <p className="muted">No API keys in this project.</p> : (
        <TableRegion label="API keys">
          <table data-testid="api-keys">
            <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Scopes</th><th scope="col">Status</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Created</th>{admin ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
            <tbody>
              {(keys.data ?? []).map((k) => (
                <tr key={k.id} data-name={k.name}>
                  <td>{k.name}</td>
                  <td><code data-testid="key-prefix">oai_{k.prefix}_…</code></td>
                  <td>{k.scopes.join(', ')}</td>
                  <td><span className={`badge key-${k.status}`}>{k.status}</span></td>
                  <td>{when(k.lastUsedAt)}</td>
                  <td>{k.expiresAt ? when(k.expiresAt) : 'never'}</td>
                  <td>{when(k.createdAt)}</td>
                  {admin ? (
                    <td className="settings-actions">
                      {k.status === 'active' ? (
                        <>
                          <button type="button" className="secondary" disabled={action.busy} onClick={() => void rotate(k.id, k.name)}>Rotate<span className="sr-only"> {k.name}</span></button>
                          <button type="button" className="danger" disabled={action.busy} onClick={() => revoke(k.id, k.name)}>Revoke<span className="sr-only"> {k.name}</span></button>
                        </>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </section>
  );
}
