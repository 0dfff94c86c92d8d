/**
 * `npm run bench:ingest-write`: what Postgres spends per metric point for the write ingest does (one
 * transaction of 1,000 rows through a multi-row `unnest` insert, as src/ingest/write-rows.ts) against
 * COPY of the same 1,000 rows (text and binary format), each in its own transaction. It reads the CPU
 * time of the one backend doing the work from /proc (Linux), so the figure is Postgres' own cost, apart
 * from the client's, and prints the medians of ROUNDS (default 5) rounds of BATCHES (default 200)
 * transactions per way, the ways taking turns so the table grows alike under each.
 * Measured 2026-11-26 (two runs): unnest 4.8 and 4.4, COPY text 6.5 and 5.6, COPY binary 6.2 and
 * 5.7 µs a row. A COPY of 1,000 rows
 * costs Postgres more per row than the insert (its per-statement setup is paid per request); the
 * ceiling bench:ingest reports COPYs 500,000 rows a statement.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { createPostgresDb } from '../src/db/postgres.ts';
import type { MetricPoint } from '../src/ingest/model.ts';
import { insertMetricPoints } from '../src/ingest/write-rows.ts';
import { createBenchDatabase, median } from './harness.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BATCHES = Number(process.env.BATCHES ?? 200);
const ROWS = 1000;

const b = await createBenchDatabase('observai_bench_write');
// One connection each (so one backend to read): the product's adapter for the insert, postgres.js
// itself for COPY, which the adapter does not offer.
const sql = postgres(b.url.toString(), { max: 1, onnotice: () => {} });
const db = createPostgresDb(b.url.toString(), { max: 1 });
try {
  const p = b.demo.projectId;
  await sql`select private.ensure_telemetry_partitions(current_date - 1, current_date + 1)`;
  const ids = (
    await sql`insert into public.metric_series (project_id, name, type, tags, fingerprint)
              select ${p}, 'm' || (g % 10), 'gauge', jsonb_build_object('i', g), 'fp' || g from generate_series(1, ${ROWS}) g returning id`
  ).map((r) => Number(r.id));
  const [{ pid: copyPid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  const insertPid = (await db.query<{ pid: number }>('select pg_backend_pid() as pid'))[0]!.pid;
  const backendCpuUs = (pid: number) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // USER_HZ is 100 on Linux
  };
  const base = Date.now() - 60_000;
  let seq = 0;
  const batch = () =>
    Array.from({ length: ROWS }, (_, i) => {
      const n = seq++;
      return { series: ids[i]!, t: base + n / 1000, value: ((n * 7919) % 1000) / 10 + 0.000123, key: 1e12 + n };
    });
  type Row = ReturnType<typeof batch>[number];
  const uuid = Buffer.from(p.replace(/-/g, ''), 'hex');
  const int64 = (buf: Buffer, at: number, v: number) => {
    const hi = Math.floor(v / 4294967296);
    buf.writeInt32BE(hi, at);
    buf.writeUInt32BE(v - hi * 4294967296, at + 4);
  };
  const ways: Record<string, { pid: number; write: (rows: Row[]) => Promise<unknown> }> = {
    // The insert ingest makes (src/ingest/write-rows.ts), in a transaction of its own.
    unnest: {
      pid: insertPid,
      write: (rows) =>
        db.transaction((tx) =>
          insertMetricPoints(
            tx,
            p,
            rows.map((x) => ({ seriesId: x.series, eventKey: x.key, point: { name: 'm', type: 'gauge', value: x.value, timestamp: x.t, tags: {} } satisfies MetricPoint })),
          ),
        ),
    },
    'copy text': {
      pid: copyPid,
      write: (rows) =>
        sql.begin(async (tx) => {
          const w = await tx.unsafe('copy public.metric_points (project_id, series_id, time, value, event_key) from stdin').writable();
          await pipeline(Readable.from([rows.map((x) => `${p}\t${x.series}\t${new Date(x.t).toISOString()}\t${x.value}\t${x.key}\n`).join('')]), w);
        }),
    },
    'copy binary': {
      pid: copyPid,
      write: (rows) =>
        sql.begin(async (tx) => {
          const w = await tx.unsafe('copy public.metric_points (project_id, series_id, time, value, event_key) from stdin (format binary)').writable();
          const buf = Buffer.alloc(19 + rows.length * 70 + 2);
          buf.write('PGCOPY\n\xff\r\n\0', 0, 'latin1'); // signature; flags and header extension stay 0
          let o = 19;
          for (const x of rows) {
            buf.writeInt16BE(5, o);
            buf.writeInt32BE(16, o + 2);
            uuid.copy(buf, o + 6);
            o += 22;
            for (const v of [x.series, Math.round(x.t * 1000) - 946_684_800_000_000]) {
              buf.writeInt32BE(8, o);
              int64(buf, o + 4, v);
              o += 12;
            }
            buf.writeInt32BE(8, o);
            buf.writeDoubleBE(x.value, o + 4);
            buf.writeInt32BE(8, o + 12);
            int64(buf, o + 16, x.key);
            o += 24;
          }
          buf.writeInt16BE(-1, o);
          await pipeline(Readable.from([buf]), w);
        }),
    },
  };
  const perRow: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, { pid, write }] of Object.entries(ways)) {
      const batches = Array.from({ length: BATCHES }, batch);
      const before = backendCpuUs(pid);
      for (const rows of batches) await write(rows);
      (perRow[name] ??= []).push((backendCpuUs(pid) - before) / (BATCHES * ROWS));
    }
  }
  const [{ n }] = (await sql`select count(*)::int as n from public.metric_points`) as unknown as [{ n: number }];
  if (n !== ROUNDS * BATCHES * ROWS * Object.keys(ways).length) throw new Error(`expected ${ROUNDS * BATCHES * ROWS * 3} rows, found ${n}`);
  console.log(`Postgres backend CPU per row, transactions of ${ROWS} rows (medians of ${ROUNDS} rounds of ${BATCHES}):`);
  for (const [name, xs] of Object.entries(perRow)) console.log(`write ${name}: ${median(xs).toFixed(2)} µs a row`);
} finally {
  await sql.end();
  await db.close();
  await b.cleanup();
}
