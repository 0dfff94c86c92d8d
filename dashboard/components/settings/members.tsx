'use client';

import { useState, type FormEvent } from 'react';
import { ROLES, type Role } from '../../lib/roles.ts';
import { useApp } from '../app-context.tsx';
import { Alert, OneTimeSecret, ReadOnlyNote, TableRegion, useAction, useLoad, when } from './shared.tsx';

/**
 * Members and roles (the orgs function): everyone in the organization reads the list; owners change
 * any role, admins every role but owner (docs/API.md, orgs). Invitations: owners and admins invite,
 * see and revoke them; the token is in the create answer only.
 */
export function MembersSection() {
  const { clients, organization, session, role: myRole, can } = useApp();
  const api = clients.api;
  const orgId = organization!.id;
  const admin = can('admin');
  const members = useLoad(() => api.get('/orgs/{orgId}/members', { params: { path: { orgId } } }).then((r) => r.members), [api, orgId]);
  const invitations = useLoad(
    () => (admin ? api.get('/orgs/{orgId}/invitations', { params: { path: { orgId } } }).then((r) => r.invitations) : Promise.resolve([])),
    [api, orgId, admin],
  );
  const action = useAction();
  const [email, setEmail] = useState('');
  const [inviteRole, setInviteRole] = useState<Role>('member');
  const [days, setDays] = useState(7);
  const [token, setToken] = useState<{ email: string; token: string }>();

  // An admin may grant or take away any role but owner; the owner any.
  const assignable = ROLES.filter((r) => myRole === 'owner' || r !== 'owner');
  const mayChange = (target: Role) => admin && (myRole === 'owner' || target !== 'owner');

  const invite = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      const created = await api.post('/orgs/{orgId}/invitations', { params: { path: { orgId } }, body: { email, role: inviteRole, expiresInDays: days } });
      setToken({ email: created.invitation.email, token: created.token });
      setEmail('');
      await invitations.reload();
    });
  };
  const changeRole = (userId: string, role: Role) =>
    action.run(async () => {
      await api.patch('/orgs/{orgId}/members/{userId}', { params: { path: { orgId, userId } }, body: { role } });
      await members.reload();
    });
  const remove = (userId: string, label: string) => {
    if (!window.confirm(`Remove ${label} from ${organization!.name}?`)) return;
    void action.run(async () => {
      await api.delete('/orgs/{orgId}/members/{userId}', { params: { path: { orgId, userId } } });
      await members.reload();
    });
  };
  const revoke = (invitationId: string) =>
    action.run(async () => {
      await api.post('/orgs/{orgId}/invitations/{invitationId}/revoke', { params: { path: { orgId, invitationId } } });
      await invitations.reload();
    });

  return (
    <section aria-labelledby="members-h" className="settings-section">
      <h2 id="members-h">Members and roles</h2>
      {!admin ? <ReadOnlyNote>You are a {myRole}: owners and admins change roles, remove members and invite people.</ReadOnlyNote> : null}
      <Alert text={members.error ?? action.error} />
      <TableRegion label="Members">
        <table data-testid="members">
          <thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col">Joined</th>{admin ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
          <tbody>
            {(members.data ?? []).map((m) => {
              const label = m.email ?? m.userId;
              const me = m.userId === session.user.id;
              return (
                <tr key={m.userId} data-email={m.email ?? ''}>
                  <td>{m.displayName ? <>{m.displayName} <span className="muted">{m.email}</span></> : label}{me ? <span className="muted"> (you)</span> : null}</td>
                  <td>
                    {mayChange(m.role) ? (
                      <select aria-label={`Role of ${label}`} value={m.role} disabled={action.busy} onChange={(e) => void changeRole(m.userId, e.target.value as Role)}>
                        {(assignable.includes(m.role) ? assignable : [m.role, ...assignable]).map((r) => <option key={r} value={r}>{r}</option>)}
                      </select>
                    ) : <span className={`badge role-${m.role}`}>{m.role}</span>}
                  </td>
                  <td>{when(m.joinedAt)}</td>
                  {admin ? (
                    <td className="settings-actions">
                      {mayChange(m.role) || me ? <button type="button" className="danger" disabled={action.busy} onClick={() => remove(m.userId, label)}>{me ? 'Leave' : 'Remove'}<span className="sr-only"> {label}</span></button> : null}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableRegion>

      {admin ? (
        <>
          <h3>Invite a member</h3>
          <form className="toolbar" onSubmit={(e) => void invite(e)} aria-label="Invite a member">
            <label>Email<input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} placeholder="name@company.com" /></label>
            <label>Role
              <select value={inviteRole} onChange={(e) => setInviteRole(e.target.value as Role)}>
                {assignable.map((r) => <option key={r} value={r}>{r}</option>)}
              </select>
            </label>
            <label>Expires in (days)<input type="number" min={1} max={30} required value={days} onChange={(e) => setDays(Number(e.target.value))} className="settings-narrow" /></label>
            <button type="submit" disabled={action.busy}>Invite</button>
          </form>
          {token ? (
            <OneTimeSecret label={`Invitation token for ${token.email}`} value={token.token} onDismiss={() => setToken(undefined)}>
              <p className="hint">The invitee signs in as {token.email} and accepts it (POST /orgs/invitations/accept with this token).</p>
            </OneTimeSecret>
          ) : null}
          <h3>Invitations</h3>
          <Alert text={invitations.error} />
          {invitations.data?.length === 0 ? <p className="muted">No invitations yet.</p> : (
            <TableRegion label="Invitations">
              <table data-testid="invitations">
                <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {(invitations.data ?? []).map((i) => (
                    <tr key={i.id} data-email={i.email}>
                      <td>{i.email}</td>
                      <td>{i.role}</td>
                      <td><span className={`badge inv-${i.status}`}>{i.status}</span></td>
                      <td>{when(i.expiresAt)}</td>
                      <td className="settings-actions">
                        {i.status === 'pending' ? <button type="button" className="secondary" disabled={action.busy} onClick={() => void revoke(i.id)}>Revoke<span className="sr-only"> the invitation of {i.email}</span></button> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableRegion>
          )}
        </>
      ) : null}
    </section>
  );
}
