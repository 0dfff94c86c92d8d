/**
 * Job runner invariants, with a fake clock:
 * - a run is recorded in job_runs with start, end, outcome and summary;
 * - while one runner holds a job's advisory lock, another run of it is recorded as skipped;
 * - a failing job is recorded as an error and does not throw;
 * - cleanup-retention deletes only what is past retention (boundaries exact), in bounded batches;
 * - the cron-<job> function runs a job for the service role only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/run-job.ts';
import type { Job } from '../../src/core/job.ts';
import { cleanupRetention } from '../../src/retention/cleanup-retention.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const NOW = '2026-06-01T12:00:00.000Z';
const DAY = 86_400_000;
const at = (offsetMs: number) => new Date(Date.parse(NOW) + offsetMs);

describe('jobs', () => {
  let env: TestEnv;
  let t: Tenant;
  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: NOW });
    t = await createTenant(env);
  });
  afterAll(async () => env?.close());

  const runs = (job: string) =>
    env.db.query<{ outcome: string; summary: Record<string, unknown>; error: string | null; started_at: Date; finished_at: Date | null }>(
      'select outcome, summary, error, started_at, finished_at from private.job_runs where job = $1 order by id',
      [job],
    );

  it('records a successful run with its summary', async () => {
    const job: Job = { name: 'test-ok', intervalSeconds: 60, lockKey: 1001, run: async (_deps, ctx) => ({ sawNow: ctx.now.toISOString(), budgetMs: ctx.budgetMs }) };
    const run = await runJob(env.deps, job);
    expect(run).toMatchObject({ job: 'test-ok', outcome: 'ok', startedAt: NOW, summary: { sawNow: NOW, budgetMs: 48_000 } });
    const [row] = await runs('test-ok');
    expect(row).toMatchObject({ outcome: 'ok', summary: { sawNow: NOW }, error: null });
    expect(row!.started_at.toISOString()).toBe(NOW);
  });

  it('records a failure as an error without throwing', async () => {
    const job: Job = { name: 'test-fail', intervalSeconds: 60, lockKey: 1002, run: async () => { throw new Error('boom'); } };
    const run = await runJob(env.deps, job);
    expect(run).toMatchObject({ outcome: 'error', error: 'boom' });
    expect(await runs('test-fail')).toEqual([expect.objectContaining({ outcome: 'error', error: 'boom' })]);
  });

  it('skips a run while another runner holds the lock', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const job: Job = { name: 'test-lock', intervalSeconds: 60, lockKey: 1003, run: async () => { started(); await gate; return { done: true }; } };
    const first = runJob(env.deps, job);
    await running;
    const second = await runJob(env.deps, job);
    expect(second.outcome).toBe('skipped');
    release();
    expect((await first).outcome).toBe('ok');
    expect((await runs('test-lock')).map((r) => r.outcome).sort()).toEqual(['ok', 'skipped']);
    // The lock is released afterwards.
    expect((await runJob(env.deps, job)).outcome).toBe('ok');
  });

  describe('cleanup-retention', () => {
    // [case, ended at (relative to now), expected to survive]
    const cases: Array<[string, number, boolean]> = [
      ['ended 31 days ago', -31 * DAY, false],
      ['ended exactly 30 days ago', -30 * DAY, true],
      ['ended 29 days ago', -29 * DAY, true],
      ['still pending (expires in the future)', 5 * DAY, true],
    ];
    it.each(cases)('invitation %s -> kept: %s', async (_, offset, kept) => {
      const [inv] = await env.db.query<{ id: string }>(
        `insert into public.invitations (organization_id, email, role, token_hash, expires_at, revoked_at)
         values ($1, 'r@example.test', 'viewer', encode(sha256(gen_random_uuid()::text::bytea), 'hex'), $2, $3) returning id`,
        [t.orgId, at(offset + DAY * 7), offset < 0 ? at(offset) : null],
      );
      await runJob(env.deps, cleanupRetention);
      expect(await env.db.query('select id from public.invitations where id = $1', [inv!.id])).toHaveLength(kept ? 1 : 0);
    });

    it('trims job history older than 30 days in batches and reports counts', async () => {
      await env.db.query(
        `insert into private.job_runs (job, started_at, finished_at, outcome)
         select 'old', $1::timestamptz, $1::timestamptz, 'ok' from generate_series(1, 5200)`,
        [at(-40 * DAY)],
      );
      await env.db.query(`insert into private.job_runs (job, started_at, finished_at, outcome) values ('recent', $1, $1, 'ok')`, [at(-29 * DAY)]);
      const run = await runJob(env.deps, cleanupRetention);
      expect(run.outcome).toBe('ok');
      expect(run.summary).toMatchObject({ deleted: { jobRuns: 5200 }, complete: true });
      expect(await runs('old')).toHaveLength(0);
      expect(await runs('recent')).toHaveLength(1);
    });

    it('deletes closed anomaly episodes and incidents 90 days after they ended, never open ones', async () => {
      const [series] = await env.db.query<{ id: string }>(
        `insert into public.metric_series (project_id, name, type, fingerprint) values ($1, 'anom.retention', 'gauge', 'fp-anom-retention') returning id`,
        [t.projectA],
      );
      // [label, status, ended (relative to now) or null while open, expected to survive]
      const rows: Array<[string, 'open' | 'closed', number | null, boolean]> = [
        ['closed 91 days ago', 'closed', -91 * DAY, false],
        ['closed exactly 90 days ago', 'closed', -90 * DAY, true],
        ['closed 10 days ago', 'closed', -10 * DAY, true],
        ['open for 200 days', 'open', null, true],
      ];
      const ids: Array<{ incident: string; episode: string; kept: boolean }> = [];
      for (const [label, status, ended, kept] of rows) {
        const [incident] = await env.db.query<{ id: string }>(
          `insert into public.anomaly_incidents (project_id, correlation_key, started_at, ended_at, status, member_count) values ($1, $2, $3, $4, $5, 1) returning id`,
          [t.projectA, label, at(-200 * DAY), ended === null ? null : at(ended), status],
        );
        const [episode] = await env.db.query<{ id: string }>(
          `insert into public.anomaly_episodes (project_id, series_id, metric, detector, started_at, ended_at, status, peak_score, peak_at, explanation, incident_id)
           values ($1, $2, 'anom.retention', 'ewma', $3, $4, $5, 0.9, $3, '{}', $6) returning id`,
          [t.projectA, series!.id, at(-200 * DAY), ended === null ? null : at(ended), status, incident!.id],
        );
        ids.push({ incident: incident!.id, episode: episode!.id, kept });
      }
      const run = await runJob(env.deps, cleanupRetention);
      expect(run.summary).toMatchObject({ deleted: { anomalyEpisodes: 1, anomalyIncidents: 1 }, complete: true });
      for (const { incident, episode, kept } of ids) {
        expect(await env.db.query('select 1 from public.anomaly_incidents where id = $1', [incident])).toHaveLength(kept ? 1 : 0);
        expect(await env.db.query('select 1 from public.anomaly_episodes where id = $1', [episode])).toHaveLength(kept ? 1 : 0);
      }
    });

    it('stops at its budget and finishes on the next run', async () => {
      await env.db.query(
        `insert into private.job_runs (job, started_at, finished_at, outcome)
         select 'old2', $1::timestamptz, $1::timestamptz, 'ok' from generate_series(1, 6000)`,
        [at(-40 * DAY)],
      );
      const partial = await runJob(env.deps, cleanupRetention, { budgetMs: 0 });
      expect(partial.summary).toMatchObject({ complete: false });
      const rest = await runJob(env.deps, cleanupRetention);
      expect(rest.summary).toMatchObject({ complete: true });
      expect(await runs('old2')).toHaveLength(0);
    });
  });

  describe('cron-cleanup-retention function', () => {
    it('runs the job for the service role and returns the run', async () => {
      const res = await env.request('POST', '/functions/v1/cron-cleanup-retention', { token: await env.serviceJwt() });
      expect(res.status).toBe(200);
      expect((await res.json()).run).toMatchObject({ job: 'cleanup-retention', outcome: 'ok' });
    });
    it('refuses users, API keys and anonymous callers', async () => {
      expect((await env.request('POST', '/functions/v1/cron-cleanup-retention', { token: t.people.owner.jwt })).status).toBe(403);
      expect((await env.request('POST', '/functions/v1/cron-cleanup-retention', { apiKey: t.keyA.secret })).status).toBe(403);
      expect((await env.request('POST', '/functions/v1/cron-cleanup-retention')).status).toBe(401);
    });
    it('runs the anomaly scanner through cron-detect-anomalies', async () => {
      const res = await env.request('POST', '/functions/v1/cron-detect-anomalies', { token: await env.serviceJwt() });
      expect(res.status).toBe(200);
      expect((await res.json()).run).toMatchObject({ job: 'detect-anomalies', outcome: 'ok' });
    });
  });
});
