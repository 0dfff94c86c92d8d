'use client';

import { useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { Alert, OneTimeSecret, ReadOnlyNote, TableRegion, useAction, useLoad, when } from './shared.tsx';

/**
 * Outgoing webhooks of the project (the webhooks function): owners and admins list, create, test and
 * delete endpoints, read their recent messages and replay one. The API answers others 403, so this
 * section says so instead of asking. The `whsec_` signing secret is shown once, at creation.
 */
export function WebhooksSection() {
  const { can } = useApp();
  return (
    <section aria-labelledby="webhooks-h" className="settings-section">
      <h2 id="webhooks-h">Webhooks</h2>
      {can('admin') ? <Endpoints /> : <ReadOnlyNote>Owners and admins manage webhooks.</ReadOnlyNote>}
    </section>
  );
}

function Endpoints() {
  const { clients, project } = useApp();
  const api = clients.api;
  const projectId = project!.id;
  const endpoints = useLoad(() => api.get('/webhooks/endpoints', { params: { query: { projectId } } }).then((r) => r.endpoints), [api, projectId]);
  const catalogue = useLoad(() => api.get('/webhooks/event-types').then((r) => r.eventTypes), [api]);
  const action = useAction();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState<string[]>(['*']);
  const [secret, setSecret] = useState<{ url: string; secret: string }>();
  const [selected, setSelected] = useState<string>();
  const [tested, setTested] = useState<{ id: string; text: string }>();

  const create = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      const created = await api.post('/webhooks/endpoints', { body: { projectId, url, description, eventTypes: types } });
      setSecret({ url: created.endpoint.url, secret: created.secret });
      setUrl('');
      setDescription('');
      await endpoints.reload();
    });
  };
  const remove = (id: string, label: string) => {
    if (!window.confirm(`Delete the endpoint ${label}? Its pending messages are not delivered.`)) return;
    void action.run(async () => {
      await api.delete('/webhooks/endpoints/{id}', { params: { path: { id } } });
      if (selected === id) setSelected(undefined);
      await endpoints.reload();
    });
  };
  const test = (id: string) =>
    action.run(async () => {
      const { result } = await api.post('/webhooks/endpoints/{id}/test', { params: { path: { id } }, body: {} });
      setTested({ id, text: result.ok ? `Delivered (HTTP ${result.status}).` : `Not delivered: ${result.error ?? `HTTP ${result.status}`}.` });
      setSelected(id);
    });
  const toggle = (id: string, on: boolean) => {
    setTypes(on ? [...types.filter((t) => t !== '*'), id] : types.filter((t) => t !== id));
  };

  return (
    <>
      {secret ? (
        <OneTimeSecret label={`Signing secret of ${secret.url}`} value={secret.secret} onDismiss={() => setSecret(undefined)}>
          <p className="hint">Verify each delivery's <code>webhook-signature</code> with it (Standard Webhooks).</p>
        </OneTimeSecret>
      ) : null}
      <Alert text={endpoints.error ?? catalogue.error ?? action.error} />
      {endpoints.data?.length === 0 ? <p className="muted">No endpoints in this project.</p> : (
        <TableRegion label="Webhook endpoints">
          <table data-testid="webhook-endpoints">
            <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Created</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {(endpoints.data ?? []).map((ep) => (
                <tr key={ep.id} aria-selected={selected === ep.id ? true : undefined} className={selected === ep.id ? 'settings-selected' : undefined}>
                  <td><code>{ep.url}</code>{ep.description ? <div className="muted settings-small">{ep.description}</div> : null}</td>
                  <td>{ep.eventTypes.join(', ')}</td>
                  <td>
                    <span className={`badge ${ep.enabled ? (ep.failingSince ? 'warn' : 'ok') : 'error'}`}>{ep.enabled ? (ep.failingSince ? `failing since ${when(ep.failingSince)}` : 'enabled') : 'disabled'}</span>
                    {ep.disabledReason ? <div className="muted settings-small">{ep.disabledReason}</div> : null}
                    {tested?.id === ep.id ? <div role="status" className="settings-small">{tested.text}</div> : null}
                  </td>
                  <td>{when(ep.createdAt)}</td>
                  <td className="settings-actions">
                    <button type="button" className="secondary" onClick={() => setSelected(selected === ep.id ? undefined : ep.id)} aria-expanded={selected === ep.id}>Messages<span className="sr-only"> of {ep.url}</span></button>
                    <button type="button" className="secondary" disabled={action.busy} onClick={() => void test(ep.id)}>Send test<span className="sr-only"> to {ep.url}</span></button>
                    <button type="button" className="danger" disabled={action.busy} onClick={() => remove(ep.id, ep.url)}>Delete<span className="sr-only"> {ep.url}</span></button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      {selected ? <Messages endpointId={selected} key={`${selected}-${tested?.text ?? ''}`} /> : null}

      <details className="settings-details">
        <summary>Add an endpoint</summary>
        <form className="settings-grid" onSubmit={(e) => void create(e)} aria-label="Add an endpoint">
          <label>URL<input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://hooks.example.com/observai" /></label>
          <label>Description<input maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} /></label>
          <fieldset className="settings-types">
            <legend>Events</legend>
            <label><input type="checkbox" checked={types.includes('*')} onChange={(e) => setTypes(e.target.checked ? ['*'] : [])} />every event (*)</label>
            {(catalogue.data ?? []).filter((t) => t.scope === 'project' && t.type !== 'webhook.test').map((t) => (
              <label key={t.type} title={t.description}><input type="checkbox" checked={types.includes(t.type)} onChange={(e) => toggle(t.type, e.target.checked)} /><code>{t.type}</code></label>
            ))}
          </fieldset>
          <div><button type="submit" disabled={action.busy || types.length === 0}>Add endpoint</button></div>
        </form>
      </details>
    </>
  );
}

function Messages({ endpointId }: { endpointId: string }) {
  const { clients } = useApp();
  const api = clients.api;
  const messages = useLoad(() => api.get('/webhooks/endpoints/{id}/messages', { params: { path: { id: endpointId }, query: { limit: 20 } } }).then((r) => r.messages), [api, endpointId]);
  const action = useAction();
  const replay = (id: string) => action.run(async () => { await api.post('/webhooks/messages/{id}/replay', { params: { path: { id } } }); await messages.reload(); });
  return (
    <div className="panel">
      <div className="settings-panel-head">
        <h3>Recent messages</h3>
        <button type="button" className="secondary" onClick={() => void messages.reload()}>Refresh</button>
      </div>
      <p className="hint">A delivered or failed event can be sent again; a test-send cannot (send a new test).</p>
      <Alert text={messages.error ?? action.error} />
      {messages.data?.length === 0 ? <p className="muted">No messages sent to this endpoint yet.</p> : (
        <TableRegion label="Webhook messages">
          <table data-testid="webhook-messages">
            <thead><tr><th scope="col">Created</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {(messages.data ?? []).map((m) => (
                <tr key={m.id} data-event={m.eventType}>
                  <td>{when(m.createdAt)}</td>
                  <td><code>{m.eventType}</code></td>
                  <td><span className={`badge msg-${m.status}`}>{m.status}</span></td>
                  <td className="num">{m.attempts}</td>
                  <td>{m.lastStatus !== null ? `HTTP ${m.lastStatus}` : ''}{m.lastError ? <span className="muted"> {m.lastError}</span> : null}</td>
                  <td className="settings-actions">
                    {m.eventType !== 'webhook.test' && (m.status === 'delivered' || m.status === 'failed') ? (
                      <button type="button" className="secondary" disabled={action.busy} onClick={() => void replay(m.id)}>Replay<span className="sr-only"> {m.eventType}</span></button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </div>
  );
}
