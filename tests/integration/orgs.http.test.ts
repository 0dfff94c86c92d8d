/**
 * orgs function over HTTP: organizations, members, invitations, projects, assignments and the audit
 * log. Each route: happy (status, body, stored rows), error (4xx envelope, nothing stored),
 * security (other organization's resources answer 404, insufficient role 403, no credentials 401).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const BASE = '/functions/v1/orgs';

describe('orgs function', () => {
  let env: TestEnv;
  let t: Tenant;
  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
  });
  afterAll(async () => env?.close());

  const count = async (sql: string, params: unknown[] = []) => Number((await env.db.query<{ n: string }>(`select count(*) as n from ${sql}`, params))[0]!.n);
  const auditActions = async (orgId: string) =>
    (await env.db.query<{ action: string }>('select action from public.audit_log where organization_id = $1 order by id', [orgId])).map((r) => r.action);

  describe('organizations', () => {
    it('any signed-in user creates an organization and becomes its owner', async () => {
      const user = await env.createUser();
      const res = await env.request('POST', BASE, { token: user.jwt, body: { name: 'Initech', slug: 'initech' } });
      expect(res.status).toBe(201);
      const { organization } = await res.json();
      expect(organization).toMatchObject({ name: 'Initech', slug: 'initech', role: 'owner', plan: 'free' });
      const members = await env.db.query('select user_id, role from public.organization_members where organization_id = $1', [organization.id]);
      expect(members).toEqual([{ user_id: user.id, role: 'owner' }]);
      expect(await auditActions(organization.id)).toEqual(['organization.created', 'member.added']);
      const list = await (await env.request('GET', BASE, { token: user.jwt })).json();
      expect(list.organizations.map((o: { id: string }) => o.id)).toEqual([organization.id]);
    });

    it('rejects a bad slug and a taken slug without writing anything', async () => {
      const user = await env.createUser();
      const before = await count('public.organizations');
      const bad = await env.request('POST', BASE, { token: user.jwt, body: { name: 'X', slug: 'Not A Slug' } });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.details[0].field).toBe('body.slug');
      await env.request('POST', BASE, { token: user.jwt, body: { name: 'Dup', slug: 'dup-slug' } });
      const dup = await env.request('POST', BASE, { token: user.jwt, body: { name: 'Dup', slug: 'dup-slug' } });
      expect(dup.status).toBe(409);
      expect((await dup.json()).error.code).toBe('CONFLICT');
      expect(await count('public.organizations')).toBe(before + 1);
      expect(await count('public.organization_members where user_id = $1', [user.id])).toBe(1);
    });

    it('requires credentials', async () => {
      expect((await env.request('POST', BASE, { body: { name: 'X', slug: 'xx' } })).status).toBe(401);
      expect((await env.request('GET', BASE)).status).toBe(401);
    });

    it('reads one organization; another organization is 404', async () => {
      const res = await env.request('GET', `${BASE}/${t.orgId}`, { token: t.people.viewer.jwt });
      expect(res.status).toBe(200);
      expect((await res.json()).organization).toMatchObject({ id: t.orgId, role: 'viewer', billingEmail: null });
      expect((await env.request('GET', `${BASE}/${t.other.orgId}`, { token: t.people.owner.jwt })).status).toBe(404);
      expect((await env.request('GET', `${BASE}/${t.orgId}`, { token: t.people.outsider.jwt })).status).toBe(404);
    });

    it('owners change billing; admins rename but cannot touch billing; viewers change nothing', async () => {
      const owner = await env.request('PATCH', `${BASE}/${t.orgId}`, { token: t.people.owner.jwt, body: { billingEmail: 'billing@acme.test', plan: 'pro' } });
      expect(owner.status).toBe(200);
      expect((await owner.json()).organization).toMatchObject({ billingEmail: 'billing@acme.test', plan: 'pro' });
      expect(await auditActions(t.orgId)).toContain('organization.billing_changed');
      const adminBilling = await env.request('PATCH', `${BASE}/${t.orgId}`, { token: t.people.admin.jwt, body: { plan: 'enterprise' } });
      expect(adminBilling.status).toBe(403);
      const adminRename = await env.request('PATCH', `${BASE}/${t.orgId}`, { token: t.people.admin.jwt, body: { name: 'Acme Corp' } });
      expect(adminRename.status).toBe(200);
      expect((await env.request('PATCH', `${BASE}/${t.orgId}`, { token: t.people.viewer.jwt, body: { name: 'Hacked' } })).status).toBe(403);
      expect((await env.request('PATCH', `${BASE}/${t.orgId}`, { token: t.people.owner.jwt, body: {} })).status).toBe(400);
      const [row] = await env.db.query<{ name: string; plan: string }>('select name, plan from public.organizations where id = $1', [t.orgId]);
      expect(row).toEqual({ name: 'Acme Corp', plan: 'pro' });
    });

    it('only owners delete; deletion cascades and is audited', async () => {
      const user = await env.createUser();
      const { organization } = await (await env.request('POST', BASE, { token: user.jwt, body: { name: 'Temp', slug: 'temp-org' } })).json();
      expect((await env.request('DELETE', `${BASE}/${t.orgId}`, { token: t.people.admin.jwt })).status).toBe(403);
      expect((await env.request('DELETE', `${BASE}/${organization.id}`, { token: t.people.owner.jwt })).status).toBe(404);
      expect((await env.request('DELETE', `${BASE}/${organization.id}`, { token: user.jwt })).status).toBe(204);
      expect(await count('public.organizations where id = $1', [organization.id])).toBe(0);
      expect(await count('public.organization_members where organization_id = $1', [organization.id])).toBe(0);
      expect((await auditActions(organization.id)).at(-1)).toBe('organization.deleted');
    });
  });

  describe('members', () => {
    it('lists members with profiles', async () => {
      const res = await env.request('GET', `${BASE}/${t.orgId}/members`, { token: t.people.member.jwt });
      expect(res.status).toBe(200);
      const { members } = await res.json();
      expect(members).toHaveLength(5);
      expect(members.find((m: { userId: string }) => m.userId === t.people.viewer.id)).toMatchObject({ role: 'viewer', email: t.people.viewer.email });
      expect((await env.request('GET', `${BASE}/${t.orgId}/members`, { token: t.people.outsider.jwt })).status).toBe(404);
    });

    it('admins change non-owner roles; only owners grant owner; the last owner cannot step down', async () => {
      const url = (who: string) => `${BASE}/${t.orgId}/members/${who}`;
      const res = await env.request('PATCH', url(t.people.viewer.id), { token: t.people.admin.jwt, body: { role: 'member' } });
      expect(res.status).toBe(200);
      expect((await res.json()).member).toMatchObject({ userId: t.people.viewer.id, role: 'member' });
      expect((await env.request('PATCH', url(t.people.viewer.id), { token: t.people.admin.jwt, body: { role: 'owner' } })).status).toBe(403);
      expect((await env.request('PATCH', url(t.people.owner.id), { token: t.people.admin.jwt, body: { role: 'viewer' } })).status).toBe(403);
      expect((await env.request('PATCH', url(t.people.viewer.id), { token: t.people.member.jwt, body: { role: 'admin' } })).status).toBe(403);
      const last = await env.request('PATCH', url(t.people.owner.id), { token: t.people.owner.jwt, body: { role: 'admin' } });
      expect(last.status).toBe(409);
      expect((await last.json()).error.message).toMatch(/at least one owner/);
      expect((await env.request('PATCH', url(t.people.viewer.id), { token: t.people.owner.jwt, body: { role: 'king' } })).status).toBe(400);
      expect((await env.request('PATCH', url(t.people.outsider.id), { token: t.people.owner.jwt, body: { role: 'viewer' } })).status).toBe(404);
      // restore
      await env.request('PATCH', url(t.people.viewer.id), { token: t.people.owner.jwt, body: { role: 'viewer' } });
      const actions = await auditActions(t.orgId);
      expect(actions.filter((a) => a === 'member.role_changed').length).toBeGreaterThanOrEqual(2);
    });

    it('a member can leave; admins remove non-owners; assignments go with the member', async () => {
      const user = await env.createUser();
      await env.db.query(`insert into public.organization_members (organization_id, user_id, role) values ($1, $2, 'member')`, [t.orgId, user.id]);
      await env.db.query(`insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3)`, [t.projectB, t.orgId, user.id]);
      expect((await env.request('DELETE', `${BASE}/${t.orgId}/members/${user.id}`, { token: t.people.viewer.jwt })).status).toBe(403);
      expect((await env.request('DELETE', `${BASE}/${t.orgId}/members/${user.id}`, { token: user.jwt })).status).toBe(204);
      expect(await count('public.project_members where user_id = $1', [user.id])).toBe(0);
      expect((await env.request('DELETE', `${BASE}/${t.orgId}/members/${t.people.owner.id}`, { token: t.people.admin.jwt })).status).toBe(403);
      expect(await auditActions(t.orgId)).toContain('member.removed');
    });
  });

  describe('invitations', () => {
    it('invite, list, accept: the invitee joins with the role and project assignments', async () => {
      const invitee = await env.createUser();
      const res = await env.request('POST', `${BASE}/${t.orgId}/invitations`, {
        token: t.people.admin.jwt,
        body: { email: invitee.email.toUpperCase(), role: 'member', projectIds: [t.projectB] },
      });
      expect(res.status).toBe(201);
      const { invitation, token } = await res.json();
      expect(invitation).toMatchObject({ email: invitee.email, role: 'member', status: 'pending', projectIds: [t.projectB] });
      expect(token).toMatch(/^oai_inv_/);
      const [stored] = await env.db.query<{ token_hash: string }>('select token_hash from public.invitations where id = $1', [invitation.id]);
      expect(stored!.token_hash).not.toContain(token);
      const list = await (await env.request('GET', `${BASE}/${t.orgId}/invitations`, { token: t.people.owner.jwt })).json();
      expect(list.invitations.map((i: { id: string }) => i.id)).toContain(invitation.id);
      const viewerList = await (await env.request('GET', `${BASE}/${t.orgId}/invitations`, { token: t.people.viewer.jwt })).json();
      expect(viewerList.invitations).toEqual([]);
      // Someone else holding the token cannot use it.
      const stranger = await env.createUser();
      expect((await env.request('POST', `${BASE}/invitations/accept`, { token: stranger.jwt, body: { token } })).status).toBe(404);
      const accepted = await env.request('POST', `${BASE}/invitations/accept`, { token: invitee.jwt, body: { token } });
      expect(accepted.status).toBe(200);
      expect(await accepted.json()).toMatchObject({ organizationId: t.orgId, member: { userId: invitee.id, role: 'member' } });
      expect(await count('public.project_members where user_id = $1 and project_id = $2', [invitee.id, t.projectB])).toBe(1);
      expect((await env.request('POST', `${BASE}/invitations/accept`, { token: invitee.jwt, body: { token } })).status).toBe(404);
      expect(await auditActions(t.orgId)).toEqual(expect.arrayContaining(['invitation.created', 'invitation.accepted']));
    });

    it('admins cannot invite owners; members cannot invite; projects must belong to the organization', async () => {
      const before = await count('public.invitations');
      expect((await env.request('POST', `${BASE}/${t.orgId}/invitations`, { token: t.people.admin.jwt, body: { email: 'o@x.test', role: 'owner' } })).status).toBe(403);
      expect((await env.request('POST', `${BASE}/${t.orgId}/invitations`, { token: t.people.member.jwt, body: { email: 'o@x.test', role: 'viewer' } })).status).toBe(403);
      const foreign = await env.request('POST', `${BASE}/${t.orgId}/invitations`, { token: t.people.owner.jwt, body: { email: 'o@x.test', role: 'viewer', projectIds: [t.other.projectId] } });
      expect(foreign.status).toBe(400);
      expect((await foreign.json()).error.details[0].field).toBe('body.projectIds.0');
      expect((await env.request('POST', `${BASE}/${t.orgId}/invitations`, { token: t.people.owner.jwt, body: { email: 'not-an-email', role: 'viewer' } })).status).toBe(400);
      expect((await env.request('POST', `${BASE}/${t.other.orgId}/invitations`, { token: t.people.owner.jwt, body: { email: 'o@x.test', role: 'viewer' } })).status).toBe(404);
      expect(await count('public.invitations')).toBe(before);
    });

    it('revoked invitations cannot be accepted', async () => {
      const invitee = await env.createUser();
      const { invitation, token } = await (await env.request('POST', `${BASE}/${t.orgId}/invitations`, { token: t.people.owner.jwt, body: { email: invitee.email, role: 'viewer' } })).json();
      expect((await env.request('POST', `${BASE}/${t.orgId}/invitations/${invitation.id}/revoke`, { token: t.people.viewer.jwt })).status).toBe(404);
      const revoked = await env.request('POST', `${BASE}/${t.orgId}/invitations/${invitation.id}/revoke`, { token: t.people.admin.jwt });
      expect(revoked.status).toBe(200);
      expect((await revoked.json()).invitation.status).toBe('revoked');
      expect((await env.request('POST', `${BASE}/invitations/accept`, { token: invitee.jwt, body: { token } })).status).toBe(404);
      expect((await env.request('POST', `${BASE}/invitations/accept`, { token: invitee.jwt, body: {} })).status).toBe(400);
    });
  });

  describe('projects', () => {
    it('owners and admins create projects; members and viewers cannot', async () => {
      const res = await env.request('POST', `${BASE}/${t.orgId}/projects`, { token: t.people.admin.jwt, body: { name: 'Checkout', slug: 'checkout' } });
      expect(res.status).toBe(201);
      const { project } = await res.json();
      expect(project).toMatchObject({ name: 'Checkout', slug: 'checkout', organizationId: t.orgId });
      expect(await auditActions(t.orgId)).toContain('project.created');
      const before = await count('public.projects');
      expect((await env.request('POST', `${BASE}/${t.orgId}/projects`, { token: t.people.member.jwt, body: { name: 'M', slug: 'mm' } })).status).toBe(403);
      expect((await env.request('POST', `${BASE}/${t.orgId}/projects`, { token: t.people.outsider.jwt, body: { name: 'M', slug: 'mm' } })).status).toBe(404);
      expect((await env.request('POST', `${BASE}/${t.orgId}/projects`, { token: t.people.owner.jwt, body: { name: 'Dup', slug: 'checkout' } })).status).toBe(409);
      expect((await env.request('POST', `${BASE}/${t.orgId}/projects`, { token: t.people.owner.jwt, body: { name: '', slug: 'ok-slug' } })).status).toBe(400);
      expect(await count('public.projects')).toBe(before);
    });

    it('members see only assigned projects', async () => {
      const ids = async (who: 'member' | 'unassigned' | 'viewer') =>
        (await (await env.request('GET', `${BASE}/${t.orgId}/projects`, { token: t.people[who].jwt })).json()).projects.map((p: { id: string }) => p.id);
      expect(await ids('member')).toEqual([t.projectA]);
      expect(await ids('unassigned')).toEqual([]);
      expect(await ids('viewer')).toEqual(expect.arrayContaining([t.projectA, t.projectB]));
      expect((await env.request('GET', `${BASE}/${t.orgId}/projects/${t.projectB}`, { token: t.people.member.jwt })).status).toBe(404);
      expect((await env.request('GET', `${BASE}/${t.orgId}/projects/${t.projectA}`, { token: t.people.member.jwt })).status).toBe(200);
      expect((await env.request('GET', `${BASE}/${t.other.orgId}/projects/${t.other.projectId}`, { token: t.people.owner.jwt })).status).toBe(404);
    });

    it('assigned members rename; viewers cannot; deletion is for owners and admins and is audited', async () => {
      expect((await env.request('PATCH', `${BASE}/${t.orgId}/projects/${t.projectA}`, { token: t.people.member.jwt, body: { name: 'A!' } })).status).toBe(200);
      expect((await env.request('PATCH', `${BASE}/${t.orgId}/projects/${t.projectA}`, { token: t.people.viewer.jwt, body: { name: 'V' } })).status).toBe(403);
      const { project } = await (await env.request('POST', `${BASE}/${t.orgId}/projects`, { token: t.people.owner.jwt, body: { name: 'Gone', slug: 'gone' } })).json();
      expect((await env.request('DELETE', `${BASE}/${t.orgId}/projects/${project.id}`, { token: t.people.viewer.jwt })).status).toBe(403);
      expect((await env.request('DELETE', `${BASE}/${t.orgId}/projects/${project.id}`, { token: t.people.admin.jwt })).status).toBe(204);
      expect(await count('public.projects where id = $1', [project.id])).toBe(0);
      expect(await auditActions(t.orgId)).toContain('project.deleted');
    });

    it('assignments: owners and admins assign and unassign organization members only', async () => {
      const url = (u: string) => `${BASE}/${t.orgId}/projects/${t.projectB}/members/${u}`;
      expect((await env.request('PUT', url(t.people.unassigned.id), { token: t.people.member.jwt })).status).toBe(404);
      expect((await env.request('PUT', url(t.people.unassigned.id), { token: t.people.viewer.jwt })).status).toBe(403);
      expect((await env.request('PUT', url(t.people.unassigned.id), { token: t.people.admin.jwt })).status).toBe(204);
      expect((await env.request('PUT', url(t.people.unassigned.id), { token: t.people.admin.jwt })).status).toBe(204);
      const { members } = await (await env.request('GET', `${BASE}/${t.orgId}/projects/${t.projectB}/members`, { token: t.people.unassigned.jwt })).json();
      expect(members.map((m: { userId: string }) => m.userId)).toContain(t.people.unassigned.id);
      expect((await env.request('PUT', url(t.people.outsider.id), { token: t.people.admin.jwt })).status).toBe(400);
      expect((await env.request('DELETE', url(t.people.unassigned.id), { token: t.people.admin.jwt })).status).toBe(204);
      expect((await env.request('DELETE', url(t.people.unassigned.id), { token: t.people.admin.jwt })).status).toBe(404);
      expect(await auditActions(t.orgId)).toEqual(expect.arrayContaining(['project.member_assigned', 'project.member_unassigned']));
    });
  });

  describe('audit log', () => {
    it('owners and admins page through it newest first; others are refused', async () => {
      const all = await (await env.request('GET', `${BASE}/${t.orgId}/audit-log?limit=500`, { token: t.people.admin.jwt })).json();
      const stored = await env.db.query<{ action: string }>('select action from public.audit_log where organization_id = $1 order by id desc', [t.orgId]);
      expect(all.entries.map((e: { action: string }) => e.action)).toEqual(stored.map((r) => r.action));
      const first = await (await env.request('GET', `${BASE}/${t.orgId}/audit-log?limit=2`, { token: t.people.admin.jwt })).json();
      expect(first.entries).toHaveLength(2);
      const next = await (await env.request('GET', `${BASE}/${t.orgId}/audit-log?limit=2&before=${first.nextBefore}`, { token: t.people.admin.jwt })).json();
      // Pages follow each other without overlap, in the order of the whole log.
      expect([...first.entries, ...next.entries].map((e: { id: string }) => e.id)).toEqual(all.entries.slice(0, 4).map((e: { id: string }) => e.id));
      expect((await env.request('GET', `${BASE}/${t.orgId}/audit-log?before=12x`, { token: t.people.owner.jwt })).status).toBe(400);
      const filtered = await (await env.request('GET', `${BASE}/${t.orgId}/audit-log?action=member.added`, { token: t.people.owner.jwt })).json();
      expect(filtered.entries.every((e: { action: string }) => e.action === 'member.added')).toBe(true);
      expect((await env.request('GET', `${BASE}/${t.orgId}/audit-log`, { token: t.people.member.jwt })).status).toBe(403);
      expect((await env.request('GET', `${BASE}/${t.orgId}/audit-log`, { token: t.people.outsider.jwt })).status).toBe(404);
      expect((await env.request('GET', `${BASE}/${t.orgId}/audit-log?limit=0`, { token: t.people.owner.jwt })).status).toBe(400);
    });
  });

  it('API keys are not accepted by the orgs function', async () => {
    const res = await env.request('GET', BASE, { apiKey: t.keyA.secret });
    expect(res.status).toBe(403);
  });
});
