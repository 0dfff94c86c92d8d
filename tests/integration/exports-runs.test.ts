/**
 * Export runs end to end against a real S3 server (tests/helpers/exports-env.ts): two days of
 * telemetry sent through the real ingest endpoint, runs requested over HTTP and executed by the
 * export-telemetry job, the objects listed, downloaded, gunzipped and compared field by field with
 * the source rows. Failures are real too: the helper's proxy in front of s3rver stores a part but
 * answers 500, as when an acknowledgement is lost, and the retried run must still hold every row
 * exactly once. Also: filters, resuming with no time budget, bad input, who may request and read
 * runs, the state guard, the cron function, and no response carrying the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlState } from '../../src/core/errors.ts';
import { exportTelemetry } from '../../src/exports/export-telemetry.ts';
import { RETRY_BASE_MS } from '../../src/exports/run-export.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import type { NodeDeps } from '../../src/node/deps.ts';
import type { TestEnv } from '../helpers/env.ts';
import {
  type Clock,
  createExportsEnv,
  DAY1,
  DAY2,
  type ExportsEnv,
  type FlakyProxy,
  field,
  type Json,
  LOGS_PER_DAY,
  NOW,
  SECRET,
  SPANS_PER_DAY,
} from '../helpers/exports-env.ts';
import type { Tenant } from '../helpers/tenant.ts';

describe('exports to S3-compatible storage', () => {
  let x: ExportsEnv;
  let env: TestEnv;
  let clock: Clock;
  let deps: NodeDeps;
  let app: ExportsEnv['app'];
  let t: Tenant;
  let proxy: FlakyProxy;
  let bodies: string[];
  let token: ExportsEnv['token'];
  let call: ExportsEnv['call'];
  let listKeys: ExportsEnv['listKeys'];
  let download: ExportsEnv['download'];
  let readParts: ExportsEnv['readParts'];
  let sourceLogs: ExportsEnv['sourceLogs'];
  let sourceSpans: ExportsEnv['sourceSpans'];
  let destinationBody: ExportsEnv['destinationBody'];
  beforeAll(async () => {
    x = await createExportsEnv({ telemetry: true });
    ({ env, clock, deps, app, t, proxy, bodies, token, call, listKeys, download, readParts, sourceLogs, sourceSpans, destinationBody } = x);
  }, 180_000);
  afterAll(async () => x?.close());

  describe('runs', () => {
    let main: Json;
    let flaky: Json;
    beforeAll(async () => {
      clock.set(NOW);
      main = (await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'main', bucket: 'exports-main', prefix: 'runs' }) })).body
        .destination as Json;
      flaky = (await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'flaky', endpoint: proxy.url, bucket: 'exports-flaky', prefix: '' }) }))
        .body.destination as Json;
      expect(main.id).toBeDefined();
      expect(flaky.id).toBeDefined();
    });

    async function settle() {
      await env.deps.settle();
    }

    it('exports two days of logs: parts per day, rows identical to the source in every field, a BigQuery schema that matches', async () => {
      clock.set(NOW);
      const full = await call('POST', '', {
        as: t.people.owner,
        body: { destinationId: main.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: `2026-03-10T00:00:00Z`, rowsPerFile: 100 },
      });
      expect(full.status).toBe(202);
      const queued = full.body.export as Json;
      expect(queued).toMatchObject({ status: 'queued', signal: 'logs', rows: 0, files: [], projectId: t.projectA, requestedBy: t.people.owner.id });
      await settle();
      const done = (await call('GET', `/${queued.id}`, { as: t.people.viewer })).body.export as Json;
      const expected = await sourceLogs(`${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z');
      expect(expected).toHaveLength(2 * LOGS_PER_DAY + 2);
      expect(done).toMatchObject({ status: 'succeeded', rows: expected.length, attempts: 1, error: null });
      // 250 rows a day in parts of 100: three parts per day (the OTLP row and the last-microsecond row make day 2's last part 52).
      const files = done.files as string[];
      const prefix = `runs/${t.projectA}/logs`;
      expect(files).toEqual([
        `${prefix}/dt=${DAY1}/part-00000-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY1}/part-00001-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY1}/part-00002-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY2}/part-00000-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY2}/part-00001-${queued.id}.ndjson.gz`,
        `${prefix}/dt=${DAY2}/part-00002-${queued.id}.ndjson.gz`,
      ]);
      const objects = await listKeys('exports-main', `${prefix}/`);
      expect(objects.filter((k) => k.includes(String(queued.id)))).toEqual([...files].sort());
      const exported = await readParts('exports-main', files);
      expect(exported).toEqual(expected);
      expect(exported.find((r) => r.service === 'micro')!.time).toBe(`${DAY2}T23:59:59.999999Z`);
      expect(exported.find((r) => r.message === 'otlp error')).toMatchObject({ severity_number: 17, level: 'error', resource: { 'host.name': 'h1', 'service.name': 'otel-svc' } });
      // Each part holds rows of its own day only.
      for (const key of files) {
        const rows = await readParts('exports-main', [key]);
        expect(rows.every((r) => String(r.time).startsWith(key.match(/dt=([\d-]+)/)![1]!))).toBe(true);
      }
      const totalBytes = (await Promise.all(files.map((k) => download('exports-main', k)))).reduce((n, b) => n + b.length, 0);
      expect(done.bytes).toBe(totalBytes);
      // The schema file names exactly the NDJSON keys, in order, with BigQuery types.
      const schema = JSON.parse((await download('exports-main', `${prefix}/_schema.json`)).toString('utf8')) as Array<{ name: string; type: string; mode: string }>;
      for (const row of exported) expect(Object.keys(row)).toEqual(schema.map((f) => f.name));
      expect(Object.fromEntries(schema.map((f) => [f.name, f.type]))).toEqual({
        id: 'INT64',
        project_id: 'STRING',
        time: 'TIMESTAMP',
        level: 'STRING',
        severity_number: 'INT64',
        service: 'STRING',
        message: 'STRING',
        attributes: 'JSON',
        resource: 'JSON',
        trace_id: 'STRING',
        span_id: 'STRING',
      });
    });

    it('a filter narrows the rows (level and service)', async () => {
      clock.set(NOW);
      const res = await call('POST', '', {
        as: t.people.owner,
        body: { destinationId: main.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: `${DAY1}T12:00:00Z`, filter: { level: ['error', 'warn'], service: ['billing'] } },
      });
      expect(res.status).toBe(202);
      await settle();
      const done = (await call('GET', `/${(res.body.export as Json).id}`, { as: t.people.owner })).body.export as Json;
      const expected = (await sourceLogs(`${DAY1}T00:00:00Z`, `${DAY1}T12:00:00Z`)).filter((r) => ['error', 'warn'].includes(String(r.level)) && r.service === 'billing');
      expect(expected.length).toBeGreaterThan(0);
      expect(done).toMatchObject({ status: 'succeeded', rows: expected.length });
      expect(await readParts('exports-main', done.files as string[])).toEqual(expected);
    });

    it('a part stored but not acknowledged fails the run; the retry resumes from the cursor and writes every row exactly once', async () => {
      clock.set(NOW);
      proxy.partPuts = 0;
      proxy.failPartsAfter = 1;
      const res = await call('POST', '', {
        as: t.people.member,
        body: { destinationId: flaky.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: '2026-03-10T00:00:00Z', rowsPerFile: 100 },
      });
      expect(res.status).toBe(202);
      const id = (res.body.export as Json).id as string;
      await settle();
      const failed = (await call('GET', `/${id}`, { as: t.people.member })).body.export as Json;
      expect(failed).toMatchObject({ status: 'failed', rows: 100, attempts: 1, progress: { day: DAY1, nextPart: 1 } });
      expect(failed.files).toEqual([`${t.projectA}/logs/dt=${DAY1}/part-00000-${id}.ndjson.gz`]);
      expect(String(failed.error)).toMatch(/InternalError/);
      expect(Date.parse(String(failed.nextAttemptAt))).toBe(Date.parse(NOW) + RETRY_BASE_MS);
      // The second part reached the bucket even though the run never learned it did.
      const partsInBucket = (await listKeys('exports-flaky', `${t.projectA}/logs/`)).filter((k) => k.includes(id));
      expect(partsInBucket).toEqual([`${t.projectA}/logs/dt=${DAY1}/part-00000-${id}.ndjson.gz`, `${t.projectA}/logs/dt=${DAY1}/part-00001-${id}.ndjson.gz`]);

      // Only failed runs can be retried, and only by those who may change the project.
      expect((await call('POST', `/${id}/retry`, { as: t.people.viewer })).status).toBe(403);
      expect((await call('POST', `/${id}/retry`, { as: t.people.outsider })).status).toBe(404);
      proxy.failPartsAfter = Number.POSITIVE_INFINITY;
      const retried = await call('POST', `/${id}/retry`, { as: t.people.member });
      expect(retried.status).toBe(202);
      expect(retried.body.export).toMatchObject({ status: 'queued', error: null, nextAttemptAt: null });
      await settle();
      const done = (await call('GET', `/${id}`, { as: t.people.member })).body.export as Json;
      expect(done).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
      const files = done.files as string[];
      expect(files).toHaveLength(6);
      expect(new Set(files).size).toBe(6);
      // Part 1 was rewritten under the same key: the bucket holds exactly the run's files, no strays.
      expect((await listKeys('exports-flaky', `${t.projectA}/logs/`)).filter((k) => k.includes(id))).toEqual([...files].sort());
      const expected = await sourceLogs(`${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z');
      const exported = await readParts('exports-flaky', files);
      expect(exported).toEqual(expected);
      expect(done.rows).toBe(expected.length);
      expect(new Set(exported.map((r) => r.id)).size).toBe(expected.length);
      expect((await call('POST', `/${id}/retry`, { as: t.people.member })).status).toBe(409);
    });

    it('spans: a failed run is retried by the job after its backoff and matches the source exactly', async () => {
      clock.set(NOW);
      proxy.partPuts = 0;
      proxy.failPartsAfter = 0;
      const res = await call('POST', '', {
        as: t.people.admin,
        body: { destinationId: flaky.id, signal: 'spans', from: `${DAY1}T00:00:00Z`, to: '2026-03-10T00:00:00Z', rowsPerFile: 100 },
      });
      const id = (res.body.export as Json).id as string;
      await settle();
      expect((await call('GET', `/${id}`, { as: t.people.admin })).body.export).toMatchObject({ status: 'failed', attempts: 1, rows: 0, files: [] });
      proxy.failPartsAfter = Number.POSITIVE_INFINITY;
      // Not due yet: the job leaves it alone.
      expect((await runJob(deps, exportTelemetry)).summary).toMatchObject({ succeeded: 0, failed: 0 });
      clock.set(new Date(Date.parse(NOW) + RETRY_BASE_MS));
      const run = await runJob(deps, exportTelemetry);
      expect(run).toMatchObject({ outcome: 'ok', summary: { succeeded: 1, failed: 0 } });
      clock.set(NOW);
      const done = (await call('GET', `/${id}`, { as: t.people.admin })).body.export as Json;
      expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
      const expected = await sourceSpans(`${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z');
      expect(expected).toHaveLength(2 * SPANS_PER_DAY + 1);
      const files = done.files as string[];
      expect(files.map((k) => k.replace(id, 'ID'))).toEqual([
        `${t.projectA}/spans/dt=${DAY1}/part-00000-ID.ndjson.gz`,
        `${t.projectA}/spans/dt=${DAY1}/part-00001-ID.ndjson.gz`,
        `${t.projectA}/spans/dt=${DAY2}/part-00000-ID.ndjson.gz`,
        `${t.projectA}/spans/dt=${DAY2}/part-00001-ID.ndjson.gz`,
      ]);
      const exported = await readParts('exports-flaky', files);
      expect(exported).toEqual(expected);
      const linked = exported.find((r) => r.name === 'linked')!;
      expect(linked).toMatchObject({ kind: 'client', resource: { 'host.name': 'h1' }, links: [expect.objectContaining({ traceId: 'ef'.repeat(16) })] });
      const schema = JSON.parse((await download('exports-flaky', `${t.projectA}/spans/_schema.json`)).toString('utf8')) as Array<{ name: string; type: string }>;
      for (const row of exported) expect(Object.keys(row)).toEqual(schema.map((f) => f.name));
      expect(schema.filter((f) => f.type === 'JSON').map((f) => f.name)).toEqual(['attributes', 'resource', 'events', 'links']);
      expect(schema.filter((f) => f.type === 'TIMESTAMP').map((f) => f.name)).toEqual(['start_time', 'end_time']);
    });

    it('with no time budget each job invocation writes one part and the next resumes from the cursor', async () => {
      clock.set(NOW);
      // Queued directly (as a schedule would), so no request kicks the job.
      const [row] = await env.db.query<{ id: string }>(
        `insert into public.export_runs (project_id, organization_id, destination_id, signal, from_time, to_time, rows_per_file)
         values ($1, $2, $3, 'logs', $4, $5, 100) returning id`,
        [t.projectA, t.orgId, main.id, `${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z'],
      );
      const seen: number[] = [];
      for (let i = 0; i < 10; i++) {
        const run = await runJob(deps, exportTelemetry, { budgetMs: 0 });
        expect(run.outcome).toBe('ok');
        const view = (await call('GET', `/${row!.id}`, { as: t.people.owner })).body.export as Json;
        seen.push((view.files as string[]).length);
        if (view.status === 'succeeded') break;
        expect(view.status).toBe('running');
      }
      // One part per invocation, then one more to find nothing left.
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 6]);
      const done = (await call('GET', `/${row!.id}`, { as: t.people.owner })).body.export as Json;
      expect(await readParts('exports-main', done.files as string[])).toEqual(await sourceLogs(`${DAY1}T00:00:00Z`, '2026-03-10T00:00:00Z'));
      expect(done.attempts).toBe(1);
    });

    it.each([
      // body change, field named by the 400
      [{ from: `${DAY2}T00:00:00Z`, to: `${DAY1}T00:00:00Z` }, 'body.to'],
      [{ signal: 'metrics' }, 'body.signal'],
      [{ from: '2026-01-01T00:00:00Z', to: '2026-02-15T00:00:00Z' }, 'body.to'],
      [{ to: '2026-03-11T00:00:00Z' }, 'body.to'],
      [{ signal: 'spans', filter: { level: ['error'] } }, 'body.filter.level'],
      [{ filter: { level: ['loud'] } }, 'body.filter.level.0'],
      [{ destinationId: 'not-a-uuid' }, 'body.destinationId'],
      [{ from: 'yesterday' }, 'body.from'],
    ])('bad input is a 400 naming the field: %j', async (over, name) => {
      clock.set(NOW);
      const body = { destinationId: main.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: `${DAY2}T00:00:00Z`, ...over };
      const res = await call('POST', '', { as: t.people.owner, body });
      expect(res.status).toBe(400);
      expect(field(res.body)).toBe(name);
    });

    it('who may request and read runs', async () => {
      clock.set(NOW);
      const body = { destinationId: main.id, signal: 'logs', from: `${DAY1}T00:00:00Z`, to: `${DAY1}T01:00:00Z` };
      expect((await call('POST', '', { as: t.people.viewer, body })).status).toBe(403);
      expect((await call('POST', '', { as: t.people.unassigned, body })).status).toBe(404);
      expect((await call('POST', '', { as: t.people.outsider, body })).status).toBe(404);
      expect((await call('POST', '', { as: t.people.owner, body: { ...body, projectId: t.projectB } })).status).toBe(404);
      expect((await call('POST', '', { apiKey: t.keyA.secret, body })).status).toBe(403);
      const mine = await call('POST', '', { as: t.people.member, body });
      expect(mine.status).toBe(202);
      await settle();
      const id = (mine.body.export as Json).id;
      expect((await call('GET', `/${id}`, { as: t.people.outsider })).status).toBe(404);
      expect((await call('GET', `/${id}`, { as: t.people.unassigned })).status).toBe(404);
      const listed = await call('GET', `?projectId=${t.projectA}&signal=logs`, { apiKey: t.keyA.secret });
      expect(listed.status).toBe(200);
      expect((listed.body.exports as Json[]).map((r) => r.id)).toContain(id);
      expect((await call('GET', '', { as: t.people.outsider })).body.exports).toEqual([]);
      const audit = await env.db.query<{ actor_id: string }>(`select actor_id from public.audit_log where action = 'export.requested' and target_id = $1`, [id]);
      expect(audit).toEqual([{ actor_id: t.people.member.id }]);
    });

    it('users cannot move a run along themselves: only failed -> queued', async () => {
      const [r] = await env.db.query<{ id: string }>(`select id from public.export_runs where status = 'succeeded' and project_id = $1 limit 1`, [t.projectA]);
      const outcome = await env.db
        .transaction(async (tx) => {
          await tx.query('set local role authenticated');
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub: t.people.owner.id })]);
          return tx.query(`update public.export_runs set status = 'queued' where id = $1 returning id`, [r!.id]);
        })
        .catch((err) => sqlState(err));
      expect(outcome).toBe('OA409');
    });

    it('the cron function runs the job for the service role only', async () => {
      clock.set(NOW);
      const res = await app.request('/functions/v1/cron-export-telemetry', { method: 'POST', headers: { authorization: `Bearer ${await env.serviceJwt()}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { run: Json }).run).toMatchObject({ job: 'export-telemetry', outcome: 'ok' });
      const asOwner = await app.request('/functions/v1/cron-export-telemetry', { method: 'POST', headers: { authorization: `Bearer ${await token(t.people.owner)}` } });
      expect(asOwner.status).toBe(403);
    });
  });

  // Over this file's responses only; destination views (the responses that would carry it) among them.
  it('never returned the secret in any response', () => {
    expect(bodies.length).toBeGreaterThan(35);
    expect(bodies.some((b) => b.includes('"accessKeyId":"S3RVER"'))).toBe(true);
    for (const body of bodies) expect(body).not.toContain(SECRET);
  });
});
