/**
 * `npx tsx bench/traces.ts`: trace API latency over millions of spans and logs.
 *
 * 1. Creates a fresh database on the local Postgres (DATABASE_URL's server, default
 *    postgres://postgres@127.0.0.1:5432/postgres), applies the migrations and seeds the demo tenant.
 * 2. Generates in SQL, in time order as ingest writes them, SPANS spans (default 2,500,000: traces of 10 spans, a root and a binary tree of
 *    children over 10 services and 50 operations, 2% errors) and LOGS logs (default 2,500,000, half of
 *    them carrying a trace and span id) over the last DAYS days (default 7), then ANALYZE.
 * 3. Times requests through the in-process gateway app (routing, auth, validation, SQL under RLS,
 *    JSON), one at a time: per type WARMUP (3) unmeasured then REPEAT (default 30) measured, each on
 *    a different trace or time window. Prints p50 and p95 per type.
 * KEEP_DB=1 keeps the database (its name is printed) for EXPLAIN ANALYZE afterwards; REUSE_DB=<name>
 * times again over a kept database without loading.
 */
import { createHash, randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { generateApiKey } from '../src/auth/api-key-secret.ts';
import { signJwt } from '../src/auth/jwt.ts';
import { systemClock } from '../src/core/clock.ts';
import { parseConfig } from '../src/core/config.ts';
import { silentLogger } from '../src/core/logger.ts';
import { createPostgresDb } from '../src/db/postgres.ts';
import { createGatewayApp } from '../src/app/app.ts';
import { createNodeDeps, migrateDb } from '../src/node/deps.ts';
import { seedDemo } from '../src/orgs/seed-demo.ts';

const SPANS = Number(process.env.SPANS ?? 2_500_000);
const LOGS = Number(process.env.LOGS ?? 2_500_000);
const DAYS = Number(process.env.DAYS ?? 7);
const REPEAT = Number(process.env.REPEAT ?? 30);
const WARMUP = Number(process.env.WARMUP ?? 3);
const KEEP_DB = process.env.KEEP_DB === '1';
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TRACES = Math.floor(SPANS / 10);

const dbName = process.env.REUSE_DB ?? `observai_tbench_${Date.now()}`;
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const seconds = (since: number) => (performance.now() - since) / 1000;
const pct = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;

async function main() {
  const fresh = !process.env.REUSE_DB;
  if (fresh) await admin.unsafe(`create database ${dbName}`);
  const jwtSecret = randomBytes(36).toString('base64url');
  const config = parseConfig({ OBSERVAI_MODE: 'local', DATABASE_URL: dbUrl.toString(), OBSERVAI_DATA_DIR: '/nonexistent', JWT_SECRET: jwtSecret });
  const db = createPostgresDb(dbUrl.toString(), { max: 4, applicationName: 'observai-tbench' });
  const sql = postgres(dbUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    await migrateDb(db, config);
    const demo = fresh ? (await seedDemo({ db, clock: systemClock }, { jwtSecret }))! : await credentials(sql, jwtSecret);
    const end = Date.now();
    if (fresh) {
      await sql`select private.ensure_telemetry_partitions(current_date - ${DAYS + 1}::int, current_date + 1)`;
      let t = performance.now();
      // Trace n starts at a pseudo-random moment of the window; span k (0 = root) hangs under (k - 1) / 2.
      await sql.unsafe(
        `insert into public.spans (project_id, trace_id, span_id, parent_span_id, name, service, start_time, end_time, duration_ms, kind, status, attributes, event_key)
         select $1, md5(n::text), left(md5(n || '-' || k), 16), case when k = 0 then null else left(md5(n || '-' || ((k - 1) / 2)), 16) end,
                case when k = 0 then 'GET /route' || (n % 20) else 'op' || ((n * 7 + k) % 50) end, 'svc' || ((n + k) % 10),
                st, st + d * interval '1 millisecond', d, case when k = 0 then 'server' else 'client' end,
                case when (n * 31 + k) % 50 = 0 then 'error' else 'ok' end,
                jsonb_build_object('customer', 'c' || (n % 1000), 'http.status_code', case when (n * 31 + k) % 50 = 0 then 500 else 200 end), n * 10 + k
         from generate_series(1, $2::int) n
         cross join lateral (select to_timestamp($3::float8 / 1000) - (((n::bigint * 2654435761) % 1000000) / 1000000.0) * $4::float8 * interval '1 millisecond' as t0) b
         cross join generate_series(0, 9) k
         cross join lateral (select b.t0 + k * interval '5 milliseconds' as st, 1 + ((n * 13 + k * 17) % 400) * (1 + k % 3) as d) x
         order by st`,
        [demo.projectId, TRACES, end, DAYS * DAY - HOUR],
      );
      console.log(`spans: ${TRACES * 10} rows in ${seconds(t).toFixed(1)} s`);
      t = performance.now();
      await sql.unsafe(
        `insert into public.logs (project_id, time, level, service, message, attributes, trace_id, span_id, event_key)
         select $1, s.start_time + interval '1 millisecond', case when j % 20 = 0 then 'error' else 'info' end, s.service,
                'handled request ' || j, jsonb_build_object('j', j),
                case when j % 2 = 0 then s.trace_id end, case when j % 2 = 0 then s.span_id end, j
         from generate_series(1, $2::int) j
         join public.spans s on s.trace_id = md5((1 + (j / 10) % $3::int)::text) and s.span_id = left(md5((1 + (j / 10) % $3::int) || '-' || (j % 10)), 16)
         order by s.start_time`,
        [demo.projectId, LOGS, TRACES],
      );
      console.log(`logs: ${LOGS} rows in ${seconds(t).toFixed(1)} s`);
      t = performance.now();
      await sql`vacuum analyze public.spans`;
      await sql`vacuum analyze public.logs`;
      console.log(`vacuum analyze: ${seconds(t).toFixed(1)} s`);
    }

    const deps = createNodeDeps(config, { logger: silentLogger, db });
    const app = createGatewayApp(deps);
    const get = async (path: string, auth: Record<string, string>) => {
      const res = await app.request(`/functions/v1/logs/traces${path}`, { headers: auth });
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const key = { 'x-api-key': demo.apiKey };
    const user = { authorization: `Bearer ${demo.ownerJwt}` };
    const iso = (ms: number) => new Date(ms).toISOString();
    const traceOf = (i: number) => md5hex(1 + ((i * 7919) % TRACES));

        const time = async (name: string, fn: (i: number) => Promise<unknown>, note: (last: unknown) => string = () => '') => {
      let last: unknown;
      for (let i = 0; i < WARMUP; i++) await fn(1000 + i);
      const times: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        const t = performance.now();
        last = await fn(i);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      console.log(`${name.padEnd(58)} p50 ${pct(times, 0.5).toFixed(1).padStart(7)} ms  p95 ${pct(times, 0.95).toFixed(1).padStart(7)} ms  ${note(last)}`);
    };
    type Tr = { trace: { spanCount: number; logCount: number } };
    type Hits = { traces: unknown[]; nextCursor: string | null };
    const spans = (b: unknown) => `${(b as Tr).trace.spanCount} spans, ${(b as Tr).trace.logCount} logs`;
    const hits = (b: unknown) => `${(b as Hits).traces.length} traces`;
    const window = (i: number, ms: number) => ({ from: iso(end - ms - i * 60_000), to: iso(end - i * 60_000) });
    const qs = (o: Record<string, string | number>) => `?${new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)]))}`;

    await time('trace by id (API key)', (i) => get(`/${traceOf(i)}`, key), spans);
    await time('trace by id (user, all visible projects)', (i) => get(`/${traceOf(i)}`, user), spans);
    // The hints a caller would have (from a log line or a search hit): the trace's start, looked up unmeasured.
    const starts = new Map<number, number>();
    for (const i of [...Array(REPEAT).keys(), ...Array.from({ length: WARMUP }, (_, w) => 1000 + w)]) {
      starts.set(i, Date.parse(((await get(`/${traceOf(i)}`, key)) as { trace: { start: string } }).trace.start));
    }
    await time('trace by id with from/to hints (1 h each side)', (i) => {
      const s = starts.get(i)!;
      return get(`/${traceOf(i)}${qs({ from: iso(s - HOUR), to: iso(s + HOUR) })}`, key);
    }, spans);
    await time('logs of a trace', (i) => get(`/${traceOf(i)}/logs`, key), (b) => `${(b as { logs: unknown[] }).logs.length} logs`);

    await time('search: last 15 min, no filter', (i) => get(qs(window(i, 15 * 60_000)), key), hits);
    await time('search: last 1 h, no filter, page 2', async (i) => {
      const first = (await get(qs(window(i, HOUR)), key)) as Hits;
      return first.nextCursor ? get(qs({ ...window(i, HOUR), cursor: first.nextCursor }), key) : first;
    }, hits);
    await time('search: last 24 h, service', (i) => get(qs({ ...window(i, DAY), service: `svc${i % 10}` }), key), hits);
    await time('search: last 24 h, operation', (i) => get(qs({ ...window(i, DAY), operation: `op${i % 50}` }), key), hits);
    await time('search: last 24 h, service + operation', (i) => get(qs({ ...window(i, DAY), service: `svc${i % 10}`, operation: `op${i % 50}` }), key), hits);
    await time('search: last 24 h, status=error', (i) => get(qs({ ...window(i, DAY), status: 'error' }), key), hits);
    await time('search: last 24 h, minDurationMs=1150', (i) => get(qs({ ...window(i, DAY), minDurationMs: 1150 }), key), hits);
    await time('search: last 24 h, service + status=error', (i) => get(qs({ ...window(i, DAY), service: `svc${i % 10}`, status: 'error' }), key), hits);
    await time('search: last 7 d, attr customer (0.1% of spans)', (i) => get(qs({ ...window(i, 7 * DAY - 2 * HOUR), 'attr.customer': `c${i}` }), key), hits);
    await time('search: last 7 d, service + attr', (i) => get(qs({ ...window(i, 7 * DAY - 2 * HOUR), service: `svc${i % 10}`, 'attr.customer': `c${i}` }), key), hits);

    await time('services: last 1 h', (i) => get(`/services${qs(window(i, HOUR))}`, key));
    await time('services: last 24 h', (i) => get(`/services${qs(window(i, DAY))}`, key));
    await time('services: last 24 h, step 5 min', (i) => get(`/services${qs({ ...window(i, DAY), step: 300 })}`, key));
    await time('services: one service per operation, 24 h, step 5 min', (i) => get(`/services${qs({ ...window(i, DAY), service: `svc${i % 10}`, step: 300 })}`, key));
    await deps.close();
  } finally {
    await sql.end({ timeout: 5 }).catch(() => {});
    await db.close().catch(() => {});
    if (KEEP_DB || process.env.REUSE_DB) console.log(`kept database ${dbUrl.toString()}`);
    else await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end({ timeout: 5 });
  }
}

/** REUSE_DB: a new key on the demo project and a token for its owner (the seed's secrets are not stored). */
async function credentials(sql: postgres.Sql, jwtSecret: string) {
  const [p] = await sql`select p.id as project_id, p.organization_id, m.user_id from public.projects p
                        join public.organization_members m on m.organization_id = p.organization_id where p.slug = 'demo'`;
  const key = await generateApiKey();
  await sql`insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes)
            values (${p!.organization_id}, ${p!.project_id}, 'bench', ${key.prefix}, ${key.hash}, array['read'])`;
  const ownerJwt = await signJwt(jwtSecret, { sub: p!.user_id, role: 'authenticated', aud: 'authenticated' }, { now: new Date(), expiresInSeconds: 86_400 });
  return { projectId: p!.project_id as string, apiKey: key.key, ownerJwt };
}

/** The trace ids are md5(n::text), as generated in SQL. */
function md5hex(n: number): string {
  return createHash('md5').update(String(n)).digest('hex');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
