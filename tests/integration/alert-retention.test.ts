/**
 * Retention of alerting's logs (cleanup-retention): finished notifications older than 30 days go
 * with their attempts, one still to be sent stays whatever its age; alert history (transitions)
 * older than 90 days goes. Newer rows stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/run-job.ts';
import { cleanupRetention } from '../../src/retention/cleanup-retention.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

describe('alerting retention', () => {
  let env: TestEnv;
  let t: Tenant;

  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
  });
  afterAll(async () => env?.close());

  it('removes finished notifications after 30 days (with their attempts) and history after 90, never what is still to be sent', async () => {
    const [cp] = await env.db.query<{ id: string }>(
      `insert into public.contact_points (project_id, organization_id, name, kind, settings) values ($1, $2, 'ops', 'webhook', '{"url": "https://hooks.example.com/x"}') returning id`,
      [t.projectA, t.orgId],
    );
    const notification = async (status: string, days: number, seq: number) => {
      const [n] = await env.db.query<{ id: string }>(
        `insert into public.alert_notifications (project_id, organization_id, contact_point_id, group_key, seq, receiver, payload, status, created_at)
         values ($1, $2, $3, 'g', $4, 'ops', '{}', $5, now() - make_interval(days => $6)) returning id`,
        [t.projectA, t.orgId, cp!.id, seq, status, days],
      );
      await env.db.query(
        `insert into public.alert_notification_attempts (notification_id, project_id, organization_id, attempt, started_at, duration_ms, ok) values ($1, $2, $3, 1, now(), 5, true)`,
        [n!.id, t.projectA, t.orgId],
      );
      return n!.id;
    };
    const oldSent = await notification('sent', 31, 1);
    const oldFailed = await notification('failed', 40, 2);
    const oldPending = await notification('pending', 31, 3);
    const recent = await notification('sent', 29, 4);
    const transition = (days: number) =>
      env.db.query<{ id: string }>(
        `insert into public.alert_transitions (project_id, organization_id, fingerprint, labels, from_state, to_state, severity, at)
         values ($1, $2, 'fp', '{}', 'pending', 'firing', 'critical', now() - make_interval(days => $3)) returning id`,
        [t.projectA, t.orgId, days],
      );
    const [oldHistory] = await transition(91);
    const [keptHistory] = await transition(89);

    const run = await runJob(env.deps, cleanupRetention, { budgetMs: 60_000 });
    expect(run.outcome, run.error ?? '').toBe('ok');
    expect(run.summary).toMatchObject({ deleted: { alertNotifications: 2, alertHistory: 1 } });
    const left = (await env.db.query<{ id: string }>('select id from public.alert_notifications order by seq')).map((r) => r.id);
    expect(left).toEqual([oldPending, recent]);
    expect(left).not.toContain(oldSent);
    expect(left).not.toContain(oldFailed);
    const attempts = await env.db.query<{ notification_id: string }>('select notification_id from public.alert_notification_attempts order by notification_id');
    expect(attempts.map((a) => a.notification_id).sort()).toEqual([oldPending, recent].sort());
    const history = (await env.db.query<{ id: string }>('select id from public.alert_transitions')).map((r) => String(r.id));
    expect(history).toEqual([String(keptHistory!.id)]);
    expect(history).not.toContain(String(oldHistory!.id));
  });

  it('removes resolved incidents 400 days after their resolution (with their timeline) and maintenance windows 90 days after they ended; open ones stay', async () => {
    const [svc] = await env.db.query<{ id: string }>(
      `insert into public.oncall_services (organization_id, project_id, name, integration_key_hash) values ($1, $2, 'retention', repeat('e', 64)) returning id`,
      [t.orgId, t.projectA],
    );
    const incident = async (key: string, state: string, resolvedDaysAgo: number | null) => {
      const [i] = await env.db.query<{ id: string }>(
        `insert into public.incidents (organization_id, project_id, service_id, group_key, title, urgency, state, escalation, resolved_at, created_at)
         values ($1, $2, $3, $4, 't', 'high', $5, '{"cycle": 0, "cycleStartedAt": null, "nextStep": 0, "nextAt": null, "ackExpiresAt": null}',
           case when $6::int is null then null else now() - make_interval(days => $6::int) end, now() - interval '500 days') returning id`,
        [t.orgId, t.projectA, svc!.id, key, state, resolvedDaysAgo],
      );
      await env.db.query(`insert into public.incident_timeline (incident_id, organization_id, project_id, at, kind) values ($1, $2, $3, now(), 'opened')`, [i!.id, t.orgId, t.projectA]);
      return i!.id;
    };
    const old = await incident('old', 'resolved', 401);
    const kept = await incident('kept', 'resolved', 399);
    const open = await incident('open', 'triggered', null);
    const windowEnded = (days: number) =>
      env.db.query<{ id: string }>(
        `insert into public.maintenance_windows (organization_id, project_id, service_id, starts_at, ends_at)
         values ($1, $2, $3, now() - make_interval(days => $4 + 1), now() - make_interval(days => $4)) returning id`,
        [t.orgId, t.projectA, svc!.id, days],
      );
    await windowEnded(91);
    const [recentWindow] = await windowEnded(89);

    const run = await runJob(env.deps, cleanupRetention, { budgetMs: 60_000 });
    expect(run.outcome, run.error ?? '').toBe('ok');
    expect(run.summary).toMatchObject({ deleted: { incidents: 1, maintenanceWindows: 1 } });
    const left = (await env.db.query<{ id: string }>('select id from public.incidents where service_id = $1', [svc!.id])).map((r) => r.id);
    expect(left.sort()).toEqual([kept, open].sort());
    expect(await env.db.query('select 1 from public.incident_timeline where incident_id = $1', [old])).toHaveLength(0);
    expect((await env.db.query<{ id: string }>('select id from public.maintenance_windows where service_id = $1', [svc!.id])).map((r) => r.id)).toEqual([recentWindow!.id]);
  });
});
