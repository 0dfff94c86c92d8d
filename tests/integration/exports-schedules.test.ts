/**
 * Export schedules against a real S3 server (tests/helpers/exports-env.ts, with two days of
 * telemetry): a daily schedule makes yesterday's run once per completed day however often the job
 * runs, who may set and remove one, disabling it, its audit trail, and no response carrying the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTelemetry } from '../../src/exports/export-telemetry.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import type { NodeDeps } from '../../src/node/deps.ts';
import type { TestEnv } from '../helpers/env.ts';
import { type Clock, createExportsEnv, DAY2, type ExportsEnv, field, type Json, NOW, SECRET } from '../helpers/exports-env.ts';
import type { Tenant } from '../helpers/tenant.ts';

describe('exports to S3-compatible storage', () => {
  let x: ExportsEnv;
  let env: TestEnv;
  let clock: Clock;
  let deps: NodeDeps;
  let t: Tenant;
  let bodies: string[];
  let call: ExportsEnv['call'];
  let listKeys: ExportsEnv['listKeys'];
  let sourceLogs: ExportsEnv['sourceLogs'];
  let destinationBody: ExportsEnv['destinationBody'];
  beforeAll(async () => {
    x = await createExportsEnv({ telemetry: true });
    ({ env, clock, deps, t, bodies, call, listKeys, sourceLogs, destinationBody } = x);
  }, 180_000);
  afterAll(async () => x?.close());

  describe('schedules', () => {
    it('creates yesterday\'s run once per completed day, however often the job runs', async () => {
      clock.set(NOW);
      const dest = (await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'sched', bucket: 'exports-sched', prefix: 'daily' }) })).body
        .destination as Json;
      expect((await call('PUT', '/schedules', { as: t.people.member, body: { destinationId: dest.id, signal: 'logs' } })).status).toBe(403);
      expect((await call('PUT', '/schedules', { as: t.people.outsider, body: { destinationId: dest.id, signal: 'logs' } })).status).toBe(404);
      expect(field((await call('PUT', '/schedules', { as: t.people.owner, body: { destinationId: dest.id, signal: 'traces' } })).body)).toBe('body.signal');
      const put = await call('PUT', '/schedules', { as: t.people.owner, body: { destinationId: dest.id, signal: 'logs', rowsPerFile: 1000 } });
      expect(put.status).toBe(200);
      const schedule = put.body.schedule as Json;
      expect(schedule).toMatchObject({ signal: 'logs', enabled: true, startDay: DAY2, lastScheduledDay: null, rowsPerFile: 1000 });
      // The same PUT again changes it in place.
      const again = await call('PUT', '/schedules', { as: t.people.owner, body: { destinationId: dest.id, signal: 'logs', rowsPerFile: 1000 } });
      expect((again.body.schedule as Json).id).toBe(schedule.id);
      expect((await call('GET', `/schedules?projectId=${t.projectA}`, { as: t.people.viewer })).body.schedules).toEqual([expect.objectContaining({ id: schedule.id })]);

      const runsOf = () =>
        env.db.query<{ from_time: Date; to_time: Date; status: string; row_count: string }>(
          'select from_time, to_time, status, row_count::text as row_count from public.export_runs where schedule_id = $1 order by from_time',
          [schedule.id],
        );
      expect((await runJob(deps, exportTelemetry)).summary).toMatchObject({ scheduledRuns: 1 });
      expect((await runJob(deps, exportTelemetry)).summary).toMatchObject({ scheduledRuns: 0 });
      let runs = await runsOf();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ from_time: new Date(`${DAY2}T00:00:00Z`), to_time: new Date('2026-03-10T00:00:00Z'), status: 'succeeded' });
      expect(Number(runs[0]!.row_count)).toBe((await sourceLogs(`${DAY2}T00:00:00Z`, '2026-03-10T00:00:00Z')).length);
      expect(await listKeys('exports-sched', `daily/${t.projectA}/logs/dt=${DAY2}/`)).toHaveLength(1);

      // The next day is complete 30 minutes after midnight, not before.
      clock.set('2026-03-11T00:10:00Z');
      await runJob(deps, exportTelemetry);
      expect(await runsOf()).toHaveLength(1);
      clock.set('2026-03-11T00:45:00Z');
      await runJob(deps, exportTelemetry);
      await runJob(deps, exportTelemetry);
      runs = await runsOf();
      expect(runs.map((r) => r.from_time.toISOString())).toEqual([`${DAY2}T00:00:00.000Z`, '2026-03-10T00:00:00.000Z']);
      const [row] = await env.db.query<{ last_scheduled_day: string }>('select last_scheduled_day::text from public.export_schedules where id = $1', [schedule.id]);
      expect(row!.last_scheduled_day).toBe('2026-03-10');

      // Disabled: no more runs; deleting it is audited like every change.
      const off = await call('PUT', '/schedules', { as: t.people.admin, body: { destinationId: dest.id, signal: 'logs', enabled: false } });
      expect(off.body.schedule).toMatchObject({ enabled: false });
      clock.set('2026-03-12T06:00:00Z');
      await runJob(deps, exportTelemetry);
      expect(await runsOf()).toHaveLength(2);
      expect((await call('DELETE', `/schedules/${schedule.id}`, { as: t.people.viewer })).status).toBe(403);
      expect((await call('DELETE', `/schedules/${schedule.id}`, { as: t.people.owner })).status).toBe(204);
      const actions = await env.db.query<{ action: string }>('select action from public.audit_log where target_id = $1 order by id', [schedule.id]);
      // The PUT that changed nothing is not a change.
      expect(actions.map((a) => a.action)).toEqual(['export_schedule.created', 'export_schedule.changed', 'export_schedule.deleted']);
      clock.set(NOW);
    });
  });

  // Over this file's responses only; destination views (the responses that would carry it) among them.
  it('never returned the secret in any response', () => {
    expect(bodies.length).toBeGreaterThan(8);
    expect(bodies.some((b) => b.includes('"accessKeyId":"S3RVER"'))).toBe(true);
    for (const body of bodies) expect(body).not.toContain(SECRET);
  });
});
