/**
 * What users may change, column by column (migration ..20261206000100). A row policy decides which
 * rows a user may update; only column grants decide which columns. These tests go through Postgres
 * as the Data API does (`set local role authenticated` + the user's claims, the statements PostgREST
 * builds for supabase-js calls), because the holes they close were reachable there, not through our
 * own routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlState } from '../../src/core/errors.ts';
import { type Claims, withClaims } from '../../src/db/scoped.ts';
import type { Queryable } from '../../src/db/types.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

let env: TestEnv;
let t: Tenant;
beforeAll(async () => {
  env = await createTestEnv();
  t = await createTenant(env);
});
afterAll(async () => {
  await env?.close();
});

const ORGS = '/functions/v1/orgs';
const user = (p: Person): Claims => ({ sub: p.id, role: 'authenticated', aud: 'authenticated' });
const as = <T>(p: Person, fn: (tx: Queryable) => Promise<T>) => withClaims(env.db, user(p), fn);
/** The SQLSTATE (or our OA code) a statement failed with, or 'ok'. */
async function outcome(p: Person, sql: string, params: unknown[] = []): Promise<string> {
  try {
    await as(p, (tx) => tx.query(sql, params));
    return 'ok';
  } catch (err) {
    return sqlState(err) ?? String(err);
  }
}

/**
 * Every column `authenticated` may insert or update, per table. A new table or grant must be added
 * here on purpose: a whole-table grant shows up as every column and fails this test.
 */
const USER_WRITABLE: Record<string, { INSERT?: string; UPDATE?: string }> = {
  // Alerting (migration ..20261206000800): users write rules, silences, policies and contact points; the jobs the rest.
  alert_rules: {
    INSERT:
      'project_id, organization_id, key, name, kind, query, condition, severity, labels, annotations, for_seconds, keep_firing_for_seconds, interval_seconds, delay_seconds, max_instances, enabled, next_eval_at',
    UPDATE:
      'name, kind, query, condition, severity, labels, annotations, for_seconds, keep_firing_for_seconds, interval_seconds, delay_seconds, max_instances, enabled, next_eval_at',
  },
  // Matchers are a silence's identity: changing them is a new silence.
  alert_silences: { INSERT: 'project_id, organization_id, matchers, starts_at, ends_at, comment', UPDATE: 'starts_at, ends_at, comment' },
  anomaly_configs: { INSERT: 'project_id, organization_id, metric, filter, config, enabled', UPDATE: 'config, enabled, updated_at' },
  anomaly_episodes: { UPDATE: 'feedback, feedback_at' },
  api_keys: { INSERT: 'organization_id, project_id, name, prefix, secret_hash, scopes, expires_at, rotated_from', UPDATE: 'name, expires_at, revoked_at' },
  contact_points: {
    INSERT: 'id, project_id, organization_id, name, kind, settings, secret_ciphertext, send_resolved',
    UPDATE: 'name, settings, secret_ciphertext, send_resolved, disabled_at, disabled_reason',
  },
  export_destinations: {
    INSERT: 'id, project_id, organization_id, name, endpoint, region, bucket, prefix, force_path_style, access_key_id, secret_ciphertext, verified_at',
  },
  export_runs: { INSERT: 'project_id, organization_id, destination_id, signal, from_time, to_time, filter, rows_per_file', UPDATE: 'status' },
  export_schedules: {
    INSERT: 'project_id, organization_id, destination_id, signal, filter, rows_per_file, enabled, start_day',
    UPDATE: 'filter, rows_per_file, enabled',
  },
  invitations: { INSERT: 'organization_id, email, role, project_ids, token_hash, expires_at', UPDATE: 'revoked_at' },
  log_retention_settings: {
    INSERT: 'project_id, organization_id, trace_days, debug_days, info_days, warn_days, error_days, fatal_days, span_days',
    UPDATE: 'trace_days, debug_days, info_days, warn_days, error_days, fatal_days, span_days',
  },
  metric_definitions: {
    INSERT: 'organization_id, name, type, unit, description, default_aggregation, auto_registered, retention_days',
    UPDATE: 'type, unit, description, default_aggregation, auto_registered, retention_days',
  },
  notification_policies: { INSERT: 'project_id, organization_id, document', UPDATE: 'document' },
  organization_members: { INSERT: 'organization_id, user_id, role', UPDATE: 'role' },
  // The plan changes only through the billing function (it checks the organization fits the plan).
  organizations: { UPDATE: 'name, billing_email' },
  profiles: { UPDATE: 'display_name' },
  project_ingest_settings: {
    INSERT: 'project_id, organization_id, max_series, requests_per_minute, events_per_minute',
    UPDATE: 'max_series, requests_per_minute, events_per_minute, updated_at',
  },
  project_members: { INSERT: 'project_id, organization_id, user_id' },
  projects: { INSERT: 'organization_id, name, slug', UPDATE: 'name' },
  // Webhooks (migration ..20261206001000): users write endpoints (the API seals the secret it generates;
  // rotation's copy of the old one is the service role's: nobody may read a ciphertext). The outbox
  // (webhook_events), messages and attempts are the triggers' and the delivery job's: no user
  // grant to insert or update any of their columns, so they are absent here on purpose.
  webhook_endpoints: { UPDATE: 'description, rate_limit_per_second, disabled_at, disabled_reason' },
  // On-call (migration ..20261206001200): owners and admins write escalation policies; a service is
  // created by the API (it generates the routing key and stores its hash), then users may rename or
  // re-aim it. Incidents and their timeline change only through the API: no user grant at all.
  escalation_policies: { UPDATE: 'name' },
  // Schedules (..20261206001400): the document is the API's (validated; the escalation job trusts it);
  // users rename. A feed's token is the API's (only its hash is stored); users revoke.
  oncall_schedules: { UPDATE: 'name' },
  oncall_feed_tokens: { UPDATE: 'revoked_at' },
  // Pages (..20261206001300): a service's carriers of pages to people are the users' to re-aim (the
  // foreign keys keep them in the project); pages and notification rules are the API's and the job's.
  oncall_services: { UPDATE: 'name, escalation_policy_id, urgency, reopen_window_seconds, page_email_via, page_slack_via, page_sms_via, page_voice_via, page_webhook_via' },
  // Dashboards (..20261206002600): users write the content and who sees it; the creator is the
  // inserting user, the version the trigger's, the project and organization fixed once inserted.
  dashboards: {
    INSERT: 'project_id, organization_id, title, description, panels, variables, time_range, visibility',
    UPDATE: 'title, description, panels, variables, time_range, visibility',
  },
};

describe('column grants', () => {
  it('authenticated may insert and update exactly the listed columns of each public table', async () => {
    const rows = await env.db.query<{ t: string; priv: 'INSERT' | 'UPDATE'; cols: string }>(
      `select c.relname as t, p.priv, string_agg(a.attname, ', ' order by a.attnum) as cols
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       cross join (values ('INSERT'), ('UPDATE')) p(priv)
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
         and has_column_privilege('authenticated', c.oid, a.attnum, p.priv)
       group by 1, 2 order by 1, 2`,
    );
    const actual: Record<string, Record<string, string>> = {};
    for (const r of rows) (actual[r.t] ??= {})[r.priv] = r.cols;
    expect(actual).toEqual(USER_WRITABLE);
  });

  it('anon may insert or update nothing', async () => {
    const [row] = await env.db.query<{ n: number }>(
      `select count(*)::int as n
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       where n.nspname = 'public' and c.relkind in ('r', 'p')
         and (has_column_privilege('anon', c.oid, a.attnum, 'INSERT') or has_column_privilege('anon', c.oid, a.attnum, 'UPDATE'))`,
    );
    expect(row!.n).toBe(0);
  });
});

describe('invitations: an admin cannot make anyone owner, nor reuse a token', () => {
  async function invite(by: Person, email: string, role = 'member') {
    const res = await env.request('POST', `${ORGS}/${t.orgId}/invitations`, { token: by.jwt, body: { email, role } });
    expect(res.status).toBe(201);
    return (await res.json()) as { invitation: { id: string; invitedBy: string }; token: string };
  }
  const readInvitation = async (id: string) =>
    (await env.db.query<{ role: string; accepted_at: Date | null; expires_at: Date; revoked_at: Date | null }>('select * from public.invitations where id = $1', [id]))[0]!;

  it('the escalation as reproduced: update role to owner through the Data API, accept, demote the owner', async () => {
    const accomplice = await env.createUser();
    const { invitation, token } = await invite(t.people.admin, accomplice.email);
    // supabase.from('invitations').update({ role: 'owner' }).eq('id', id), as PostgREST runs it.
    expect(await outcome(t.people.admin, `update "public"."invitations" set "role" = $1 where "public"."invitations"."id" = $2 returning "id"`, ['owner', invitation.id])).toBe(
      '42501',
    );
    expect((await readInvitation(invitation.id)).role).toBe('member');
    const accepted = await env.request('POST', `${ORGS}/invitations/accept`, { token: accomplice.jwt, body: { token } });
    expect(await accepted.json()).toMatchObject({ member: { role: 'member' } });
    // The new member cannot demote the owner, and neither can the admin.
    expect((await env.request('PATCH', `${ORGS}/${t.orgId}/members/${t.people.owner.id}`, { token: accomplice.jwt, body: { role: 'viewer' } })).status).toBe(403);
    const demoted = await as(t.people.admin, (tx) =>
      tx.query(`update public.organization_members set role = 'viewer' where organization_id = $1 and user_id = $2 returning user_id`, [t.orgId, t.people.owner.id]),
    );
    expect(demoted).toEqual([]);
    const [owner] = await env.db.query<{ role: string }>('select role from public.organization_members where organization_id = $1 and user_id = $2', [t.orgId, t.people.owner.id]);
    expect(owner!.role).toBe('owner');
  });

  it('billing is the billing function\'s: an owner cannot change the plan, Stripe ids, usage or quota warnings through the Data API', async () => {
    const owner = t.people.owner;
    const tries: Array<[string, unknown[]]> = [
      [`update "public"."organizations" set "plan" = 'enterprise' where "id" = $1 returning "id"`, [t.orgId]],
      [`insert into "public"."organization_billing" ("organization_id", "stripe_customer_id") values ($1, 'cus_forged') returning "organization_id"`, [t.orgId]],
      [`update "public"."organization_billing" set "warning_contact_point_ids" = '{}' where "organization_id" = $1 returning "organization_id"`, [t.orgId]],
      [`insert into "public"."usage_daily" ("organization_id", "project_id", "day", "signal", "events", "bytes", "requests") values ($1, $2, current_date, 'logs', -1000000, 0, 0) returning 1`, [t.orgId, t.projectA]],
      [`insert into "public"."billing_quota_warnings" ("organization_id", "period", "signal", "threshold", "used", "events_limit") values ($1, date_trunc('month', now())::date, 'logs', 80, 1, 1) returning 1`, [t.orgId]],
      [`insert into "public"."billing_plans" ("id", "name", "organization_id", "base_price_cents") values ('mine', 'Mine', $1, 0) returning "id"`, [t.orgId]],
      [`insert into "public"."query_usage" ("organization_id", "project_id", "at", "kind", "rows") values ($1, $2, now(), 'logs', 0) returning 1`, [t.orgId, t.projectA]],
    ];
    for (const [sql, params] of tries) expect(await outcome(owner, sql, params), sql).toBe('42501');
    const [org] = await env.db.query<{ plan: string }>('select plan from public.organizations where id = $1', [t.orgId]);
    expect(org!.plan).not.toBe('enterprise');
  });

  it('a used token cannot be made to work again: accepted_at and expires_at are not user-writable', async () => {
    const invitee = await env.createUser();
    const { invitation, token } = await invite(t.people.owner, invitee.email);
    expect((await env.request('POST', `${ORGS}/invitations/accept`, { token: invitee.jwt, body: { token } })).status).toBe(200);
    for (const [sql, params] of [
      [`update public.invitations set accepted_at = null where id = $1 returning id`, [invitation.id]],
      [`update public.invitations set expires_at = now() + interval '1 year' where id = $1 returning id`, [invitation.id]],
      [`update public.invitations set email = 'someone@else.test' where id = $1 returning id`, [invitation.id]],
      [`update public.invitations set token_hash = repeat('a', 64) where id = $1 returning id`, [invitation.id]],
    ] as const) {
      expect(await outcome(t.people.owner, sql, [...params]), sql).toBe('42501');
    }
    expect((await readInvitation(invitation.id)).accepted_at).not.toBeNull();
    // Not even the service role re-opens it: the terms trigger holds for every role.
    await expect(env.db.query('update public.invitations set accepted_at = null where id = $1', [invitation.id])).rejects.toMatchObject({
      message: expect.stringContaining('stays accepted'),
    });
    await expect(env.db.query(`update public.invitations set role = 'owner' where id = $1`, [invitation.id])).rejects.toMatchObject({
      message: expect.stringContaining('cannot change'),
    });
  });

  it('revoking stays possible and one-way; the inviter is the signed-in user, whatever the insert says', async () => {
    const { invitation } = await invite(t.people.admin, 'later@example.test');
    expect(invitation.invitedBy).toBe(t.people.admin.id);
    expect((await env.request('POST', `${ORGS}/${t.orgId}/invitations/${invitation.id}/revoke`, { token: t.people.admin.jwt })).status).toBe(200);
    expect((await readInvitation(invitation.id)).revoked_at).not.toBeNull();
    await expect(env.db.query('update public.invitations set revoked_at = null where id = $1', [invitation.id])).rejects.toMatchObject({
      message: expect.stringContaining('stays revoked'),
    });
    expect(
      await outcome(
        t.people.admin,
        `insert into public.invitations (organization_id, email, role, token_hash, expires_at, invited_by) values ($1, 'x@example.test', 'member', repeat('d', 64), now() + interval '1 day', $2)`,
        [t.orgId, t.people.owner.id],
      ),
    ).toBe('42501');
    expect(
      await outcome(
        t.people.admin,
        `insert into public.invitations (organization_id, email, role, token_hash, expires_at, accepted_at) values ($1, 'x@example.test', 'member', repeat('e', 64), now() + interval '1 day', now())`,
        [t.orgId],
      ),
    ).toBe('42501');
  });
});

describe('tenancy rows keep their identity', () => {
  it.each([
    ['move a member into another organization', `update public.organization_members set organization_id = $2 where organization_id = $1 and user_id = $3`, 'other'],
    ['turn a member row into another user', `update public.organization_members set user_id = $2 where organization_id = $1 and user_id = $3`, 'user'],
    ['change an organization slug', `update public.organizations set slug = 'taken-over' where id = $1`, ''],
    ['backdate an organization', `update public.organizations set created_at = now() - interval '9 years' where id = $1`, ''],
    ['change a project slug', `update public.projects set slug = 'other' where organization_id = $1`, ''],
  ])('an owner cannot %s', async (_, sql, second) => {
    const params = second === 'other' ? [t.orgId, t.other.orgId, t.people.viewer.id] : second === 'user' ? [t.orgId, t.people.outsider.id, t.people.viewer.id] : [t.orgId];
    expect(await outcome(t.people.owner, sql, params)).toBe('42501');
  });
});

describe('api keys: created_by and rotated_from are facts, not inputs', () => {
  const insertKey = (extra: string, values: string, params: unknown[]) =>
    `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes${extra}) values ($1, $2, 'k', '${'Z'.repeat(11)}' || $3, repeat('c', 64), array['read']${values}) returning id, created_by, rotated_from`;

  it('created_by cannot be chosen; it is the inserting user', async () => {
    expect(await outcome(t.people.admin, insertKey(', created_by', ', $4', []), [t.orgId, t.projectA, 'a', t.people.owner.id])).toBe('42501');
    const [row] = await as(t.people.admin, (tx) => tx.query<{ created_by: string }>(insertKey('', '', []), [t.orgId, t.projectA, 'b']));
    expect(row!.created_by).toBe(t.people.admin.id);
    const res = await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'mine', scopes: ['read'] } });
    expect((await res.json()).apiKey.createdBy).toBe(t.people.owner.id);
  });

  it('rotated_from must name a key of the same project, with one answer for another tenant key and none', async () => {
    const foreign = await outcome(t.people.owner, insertKey(', rotated_from', ', $4', []), [t.orgId, t.projectA, 'c', t.other.keyId]);
    const nowhere = await outcome(t.people.owner, insertKey(', rotated_from', ', $4', []), [t.orgId, t.projectA, 'd', '00000000-0000-4000-8000-000000000000']);
    expect(foreign).toBe('OA400');
    expect(nowhere).toBe(foreign);
    const [own] = await as(t.people.owner, (tx) => tx.query<{ rotated_from: string }>(insertKey(', rotated_from', ', $4', []), [t.orgId, t.projectA, 'e', t.keyA.id]));
    expect(own!.rotated_from).toBe(t.keyA.id);
  });
});

describe('ingest limits: users lower them and raise them back to the ceiling; above it only the operator', () => {
  const put = (token: string, body: Record<string, unknown>) => env.request('PUT', '/functions/v1/metrics/limits', { token, body: { projectId: t.projectB, ...body } });

  it('refuses an owner above the ceiling, naming the limit, and lets the service role go above', async () => {
    const above = await put(t.people.owner.jwt, { requestsPerMinute: 1_000_000 });
    expect(above.status).toBe(403);
    expect((await above.json()).error.message).toMatch(/requests_per_minute 1000000 is above the ceiling of 6000/);
    expect((await put(t.people.admin.jwt, { maxSeries: 10_000_000 })).status).toBe(403);
    expect((await put(t.people.owner.jwt, { requestsPerMinute: 100 })).status).toBe(200);
    expect((await put(t.people.owner.jwt, { requestsPerMinute: 6000 })).status).toBe(200);
    const raised = await put(await env.serviceJwt(), { requestsPerMinute: 50_000 });
    expect(raised.status, await raised.clone().text()).toBe(200);
    expect((await raised.json()).limits.requestsPerMinute).toBe(50_000);
    // The owner changes another limit: the operator's grant stays; raising it further does not.
    const other = await put(t.people.owner.jwt, { maxSeries: 500 });
    expect(await other.json()).toMatchObject({ limits: { maxSeries: 500, requestsPerMinute: 50_000 } });
    expect((await put(t.people.owner.jwt, { requestsPerMinute: 50_001 })).status).toBe(403);
    expect((await put(t.people.owner.jwt, { requestsPerMinute: 20_000 })).status).toBe(200);
  });

  it('lets the operator raise a limit from a plain connection (psql, a migration: no JWT claims)', async () => {
    const [row] = await env.db.query<{ max_series: number }>(
      `insert into public.project_ingest_settings (project_id, organization_id, max_series) values ($1, $2, 100000)
       on conflict (project_id) do update set max_series = excluded.max_series returning max_series`,
      [t.other.projectId, t.other.orgId],
    );
    expect(row!.max_series).toBe(100_000);
  });
});

describe('statement timeout', () => {
  it('every user and key transaction is bounded unless the verb sets its own bound; jobs are not', async () => {
    const read = (claims: Claims, settings?: Record<string, string>) =>
      withClaims(env.db, claims, (tx) => tx.query<{ s: string }>(`select current_setting('statement_timeout') as s`), settings).then((r) => r[0]!.s);
    expect(await read(user(t.people.viewer))).toBe('15s');
    expect(await read({ role: 'authenticated', observai_key: { id: t.keyA.id, project_id: t.projectA, scopes: ['read'] } })).toBe('15s');
    expect(await read(user(t.people.viewer), { statement_timeout: '30s' })).toBe('30s');
    expect(await read({ role: 'service_role' })).toBe('0');
  });
});

describe("alerting: what the row policies allow is not every column (the Data API, as an owner would try it)", () => {
  const ids = { rule: '', silence: '', contactPoint: '', notification: '' };
  beforeAll(async () => {
    const q = <T>(sql: string, params: unknown[]) => env.db.query<T & { id: string }>(sql, params).then((r) => r[0]!.id);
    ids.rule = await q(
      `insert into public.alert_rules (project_id, organization_id, key, name, kind, query) values ($1, $2, 'cg', 'CG', 'anomaly', '{}') returning id`,
      [t.projectA, t.orgId],
    );
    ids.silence = await q(
      `insert into public.alert_silences (project_id, organization_id, matchers, starts_at, ends_at, comment)
       values ($1, $2, '[{"name":"a","op":"=","value":"b"}]', now() - interval '1 hour', now() + interval '1 hour', 'cg') returning id`,
      [t.projectA, t.orgId],
    );
    ids.contactPoint = await q(
      `insert into public.contact_points (project_id, organization_id, name, kind, settings, secret_ciphertext)
       values ($1, $2, 'cg', 'webhook', '{"url":"http://127.0.0.1:9"}', 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
      [t.projectA, t.orgId],
    );
    ids.notification = await q(
      `insert into public.alert_notifications (project_id, organization_id, contact_point_id, group_key, seq, receiver, payload, status)
       values ($1, $2, $3, 'g', 1, 'cg', '{}', 'failed') returning id`,
      [t.projectA, t.orgId, ids.contactPoint],
    );
    await env.db.query(`insert into public.notification_policies (project_id, organization_id, document, updated_by) values ($1, $2, '{}', $3)`, [
      t.projectA,
      t.orgId,
      t.people.admin.id,
    ]);
  });

  it.each([
    ['move a rule to another organization', `update public.alert_rules set organization_id = $2 where id = $1`, 'other'],
    ["write a rule's health (the evaluator's)", `update public.alert_rules set last_error = null, instances_over_cap = 0 where id = $1`, ''],
    ["change a silence's matchers (a new silence instead)", `update public.alert_silences set matchers = '[{"name":"x","op":"=","value":"y"}]' where id = $1`, ''],
    ["read a contact point's sealed secret", `select secret_ciphertext from public.contact_points where id = $1`, ''],
    // Its URLs may carry tokens: the API shows them in full to owners and admins, by origin to others.
    ["read a contact point's settings through the Data API", `select settings from public.contact_points where id = $1`, ''],
    ['mark a failed notification sent', `update public.alert_notifications set status = 'sent' where id = $1`, ''],
    ['write an alert instance', `insert into public.alert_instances (project_id, organization_id, source, fingerprint, labels, state, severity, active_at, last_eval_at) select project_id, organization_id, 'external', repeat('a', 32), '{}', 'firing', 'critical', now(), now() from public.alert_rules where id = $1`, ''],
    ['write alert history', `insert into public.alert_transitions (project_id, organization_id, fingerprint, labels, from_state, to_state, severity, at) select project_id, organization_id, 'x', '{}', 'inactive', 'firing', 'critical', now() from public.alert_rules where id = $1`, ''],
    ["choose a policy's last writer", `update public.notification_policies set updated_by = $2 where project_id = $1`, 'user'],
  ])('an owner cannot %s', async (_, sql, second) => {
    const target = sql.includes('alert_silences') ? ids.silence : sql.includes('contact_points') ? ids.contactPoint : sql.includes('alert_notifications') ? ids.notification : sql.includes('notification_policies') ? t.projectA : ids.rule;
    const params = second === 'other' ? [target, t.other.orgId] : second === 'user' ? [target, t.people.viewer.id] : [target];
    expect(await outcome(t.people.owner, sql, params)).toBe('42501');
  });

  it('a silence can be ended early, never extended; a policy records who last wrote it', async () => {
    expect(await outcome(t.people.owner, `update public.alert_silences set ends_at = ends_at + interval '1 day' where id = $1`, [ids.silence])).toBe('OA400');
    expect(await outcome(t.people.owner, `update public.alert_silences set ends_at = now() where id = $1`, [ids.silence])).toBe('ok');
    expect(await outcome(t.people.owner, `update public.notification_policies set document = '{"route":{}}' where project_id = $1`, [t.projectA])).toBe('ok');
    const [p] = await env.db.query<{ updated_by: string }>('select updated_by from public.notification_policies where project_id = $1', [t.projectA]);
    expect(p!.updated_by).toBe(t.people.owner.id);
  });
});

describe('webhooks: the secrets, the outbox and the delivery state are not the Data API\'s (as an owner would try it)', () => {
  const ids = { endpoint: '', event: '', message: '' };
  beforeAll(async () => {
    const [ep] = await env.db.query<{ id: string }>(
      `insert into public.webhook_endpoints (organization_id, project_id, url, event_types, secret_ciphertext, previous_secret_ciphertext, previous_secret_expires_at)
       values ($1, $2, 'http://127.0.0.1:9/hook', array['*'], 'v1.0123456789abcdef.aaaa.bbbb', 'v1.0123456789abcdef.cccc.dddd', now() + interval '1 hour') returning id`,
      [t.orgId, t.projectA],
    );
    ids.endpoint = ep!.id;
    const [ev] = await env.db.query<{ id: string }>(
      `insert into public.webhook_events (organization_id, project_id, type, payload) values ($1, $2, 'alert.firing', '{"type":"alert.firing","timestamp":"2026-12-06T00:00:00.000Z","data":{}}') returning id`,
      [t.orgId, t.projectA],
    );
    ids.event = ev!.id;
    const [m] = await env.db.query<{ id: string }>('select id from public.webhook_messages where event_id = $1 and endpoint_id = $2', [ids.event, ids.endpoint]);
    ids.message = m!.id;
    await env.db.query(`update public.webhook_messages set status = 'failed', attempts = 8 where id = $1`, [ids.message]);
  });

  it.each([
    ["read an endpoint's sealed secret", `select secret_ciphertext from public.webhook_endpoints where id = $1`],
    ["read an endpoint's rotated-out secret", `select previous_secret_ciphertext from public.webhook_endpoints where id = $1`],
    ["tell whether a secret is set (a predicate reads the column too)", `select id from public.webhook_endpoints where id = $1 and secret_ciphertext is not null`],
    ['copy the secret into the rotation slot (the API does that as the service role)', `update public.webhook_endpoints set previous_secret_ciphertext = secret_ciphertext where id = $1`],
    // Made and re-aimed only through the API, which checks the URL, the event types and the limit.
    ['add an endpoint', `insert into public.webhook_endpoints (organization_id, project_id, url, event_types, secret_ciphertext) select organization_id, project_id, 'https://x.example', '{*}', 'v1.0123456789abcdef.aaaa.bbbb' from public.webhook_endpoints where id = $1`],
    ["re-aim an endpoint's URL", `update public.webhook_endpoints set url = 'http://169.254.169.254/latest' where id = $1`],
    ["change an endpoint's event types", `update public.webhook_endpoints set event_types = '{bogus.type}' where id = $1`],
    ["keep a rotated-out secret signing past its grace period", `update public.webhook_endpoints set previous_secret_expires_at = now() + interval '10 years' where id = $1`],
    ["replace an endpoint's secret (only the API generates one)", `update public.webhook_endpoints set secret_ciphertext = 'v1.0123456789abcdef.eeee.ffff' where id = $1`],
    ["reset an endpoint's failure clock (the job's)", `update public.webhook_endpoints set failing_since = null where id = $1`],
    ['insert an endpoint already disabled (PATCH it instead)', `insert into public.webhook_endpoints (organization_id, project_id, url, event_types, secret_ciphertext, disabled_at) select organization_id, project_id, url, event_types, 'v1.0123456789abcdef.aaaa.bbbb', now() from public.webhook_endpoints where id = $1`],
    ['choose who created an endpoint', `update public.webhook_endpoints set created_by = null where id = $1`],
    ['move an endpoint to another project', `update public.webhook_endpoints set project_id = null where id = $1`],
    ['write an event into the outbox', `insert into public.webhook_events (organization_id, project_id, type, payload) select organization_id, project_id, 'webhook.test', '{}' from public.webhook_endpoints where id = $1`],
    ['queue a message', `insert into public.webhook_messages (endpoint_id, organization_id, event_id, event_type) select id, organization_id, (select id from public.webhook_events limit 1), 'alert.firing' from public.webhook_endpoints where id = $1`],
    ['mark a failed message delivered', `update public.webhook_messages set status = 'delivered' where endpoint_id = $1`],
    ['forge an attempt', `insert into public.webhook_attempts (message_id, endpoint_id, organization_id, attempt, started_at, duration_ms, ok) select m.id, m.endpoint_id, m.organization_id, 9, now(), 1, true from public.webhook_messages m where m.endpoint_id = $1`],
    ['delete a message', `delete from public.webhook_messages where endpoint_id = $1`],
  ])('an owner cannot %s', async (_, sql) => {
    expect(await outcome(t.people.owner, sql, [ids.endpoint])).toBe('42501');
  });

  it('what users may do, they may: read the endpoint and its messages, change its description; a viewer sees none of it', async () => {
    expect(await outcome(t.people.owner, `update public.webhook_endpoints set description = 'cg' where id = $1`, [ids.endpoint])).toBe('ok');
    const read = (p: Person) =>
      as(p, (tx) => tx.query<{ id: string }>('select m.id from public.webhook_messages m join public.webhook_endpoints e on e.id = m.endpoint_id where e.id = $1', [ids.endpoint]));
    expect(await read(t.people.owner)).toEqual([{ id: ids.message }]);
    expect(await read(t.people.viewer)).toEqual([]);
    const [m] = await env.db.query<{ status: string }>('select status from public.webhook_messages where id = $1', [ids.message]);
    expect(m!.status).toBe('failed');
  });
});

describe('incident response: what the API checks is not the Data API\'s (as an owner would try it)', () => {
  const ids = { policy: '', service: '' };
  beforeAll(async () => {
    const [p] = await env.db.query<{ id: string }>(
      `insert into public.escalation_policies (organization_id, name, document) values ($1, 'p', '{"levels": [{"delayMinutes": 0, "targets": [{"type": "user", "id": "u"}]}], "repeat": 0}') returning id`,
      [t.orgId],
    );
    ids.policy = p!.id;
    const [s] = await env.db.query<{ id: string }>(
      `insert into public.oncall_services (organization_id, project_id, name, escalation_policy_id, integration_key_hash) values ($1, $2, 's', $3, repeat('a', 64)) returning id`,
      [t.orgId, t.projectA, ids.policy],
    );
    ids.service = s!.id;
  });

  it.each([
    // The escalation job trusts the policies incidents snapshot: only the API, after validating, writes one.
    ['add an escalation policy', `insert into public.escalation_policies (organization_id, name, document) select organization_id, 'x', '{"levels": []}' from public.escalation_policies where id = $1`],
    ["replace a policy's document", `update public.escalation_policies set document = '{"levels": []}' where id = $1`],
    ["move a policy to another organization", `update public.escalation_policies set organization_id = gen_random_uuid() where id = $1`],
    // A service's routing key is generated by the API and shown once; its hash is never the user's.
    ["read a service's routing key hash", `select integration_key_hash from public.oncall_services where escalation_policy_id = $1`],
    ["replace a service's routing key", `update public.oncall_services set integration_key_hash = repeat('b', 64) where escalation_policy_id = $1`],
    ['move a service to another project', `update public.oncall_services set project_id = gen_random_uuid() where escalation_policy_id = $1`],
    ['add a service without the API', `insert into public.oncall_services (organization_id, project_id, name, integration_key_hash) select organization_id, project_id, 'y', repeat('c', 64) from public.oncall_services where escalation_policy_id = $1`],
    // Incidents and their timeline change only through the API's core.
    ['open an incident', `insert into public.incidents (organization_id, project_id, service_id, group_key, state, urgency) select organization_id, project_id, id, 'g', 'triggered', 'high' from public.oncall_services where escalation_policy_id = $1`],
    ['resolve incidents', `update public.incidents set state = 'resolved' where service_id in (select id from public.oncall_services where escalation_policy_id = $1)`],
    // A Slack app's signing secret is sealed by the API and read by nobody but the server.
    ["read a Slack app's signing secret", `select signing_secret_ciphertext from public.oncall_slack_apps where $1::uuid is not null`],
    ['replace a Slack app\'s signing secret', `update public.oncall_slack_apps set signing_secret_ciphertext = 'v1.0123456789abcdef.aaaa.bbbb' where $1::uuid is not null`],
    ["read a PagerDuty webhook's signing secret", `select signing_secret_ciphertext from public.oncall_pagerduty_webhooks where $1::uuid is not null`],
    // Maintenance windows hold paging: only the API, after authorizing an owner or admin, writes one.
    ['open a maintenance window without the API', `insert into public.maintenance_windows (organization_id, project_id, service_id, starts_at, ends_at)
      select organization_id, project_id, id, now(), now() + interval '1 hour' from public.oncall_services where escalation_policy_id = $1`],
    // The job trusts a person's rules: only the API, after validating them, writes them.
    ['save notification rules without the API', `insert into public.oncall_notification_rules (user_id, document) select auth.uid(), '{"methods": "x"}' where $1::uuid is not null`],
    ['record a page', `insert into public.incident_pages (incident_id, organization_id, project_id, page_key, cycle, round, level, recipient_type, recipient_id, target, urgency, paged_at)
      select i.id, i.organization_id, i.project_id, 'k', 1, 0, 1, 'user', 'u', '{}', 'high', now() from public.incidents i join public.oncall_services s on s.id = i.service_id where s.escalation_policy_id = $1`],
  ])('an owner cannot %s', async (_, sql) => {
    expect(await outcome(t.people.owner, sql, [ids.policy])).toBe('42501');
  });

  it('an owner may rename a policy and point a service at another of the organization\'s policies', async () => {
    expect(await outcome(t.people.owner, `update public.escalation_policies set name = 'renamed' where id = $1`, [ids.policy])).toBe('ok');
    expect(await outcome(t.people.owner, `update public.oncall_services set urgency = 'low', escalation_policy_id = $1 where id = $2`, [ids.policy, ids.service])).toBe('ok');
  });
});

describe('on-call schedules and feeds: what the API checks is not the Data API\'s (as an owner would try it)', () => {
  const ids = { schedule: '', feed: '' };
  beforeAll(async () => {
    const [s] = await env.db.query<{ id: string }>(
      `insert into public.oncall_schedules (organization_id, name, time_zone, document) values ($1, 's', 'UTC', '{"zone": "UTC", "layers": []}') returning id`,
      [t.orgId],
    );
    ids.schedule = s!.id;
    const [f] = await env.db.query<{ id: string }>(
      `insert into public.oncall_feed_tokens (organization_id, schedule_id, token_hash, created_by, revoked_at) values ($1, $2, repeat('a', 64), $3, now()) returning id`,
      [t.orgId, ids.schedule, t.people.owner.id],
    );
    ids.feed = f!.id;
  });

  it.each([
    // The escalation job trusts a schedule's document: only the API, after validating it, writes one.
    ["replace a schedule's document", `update public.oncall_schedules set document = '{"zone": "UTC", "layers": [{"id": "x"}]}' where id = $1`],
    ["change a schedule's zone", `update public.oncall_schedules set time_zone = 'Europe/London' where id = $1`],
    ['add a schedule without the API', `insert into public.oncall_schedules (organization_id, name, time_zone, document) select organization_id, 'x', 'UTC', document from public.oncall_schedules where id = $1`],
    // A feed's token is generated by the API and shown once; its hash is never the user's.
    ["read a feed's token hash", `select token_hash from public.oncall_feed_tokens where schedule_id = $1`],
    ['forge a feed token', `insert into public.oncall_feed_tokens (organization_id, schedule_id, token_hash) select organization_id, id, repeat('b', 64) from public.oncall_schedules where id = $1`],
    ["replace a feed's token", `update public.oncall_feed_tokens set token_hash = repeat('c', 64) where schedule_id = $1`],
  ])('an owner cannot %s', async (_, sql) => {
    expect(await outcome(t.people.owner, sql, [ids.schedule])).toBe('42501');
  });

  it('an owner may rename a schedule; a revoked feed stays revoked', async () => {
    expect(await outcome(t.people.owner, `update public.oncall_schedules set name = 'renamed' where id = $1`, [ids.schedule])).toBe('ok');
    expect(await outcome(t.people.owner, 'update public.oncall_feed_tokens set revoked_at = null where id = $1', [ids.feed])).toBe('OA403');
  });
});

describe('dashboards: the creator, the version and the tenancy are facts, not inputs (the Data API, as an owner would try it)', () => {
  let id = '';
  beforeAll(async () => {
    const [row] = await env.db.query<{ id: string }>(
      `insert into public.dashboards (project_id, organization_id, title, created_by) values ($1, $2, 'CG', $3) returning id`,
      [t.projectA, t.orgId, t.people.member.id],
    );
    id = row!.id;
  });

  it.each([
    ['move a dashboard to another organization', `update public.dashboards set organization_id = $2 where id = $1`, 'other'],
    ['move a dashboard to another project', `update public.dashboards set project_id = $2 where id = $1`, 'projectB'],
    ['take over a dashboard as its creator', `update public.dashboards set created_by = $2 where id = $1`, 'user'],
    ['set a version (optimistic concurrency is the trigger\'s)', `update public.dashboards set version = 1 where id = $1`, ''],
    ['backdate a dashboard', `update public.dashboards set created_at = now() - interval '1 year' where id = $1`, ''],
    ['insert a dashboard in a colleague\'s name', `insert into public.dashboards (project_id, organization_id, title, created_by) select project_id, organization_id, 'X', $2 from public.dashboards where id = $1`, 'user'],
  ])('an owner cannot %s', async (_, sql, second) => {
    const params = second === 'other' ? [id, t.other.orgId] : second === 'projectB' ? [id, t.projectB] : second === 'user' ? [id, t.people.viewer.id] : [id];
    expect(await outcome(t.people.owner, sql, params)).toBe('42501');
  });

  it('the database bounds what any path stores: 50 panels, a title', async () => {
    const panels = JSON.stringify(Array.from({ length: 51 }, () => ({})));
    expect(await outcome(t.people.owner, `update public.dashboards set panels = $2::jsonb where id = $1`, [id, panels])).toBe('23514');
    expect(await outcome(t.people.owner, `update public.dashboards set panels = '{}'::jsonb where id = $1`, [id])).toBe('23514');
    expect(await outcome(t.people.owner, `update public.dashboards set title = '' where id = $1`, [id])).toBe('23514');
    expect(await outcome(t.people.owner, `update public.dashboards set title = 'Fine' where id = $1`, [id])).toBe('ok');
  });
});
