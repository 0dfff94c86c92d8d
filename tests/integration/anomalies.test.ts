/**
 * The anomaly scanner end to end: points sent through ingest, rolled up, scanned. A level shift and a
 * spike each become an episode with its explanation in one scan; the two series of one service form
 * one incident; running twice changes nothing; a minute still filling is not scored; feedback marks
 * the episode and raises the saved state's threshold; per-metric configuration picks the detector;
 * RLS and validation hold on every route. The scanner's batches: where batch boundaries fall, and
 * whether a run stops on its budget and the next one resumes, never changes the stored results;
 * series without new minutes are not touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectAnomalies, SCANNER, scanAnomalies, type ScanLimits } from '../../src/anomalies/detect-anomalies.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { aggregateMetrics } from '../../src/metrics/aggregate-metrics.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';
import { rng } from '../helpers/random.ts';

const MIN = 60_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const START = NOW - 3 * 3_600_000;
const END = NOW - 10 * MIN;
const ANOMALY = NOW - 40 * MIN; // level shift on cpu from here on; spike on latency for two minutes


interface Episode {
  id: string;
  metric: string;
  tags: Record<string, string>;
  detector: string;
  startedAt: string;
  endedAt: string | null;
  status: string;
  peakScore: number;
  explanation: { expected: number; lower: number; upper: number; observed: number; direction: string; status: string };
  feedback: string | null;
  incidentId: string | null;
}

describe('detect-anomalies', () => {
  let env: TestEnv & { clock: { advance(ms: number): void } };
  let t: Tenant;

  const send = async (metrics: unknown[]) => {
    for (let i = 0; i < metrics.length; i += 5000) {
      const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics: metrics.slice(i, i + 5000) } });
      expect(res.status).toBe(200);
      expect((await res.json()).rejected).toBe(0);
    }
  };
  const scan = async () => {
    await env.deps.settle();
    expect((await runJob(env.deps, aggregateMetrics, { budgetMs: 120_000 })).outcome).toBe('ok');
    const run = await runJob(env.deps, detectAnomalies, { budgetMs: 120_000 });
    expect(run.outcome, run.error ?? '').toBe('ok');
    return run;
  };
  const get = async (path: string, token = t.people.owner.jwt) => env.request('GET', `/functions/v1/anomalies${path}`, { token });
  const episodes = async (query = '') => (await (await get(`/episodes?projectId=${t.projectA}${query}`)).json()).episodes as Episode[];
  const state = async (metric: string) =>
    (
      await env.db.query<{ detector: string; state: unknown; last_bucket: Date }>(
        `select d.detector, d.state, d.last_bucket from private.anomaly_detector_states d join public.metric_series s on s.id = d.series_id where s.name = $1`,
        [metric],
      )
    )[0];
  const snapshot = () =>
    Promise.all(
      ['private.anomaly_detector_states', 'public.anomaly_episodes', 'public.anomaly_incidents'].map((table) =>
        env.db.query(`select to_jsonb(x) - 'updated_at' as row from ${table} x order by 1::text`).then((rows) => rows.map((r) => JSON.stringify(r)).sort()),
      ),
    );
  let firstRun: Awaited<ReturnType<typeof scan>>;

  beforeAll(async () => {
    env = (await createTestEnv({ fakeTime: new Date(NOW).toISOString() })) as typeof env;
    t = await createTenant(env);
    // Configured before the first scan: latency uses the robust MAD detector.
    const put = await env.request('PUT', '/functions/v1/anomalies/configs', {
      token: t.people.owner.jwt,
      body: { projectId: t.projectA, metric: 'latency', config: { detector: 'mad', sensitivity: 'medium' } },
    });
    expect(put.status).toBe(200);
    const r = rng(11);
    const noise = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const points: unknown[] = [];
    for (let ts = START; ts < END; ts += MIN) {
      const at = ts + 30_000;
      points.push({ name: 'cpu', value: 50 + noise() + (ts >= ANOMALY ? 15 : 0), timestamp: at, tags: { service: 'checkout', host: 'a' } });
      points.push({ name: 'latency', value: ts === ANOMALY || ts === ANOMALY + MIN ? 200 : 100 + 2 * noise(), timestamp: at, tags: { service: 'checkout' } });
      points.push({ name: 'queue', value: 10 + 0.5 * noise(), timestamp: at, tags: { service: 'billing' } });
    }
    // A minute still filling at scan time: must not be scored yet.
    points.push({ name: 'fresh', value: 1, timestamp: NOW - 30_000, tags: {} });
    await send(points);
    firstRun = await scan();
  }, 180_000);
  afterAll(async () => env?.close());

  it('records a level shift and a spike as episodes with their explanation in one scan', async () => {
    expect(firstRun.summary).toMatchObject({ complete: true, series: 3 });
    const list = await episodes();
    const shift = list.find((e) => e.metric === 'cpu' && Math.abs(Date.parse(e.startedAt) - ANOMALY) <= 2 * MIN);
    expect(shift, JSON.stringify(list)).toBeDefined();
    expect(shift!.detector).toBe('onset'); // the default (docs/anomaly-detection.md)
    expect(shift!.peakScore).toBeGreaterThanOrEqual(0.5);
    expect(shift!.explanation).toMatchObject({ direction: 'up', status: 'scored' });
    expect(shift!.explanation.expected).toBeGreaterThan(45);
    expect(shift!.explanation.expected).toBeLessThan(55);
    expect(shift!.explanation.upper).toBeLessThan(shift!.explanation.observed);

    const spike = list.find((e) => e.metric === 'latency' && Date.parse(e.startedAt) === ANOMALY);
    expect(spike, JSON.stringify(list)).toBeDefined();
    // The configured detector, and the spike is over: closed after three normal minutes.
    expect(spike).toMatchObject({ detector: 'mad', status: 'closed', endedAt: new Date(ANOMALY + 2 * MIN).toISOString(), feedback: null });
    expect(spike!.explanation.observed).toBe(200);
    expect(list.filter((e) => e.metric === 'queue')).toEqual([]);
  });

  it('only scores complete minutes', async () => {
    expect(firstRun.summary).toMatchObject({ cutoff: new Date(NOW - 2 * MIN).toISOString() });
    expect(await state('fresh')).toBeUndefined();
    expect((await state('cpu'))!.last_bucket.getTime()).toBe(END - MIN);
  });

  it('groups episodes of one service at the same time into one incident', async () => {
    const list = await episodes();
    const shift = list.find((e) => e.metric === 'cpu' && Math.abs(Date.parse(e.startedAt) - ANOMALY) <= 2 * MIN)!;
    const spike = list.find((e) => e.metric === 'latency' && Date.parse(e.startedAt) === ANOMALY)!;
    expect(shift.incidentId).not.toBeNull();
    expect(spike.incidentId).toBe(shift.incidentId);
    const incidents = (await (await get(`/incidents?projectId=${t.projectA}`)).json()).incidents;
    const incident = incidents.find((i: { id: string }) => i.id === shift.incidentId);
    expect(incident).toMatchObject({ correlationKey: 'service:checkout', startedAt: new Date(Math.min(Date.parse(shift.startedAt), ANOMALY)).toISOString() });
    expect(incident.memberCount).toBeGreaterThanOrEqual(2);
    const members = await episodes(`&incidentId=${incident.id}`);
    expect(new Set(members.map((m) => m.metric))).toEqual(new Set(['cpu', 'latency']));
    // Filters: status and time range.
    const open = (await (await get(`/incidents?projectId=${t.projectA}&status=open`)).json()).incidents;
    expect(open.every((i: { status: string }) => i.status === 'open')).toBe(true);
    const before = (await (await get(`/incidents?projectId=${t.projectA}&to=${new Date(START).toISOString()}`)).json()).incidents;
    expect(before).toEqual([]);
  });

  it('running the scan again changes nothing', async () => {
    const before = await snapshot();
    const again = await scan();
    expect(again.summary).toMatchObject({ series: 0, points: 0, episodesOpened: 0, episodesClosed: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('scores the filling minute once it is complete', async () => {
    env.clock.advance(3 * MIN);
    await scan();
    expect((await state('fresh'))!.last_bucket.getTime()).toBe(NOW - MIN);
    env.clock.advance(-3 * MIN);
  });

  it('shows an episode with its series around it and the expected band', async () => {
    const spike = (await episodes('&metric=latency')).find((e) => Date.parse(e.startedAt) === ANOMALY)!;
    const res = await get(`/episodes/${spike.id}`);
    expect(res.status).toBe(200);
    const { episode } = await res.json();
    expect(episode.band).toMatchObject({ observed: 200 });
    expect(episode.band.lower).toBeLessThan(episode.band.expected);
    expect(episode.band.upper).toBeGreaterThan(episode.band.expected);
    expect(episode.band.upper).toBeLessThan(200);
    const points = episode.series.points as Array<[number, number, number, number]>;
    expect(points[0]![0]).toBe(ANOMALY - 30 * MIN);
    expect(points.find((p) => p[0] === ANOMALY)![1]).toBe(200);
    // 30 minutes before the episode through the end of the data (29 minutes after its start).
    expect(points.length).toBe(30 + 30);
  });

  it('API keys with read scope read episodes of their project', async () => {
    const res = await env.request('GET', '/functions/v1/anomalies/episodes', { apiKey: t.keyA.secret });
    expect(res.status).toBe(200);
    expect((await res.json()).episodes.length).toBeGreaterThan(0);
  });

  it('feedback marks the episode and raises the saved threshold; readers cannot give it', async () => {
    const spike = (await episodes('&metric=latency')).find((e) => Date.parse(e.startedAt) === ANOMALY)!;
    const post = (token: string, body: unknown = { kind: 'not_anomaly' }) =>
      env.request('POST', `/functions/v1/anomalies/episodes/${spike.id}/feedback`, { token, body });
    const before = (await state('latency'))!.state;
    expect((await post(t.people.viewer.jwt)).status).toBe(403);
    expect((await post(t.people.outsider.jwt)).status).toBe(404);
    expect((await post(t.people.unassigned.jwt)).status).toBe(404);
    expect((await state('latency'))!.state).toEqual(before);
    const res = await post(t.people.member.jwt);
    expect(res.status).toBe(200);
    expect((await res.json()).episode).toMatchObject({ id: spike.id, feedback: 'not_anomaly' });
    const after = (await state('latency'))!.state;
    expect(after).not.toEqual(before);
    // Again: already marked, the state is not raised twice.
    expect((await post(t.people.owner.jwt)).status).toBe(200);
    expect((await state('latency'))!.state).toEqual(after);
  });

  it('configures detection per metric: owners and admins write, readers read', async () => {
    const body = { projectId: t.projectA, metric: 'cpu', filter: { host: 'a' }, config: { sensitivity: 'low', direction: 'up', minAbsDeviation: 2, window: 120, seasonality: 'none' }, enabled: false };
    const put = (token: string) => env.request('PUT', '/functions/v1/anomalies/configs', { token, body });
    expect((await put(t.people.viewer.jwt)).status).toBe(403);
    expect((await put(t.people.member.jwt)).status).toBe(403);
    expect((await put(t.people.outsider.jwt)).status).toBe(404);
    const res = await put(t.people.admin.jwt);
    expect(res.status).toBe(200);
    expect((await res.json()).config).toMatchObject({ metric: 'cpu', filter: { host: 'a' }, enabled: false, config: { detector: 'onset', sensitivity: 'low', window: 120 } });
    const list = (await (await get(`/configs?projectId=${t.projectA}`, t.people.viewer.jwt)).json()).configs;
    expect(list.map((c: { metric: string }) => c.metric).sort()).toEqual(['cpu', 'latency']);
    // Disabled: the series is no longer scanned.
    await send([{ name: 'cpu', value: 500, timestamp: NOW - 5 * MIN, tags: { service: 'checkout', host: 'a' } }]);
    const run = await scan();
    expect(run.summary).toMatchObject({ skipped: 1 });
    expect((await state('cpu'))!.last_bucket.getTime()).toBe(END - MIN);
  });

  it("hides another organization's anomalies", async () => {
    const spike = (await episodes('&metric=latency'))[0]!;
    expect((await get(`/episodes/${spike.id}`, t.people.outsider.jwt)).status).toBe(404);
    expect((await get(`/episodes?projectId=${t.projectA}`, t.people.outsider.jwt)).status).toBe(404);
    expect((await get(`/incidents?projectId=${t.projectA}`, t.people.outsider.jwt)).status).toBe(404);
    expect((await get(`/configs?projectId=${t.projectA}`, t.people.outsider.jwt)).status).toBe(404);
    expect((await get(`/episodes/${spike.id}`, t.people.unassigned.jwt)).status).toBe(404);
    const own = await get(`/episodes?projectId=${t.other.projectId}`, t.people.outsider.jwt);
    expect((await own.json()).episodes).toEqual([]);
    expect((await env.request('GET', `/functions/v1/anomalies/episodes?projectId=${t.projectA}`)).status).toBe(401);
  });

  it.each([
    ['GET', `/episodes?projectId=nope`, undefined, 'query.projectId'],
    ['GET', `/episodes?projectId=00000000-0000-4000-8000-000000000000&status=gone`, undefined, 'query.status'],
    ['GET', `/incidents?from=yesterday`, undefined, 'query.from'],
    ['GET', `/episodes/not-a-uuid`, undefined, 'path.id'],
    ['POST', `/episodes/00000000-0000-4000-8000-000000000000/feedback`, { kind: 'anomaly' }, 'body.kind'],
    ['PUT', `/configs`, { projectId: '00000000-0000-4000-8000-000000000000', metric: 'x', config: { sensitivity: 'extreme' } }, 'body.config.sensitivity'],
    ['PUT', `/configs`, { projectId: '00000000-0000-4000-8000-000000000000', metric: 'x', config: { detector: 'magic' } }, 'body.config.detector'],
    ['PUT', `/configs`, { projectId: '00000000-0000-4000-8000-000000000000', metric: '', config: {} }, 'body.metric'],
  ])('%s %s with %j answers 400 naming %s', async (method, path, body, field) => {
    const res = await env.request(method, `/functions/v1/anomalies${path}`, { token: t.people.owner.jwt, body });
    expect(res.status).toBe(400);
    const json = await res.json();
    expect(json.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('the cron function runs the scanner for the service role only', async () => {
    const res = await env.request('POST', '/functions/v1/cron-detect-anomalies', { token: await env.serviceJwt() });
    expect(res.status).toBe(200);
    expect((await res.json()).run).toMatchObject({ job: 'detect-anomalies', outcome: 'ok' });
    expect((await env.request('POST', '/functions/v1/cron-detect-anomalies', { token: t.people.owner.jwt })).status).toBe(403);
  });
});

describe('detect-anomalies batches and budget', () => {
  let env: TestEnv & { clock: { advance(ms: number): void } };
  let t: Tenant;
  const B_END = NOW - 5 * MIN;
  const B_SPIKE = NOW - 25 * MIN;
  const SERIES = 6;
  // Batches of one or two series: every series boundary is also a batch boundary somewhere.
  const TINY: ScanLimits = { firstBatchSeries: 1, minBatchSeries: 1, maxBatchSeries: 2, batchRowTarget: 1 };

  const run = (opts: Parameters<typeof scanAnomalies>[2] = {}, budgetMs = 120_000) =>
    scanAnomalies(env.deps, { now: env.clock.now(), budgetMs }, opts);
  const reset = () => env.db.exec('truncate private.anomaly_detector_states, public.anomaly_episodes, public.anomaly_incidents');
  const stateRows = () =>
    env.db.query<{ series_id: string; last_bucket: Date; updated_at: Date }>(
      'select series_id::text as series_id, last_bucket, updated_at from private.anomaly_detector_states order by series_id',
    );
  /** Everything the scanner stores, without generated ids and timestamps of writing. */
  const results = async () => ({
    states: await env.db.query(
      `select d.series_id::text as series_id, d.detector, d.config_hash, d.state, d.last_bucket, d.last_anomalous_at, e.started_at as open_episode_started_at
       from private.anomaly_detector_states d left join public.anomaly_episodes e on e.id = d.open_episode_id order by d.series_id`,
    ),
    episodes: await env.db.query(
      `select e.series_id::text as series_id, e.metric, e.detector, e.started_at, e.ended_at, e.status, e.peak_score, e.peak_at, e.explanation,
              i.correlation_key, i.started_at as incident_started_at, i.member_count
       from public.anomaly_episodes e left join public.anomaly_incidents i on i.id = e.incident_id order by e.series_id, e.started_at`,
    ),
    incidents: await env.db.query(
      'select correlation_key, started_at, ended_at, status, member_count from public.anomaly_incidents order by correlation_key, started_at',
    ),
  });
  let oneBatch: Awaited<ReturnType<typeof results>>;

  beforeAll(async () => {
    env = (await createTestEnv({ fakeTime: new Date(NOW).toISOString() })) as typeof env;
    t = await createTenant(env);
    const r = rng(7);
    const noise = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const points: unknown[] = [];
    for (let ts = B_END - 80 * MIN; ts < B_END; ts += MIN) {
      for (let i = 0; i < SERIES; i++) {
        const service = `svc-${i % 3}`;
        // Both metrics of svc-0 spike together (one incident of two episodes); m1 of svc-1 alone.
        const spike = ts === B_SPIKE && (service === 'svc-0' || (service === 'svc-1' && i < 3)) ? 100 : 0;
        points.push({ name: i < 3 ? 'm1' : 'm2', value: 100 + 2 * noise() + spike, timestamp: ts + 30_000, tags: { service } });
      }
    }
    const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics: points } });
    expect(res.status).toBe(200);
    await env.deps.settle();
    expect((await runJob(env.deps, aggregateMetrics, { budgetMs: 120_000 })).outcome).toBe('ok');
    const summary = await run();
    expect(summary).toMatchObject({ complete: true, series: SERIES, points: SERIES * 80 });
    oneBatch = await results();
  }, 180_000);
  afterAll(async () => env?.close());

  it('stores the same results whatever the batch boundaries', async () => {
    // The reference run must contain what batching could break: episodes and a shared incident.
    expect(oneBatch.episodes.length).toBeGreaterThanOrEqual(3);
    expect(oneBatch.incidents.some((i) => (i as { member_count: number }).member_count === 2)).toBe(true);
    await reset();
    expect(await run({ limits: TINY })).toMatchObject({ complete: true, series: SERIES, points: SERIES * 80 });
    expect(await results()).toEqual(oneBatch);
  });

  it('stops when the budget is spent inside a batch, and the next run resumes from the watermarks', async () => {
    await reset();
    // A fake timer: one tick per read (one at the start, one before each series), budget 2 ticks.
    let ticks = 0;
    const timer = () => ticks++;
    const first = await run({ limits: { ...SCANNER, firstBatchSeries: 4 }, timer }, 2);
    expect(first).toMatchObject({ complete: false, series: 2, points: 2 * 80 });
    // Exactly the two lowest series ids were saved, fully scanned.
    const saved = await stateRows();
    expect(saved.map((s) => s.last_bucket.getTime())).toEqual([B_END - MIN, B_END - MIN]);
    const ids = (await env.db.query<{ sid: string }>('select id::text as sid from public.metric_series order by id')).map((r) => r.sid);
    expect(saved.map((s) => s.series_id)).toEqual(ids.slice(0, 2));
    const second = await run();
    expect(second).toMatchObject({ complete: true, series: SERIES - 2, points: (SERIES - 2) * 80 });
    expect(await results()).toEqual(oneBatch);
  });

  it('skips series without a new minute and scans only the new minute of the others', async () => {
    const before = await stateRows();
    expect(await run()).toMatchObject({ complete: true, series: 0, points: 0 });
    // One more minute for one series only.
    const res = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: { metrics: [{ name: 'm2', value: 100, timestamp: B_END + 30_000, tags: { service: 'svc-1' } }] },
    });
    expect(res.status).toBe(200);
    await env.deps.settle();
    expect((await runJob(env.deps, aggregateMetrics, { budgetMs: 120_000 })).outcome).toBe('ok');
    env.clock.advance(MIN);
    try {
      expect(await run({ limits: TINY })).toMatchObject({ complete: true, series: 1, points: 1 });
    } finally {
      env.clock.advance(-MIN);
    }
    const after = await stateRows();
    const changed = after.filter((s, i) => s.updated_at.getTime() !== before[i]!.updated_at.getTime() || s.last_bucket.getTime() !== before[i]!.last_bucket.getTime());
    expect(changed.map((s) => s.last_bucket.getTime())).toEqual([B_END]);
  });
});

describe('detect-anomalies closes the episodes of series that go silent', () => {
  let env: TestEnv & { clock: { advance(ms: number): void } };
  let t: Tenant;
  const QUIET = SCANNER.quietMs;
  // a and b (one service) spike together; a stops sending at A_LAST, b keeps sending anomalous minutes
  // until B_LAST. c (another service) spikes at A_LAST and sends one normal minute after it.
  const A_LAST = NOW - 20 * MIN;
  const B_LAST = A_LAST + 5 * MIN;
  const RESUME = NOW - 3 * MIN;

  /** One run whose cutoff (newest complete bucket) is `cutoff`: the time comes from the job context only. */
  const runAt = (cutoff: number, opts: Parameters<typeof scanAnomalies>[2] = {}, budgetMs = 120_000) =>
    scanAnomalies(env.deps, { now: new Date(cutoff + 2 * MIN), budgetMs }, opts);
  const reset = () => env.db.exec('truncate private.anomaly_detector_states, public.anomaly_episodes, public.anomaly_incidents');
  const rollUp = async () => {
    await env.deps.settle();
    expect((await runJob(env.deps, aggregateMetrics, { budgetMs: 120_000 })).outcome).toBe('ok');
  };
  const bySeries = async () => {
    const rows = await env.db.query<{
      metric: string; status: string; started_at: Date; ended_at: Date | null; incident_status: string; incident_ended_at: Date | null;
      open_episode_id: string | null; last_anomalous_at: Date | null; id: string;
    }>(
      `select s.name as metric, e.id, e.status, e.started_at, e.ended_at, i.status as incident_status, i.ended_at as incident_ended_at,
              d.open_episode_id, d.last_anomalous_at
       from public.anomaly_episodes e join public.metric_series s on s.id = e.series_id
       left join public.anomaly_incidents i on i.id = e.incident_id
       left join private.anomaly_detector_states d on d.series_id = e.series_id
       order by s.name, e.started_at`,
    );
    return rows;
  };
  const snapshot = () =>
    Promise.all(
      ['private.anomaly_detector_states', 'public.anomaly_episodes', 'public.anomaly_incidents'].map((table) =>
        env.db.query(`select to_jsonb(x) - 'updated_at' as row from ${table} x`).then((rows) => rows.map((r) => JSON.stringify(r)).sort()),
      ),
    );

  beforeAll(async () => {
    env = (await createTestEnv({ fakeTime: new Date(NOW).toISOString() })) as typeof env;
    t = await createTenant(env);
    const r = rng(5);
    const noise = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const points: unknown[] = [];
    for (let ts = NOW - 100 * MIN; ts <= B_LAST; ts += MIN) {
      const at = ts + 30_000;
      if (ts <= A_LAST) points.push({ name: 'a', value: ts >= A_LAST - MIN ? 300 : 100 + 2 * noise(), timestamp: at, tags: { service: 'quiet' } });
      points.push({ name: 'b', value: ts >= A_LAST - MIN ? 300 : 100 + 2 * noise(), timestamp: at, tags: { service: 'quiet' } });
      if (ts <= A_LAST + MIN) points.push({ name: 'c', value: ts === A_LAST ? 300 : 100 + 2 * noise(), timestamp: at, tags: { service: 'other' } });
    }
    const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics: points } });
    expect(res.status).toBe(200);
    expect((await res.json()).rejected).toBe(0);
    await rollUp();
  }, 180_000);
  afterAll(async () => env?.close());

  const open = { status: 'open', ended_at: null, incident_status: 'open' };
  const closedAt = (last: number) => ({ status: 'closed', ended_at: new Date(last + MIN), open_episode_id: null, last_anomalous_at: null });
  it.each([
    // Right after the data: both episodes open, one incident.
    ['nothing is quiet yet', B_LAST, undefined, open, open, 'open'],
    // a has been silent for quiet - 1 minute: still open.
    ['a: quiet - 1 min', A_LAST + QUIET - MIN, undefined, open, open, 'open'],
    // a has been silent for the quiet period: closed at the end of its last anomalous minute; b keeps the incident open.
    ['a: quiet', A_LAST + QUIET, undefined, closedAt(A_LAST), open, 'open'],
    ['b: quiet - 1 min', B_LAST + QUIET - MIN, undefined, closedAt(A_LAST), open, 'open'],
    // Every member closed: the incident closes, ending with its last member.
    ['b: quiet', B_LAST + QUIET, undefined, closedAt(A_LAST), closedAt(B_LAST), 'closed'],
    // The quiet period is configurable.
    ['a: custom quiet 5 min - 1 min', A_LAST + 4 * MIN, 5 * MIN, open, open, 'open'],
    ['a: custom quiet 5 min', A_LAST + 5 * MIN, 5 * MIN, closedAt(A_LAST), open, 'open'],
  ] as const)('%s (cutoff %s)', async (_name, cutoff, quietMs, a, b, incident) => {
    await reset();
    // The episodes open in a first run that ends with the data, then a later run looks for silence.
    expect(await runAt(Math.min(B_LAST, cutoff))).toMatchObject({ complete: true, episodesOpened: 3 });
    const summary = await runAt(cutoff, { quietMs });
    const rows = await bySeries();
    const [ea, eb] = [rows.filter((e) => e.metric === 'a'), rows.filter((e) => e.metric === 'b')];
    expect(ea.length, JSON.stringify(rows)).toBe(1);
    expect(eb.length, JSON.stringify(rows)).toBe(1);
    expect(ea[0]).toMatchObject({ ...a, started_at: new Date(A_LAST - MIN) });
    expect(eb[0]).toMatchObject({ ...b, started_at: new Date(A_LAST - MIN) });
    if (a.status === 'open') expect(ea[0]).toMatchObject({ open_episode_id: ea[0]!.id, last_anomalous_at: new Date(A_LAST) });
    if (b.status === 'open') expect(eb[0]).toMatchObject({ open_episode_id: eb[0]!.id, last_anomalous_at: new Date(Math.min(B_LAST, cutoff)) });
    expect(ea[0]!.incident_status).toBe(incident);
    expect(eb[0]!.incident_status).toBe(incident);
    expect(ea[0]!.incident_ended_at).toEqual(incident === 'closed' ? new Date(B_LAST + MIN) : null);
    // c's last anomalous minute is A_LAST too (its one normal minute after it does not end it): it closes with a.
    const cClosed = cutoff >= A_LAST + (quietMs ?? QUIET);
    expect((await bySeries()).find((e) => e.metric === 'c')).toMatchObject(cClosed ? closedAt(A_LAST) : { status: 'open' });
    // Closed by this run (the first run never closes any: its cutoff is at most B_LAST).
    expect(summary.episodesSilenced).toBe([a, b].filter((x) => x.status === 'closed').length + (cClosed ? 1 : 0));
  });

  it('leaves an episode open while its series has minutes the run did not reach (budget)', async () => {
    await reset();
    await runAt(A_LAST);
    const c = async () => (await bySeries()).filter((e) => e.metric === 'c');
    expect(await c()).toMatchObject([{ status: 'open', last_anomalous_at: new Date(A_LAST) }]);
    // Out of budget before the first series: c's minute after A_LAST is unscanned, so c is not silent.
    let ticks = 0;
    const stopped = await runAt(A_LAST + QUIET, { timer: () => ticks++ }, 0);
    expect(stopped).toMatchObject({ complete: false, series: 0, episodesSilenced: 1 });
    expect(await c()).toMatchObject([{ status: 'open' }]);
    expect((await bySeries()).find((e) => e.metric === 'a')).toMatchObject(closedAt(A_LAST));
    // Once scanned, its one normal minute does not end it, and the quiet period does.
    expect(await runAt(A_LAST + QUIET)).toMatchObject({ complete: true, series: 2, episodesSilenced: 1 });
    expect(await c()).toMatchObject([closedAt(A_LAST)]);
  });

  it('running again changes nothing more', async () => {
    await reset();
    await runAt(B_LAST);
    expect(await runAt(B_LAST + QUIET)).toMatchObject({ episodesSilenced: 3 });
    const before = await snapshot();
    for (const cutoff of [B_LAST + QUIET, B_LAST + 2 * QUIET]) {
      expect(await runAt(cutoff)).toMatchObject({ series: 0, points: 0, episodesOpened: 0, episodesClosed: 0, episodesSilenced: 0 });
      expect(await snapshot()).toEqual(before);
    }
  });

  it('a series that sends again later opens a new episode and leaves the closed one alone', async () => {
    const before = (await bySeries()).find((e) => e.metric === 'a')!;
    expect(before).toMatchObject(closedAt(A_LAST));
    const res = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: { metrics: [RESUME, RESUME + MIN].map((ts) => ({ name: 'a', value: 1000, timestamp: ts + 30_000, tags: { service: 'quiet' } })) },
    });
    expect(res.status).toBe(200);
    await rollUp();
    expect(await runAt(RESUME + MIN)).toMatchObject({ series: 1, points: 2, episodesOpened: 1, episodesClosed: 0 });
    const [old, fresh] = (await bySeries()).filter((e) => e.metric === 'a');
    expect(old).toMatchObject({ id: before.id, status: 'closed', started_at: before.started_at, ended_at: before.ended_at, incident_status: 'closed' });
    expect(fresh).toMatchObject({ status: 'open', started_at: new Date(RESUME), ended_at: null, incident_status: 'open' });
    // The saved state tracks the new episode only.
    expect(fresh).toMatchObject({ open_episode_id: fresh!.id, last_anomalous_at: new Date(RESUME + MIN) });
  });
});
