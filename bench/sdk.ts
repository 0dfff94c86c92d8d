/**
 * `npm run bench:sdk`: how fast an app can hand events to the SDK (packages/sdk), and how fast the
 * SDK delivers them, in one process.
 *
 * 1. Creates a fresh database on the local Postgres (DATABASE_URL's server), migrates it, seeds the
 *    demo tenant, and starts the gateway on it with Redis in its own process, as `npm start` would
 *    (bench/harness.ts; GATEWAY_WORKERS, default 1).
 * 2. In this process, one SDK client with the defaults an app would use for a busy service
 *    (maxBatchEvents 5,000, concurrency 4, queue bounds QUEUE_EVENTS (200,000) events and
 *    QUEUE_MB (32) MiB) and a loop that enqueues as fast as it can for SECONDS (default 10, after a
 *    1 s warm-up): per 16 calls 10 counter increments, 3 gauge sets, 2 histogram observations and
 *    1 log line, over 16 tag sets. The loop yields to the event loop every 10,000 calls (an app that
 *    never yields lets nothing be sent): the SDK serializes, gzips and posts in those gaps, on the
 *    same thread, so the enqueue rate is calls over wall time, the SDK's own sending included.
 * 3. Stops enqueueing, closes the client (drains the queue), and checks that the rows stored in the
 *    project are exactly what the server acknowledged as accepted.
 *
 * Enqueue latency: every 64th call is timed on its own with performance.now() (sub-100 ns resolution
 * in Node; a pair of calls costs about 40 ns, included in the figure, so it errs high). Timing single
 * calls, not batches of calls, keeps the tail visible: a 50 µs pause in a batch of 100 calls would
 * read as 0.5 µs each. Sampling 1 call in 64 keeps the timer's own cost out of the throughput. The
 * samples go to a fixed histogram of 10 ns bins (up to 1 ms, then one overflow bin), so the bench's
 * own bookkeeping neither allocates nor adds to the RSS it reports.
 * Ends with `sdk: <N> events/s enqueued, <M> events/s delivered, p99 enqueue <us> us, rss <MB> MB`
 * (rss: this process's peak while enqueueing, sampled every 100 ms; the line before gives the RSS
 * before the client was made and the V8 heap actually in use, which is what the queue bounds hold
 * down: the rest of the RSS is the runtime and the garbage collector's headroom).
 */
import { createClient } from '../packages/sdk/src/index.ts';
import { type BenchDatabase, createBenchDatabase, fmt, seconds } from './harness.ts';

const SECONDS = Number(process.env.SECONDS ?? 10);
const QUEUE_EVENTS = Number(process.env.QUEUE_EVENTS ?? 200_000);
const QUEUE_MB = Number(process.env.QUEUE_MB ?? 32);
const CHUNK = 10_000;
const SAMPLE_EVERY = 64;
const port = 55900 + (process.pid % 100); // bench:logs uses 55500-55899

if (!(SECONDS >= 1) || !(QUEUE_EVENTS >= 10_000) || !(QUEUE_MB >= 1)) throw new Error('SECONDS >= 1, QUEUE_EVENTS >= 10000, QUEUE_MB >= 1');

let bench: BenchDatabase | undefined;
try {
  bench = await createBenchDatabase('observai_sdkbench');
  const base = await bench.startGateway('ingest', port);
  const rssBefore = process.memoryUsage.rss();
  const client = createClient({
    url: base,
    apiKey: bench.demo.apiKey,
    service: 'bench-sdk',
    maxBatchEvents: 5000,
    concurrency: 4,
    maxQueueEvents: QUEUE_EVENTS,
    maxQueueBytes: QUEUE_MB * 1024 * 1024,
    onError: (e) => {
      if (e.code !== 'QUEUE_OVERFLOW') console.error(`sdk: ${e.code}: ${e.message}`);
    },
  });
  const requests = client.counter('http.server.requests');
  const inFlight = client.gauge('http.server.in_flight');
  const duration = client.histogram('http.server.duration', { unit: 'ms' });
  const log = client.logger();
  const tagSets = Array.from({ length: 16 }, (_, i) => ({ route: `/api/v1/route-${i % 8}`, status: i < 12 ? '200' : '500', region: 'eu-west-1' }));

  let calls = 0;
  /** One event per call, the mix above; `j` picks the kind and the tag set. */
  const call = (j: number) => {
    const tags = tagSets[j & 15]!;
    const k = (j >>> 4) & 15;
    if (k < 10) requests.add(1, tags);
    else if (k < 13) inFlight.set(j & 127, tags);
    else if (k < 15) duration.record((j & 1023) * 0.37, tags);
    else log.info('request served');
  };

  /** Call latencies in 10 ns bins: bin i holds [10i, 10i + 10) ns; the last bin everything from 1 ms. */
  const BIN_NS = 10;
  const bins = new Uint32Array(100_001);
  let sampled = 0;
  let slowest = 0;
  const record = (ms: number) => {
    const ns = ms * 1e6;
    bins[Math.min(bins.length - 1, Math.floor(ns / BIN_NS))]!++;
    if (ns > slowest) slowest = ns;
    sampled++;
  };
  /** The upper edge of the bin holding rank ceil(q * n) (nearest rank), in µs. */
  const quantileUs = (q: number) => {
    const rank = Math.max(1, Math.ceil(q * sampled));
    let seen = 0;
    for (let i = 0; i < bins.length; i++) {
      seen += bins[i]!;
      if (seen >= rank) return i === bins.length - 1 ? slowest / 1000 : ((i + 1) * BIN_NS) / 1000;
    }
    return slowest / 1000;
  };
  let rssPeak = 0;
  let heapPeak = 0;
  let maxQueued = 0;
  let maxQueuedBytes = 0;
  const rssTimer = setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
    const s = client.stats();
    maxQueued = Math.max(maxQueued, s.queued);
    maxQueuedBytes = Math.max(maxQueuedBytes, s.queuedBytes);
  }, 100);

  /** Enqueues for `secs`; timing 1 call in SAMPLE_EVERY when `measure`. Answers the time spent inside the loops. */
  const phase = async (secs: number, measure: boolean) => {
    const started = performance.now();
    let inLoops = 0;
    while (performance.now() - started < secs * 1000) {
      const t = performance.now();
      for (let i = 0; i < CHUNK; i++) {
        const j = calls++;
        if (measure && i % SAMPLE_EVERY === 0) {
          const a = performance.now();
          call(j);
          record(performance.now() - a);
        } else {
          call(j);
        }
      }
      inLoops += performance.now() - t;
      await new Promise((r) => setImmediate(r));
    }
    return inLoops;
  };

  await phase(1, false); // warm-up: JIT, connections, first series
  const before = client.stats();
  const callsBefore = calls;
  const started = performance.now();
  const inLoops = await phase(SECONDS, true);
  const elapsed = seconds(started);
  const after = client.stats();
  clearInterval(rssTimer);

  const enqueued = calls - callsBefore;
  const delivered = after.sent - before.sent;

  const drained = await client.close({ timeoutMs: 120_000 });
  const final = client.stats();
  const [stored] = await bench.sql<Array<{ n: string }>>`
    select (select count(*) from public.metric_points where project_id = ${bench.demo.projectId})
         + (select count(*) from public.metric_histogram_points where project_id = ${bench.demo.projectId})
         + (select count(*) from public.logs where project_id = ${bench.demo.projectId}) as n`;

  console.log(
    `enqueue: ${fmt(enqueued)} calls in ${elapsed.toFixed(1)} s (${fmt(enqueued / (inLoops / 1000))}/s counting only the time inside the loops); ` +
      `latency p50 ${quantileUs(0.5).toFixed(2)} us, p99 ${quantileUs(0.99).toFixed(2)} us, p99.9 ${quantileUs(0.999).toFixed(2)} us, max ${(slowest / 1000).toFixed(0)} us (${fmt(sampled)} calls timed)`,
  );
  console.log(
    `queue: bound ${fmt(QUEUE_EVENTS)} events / ${QUEUE_MB} MiB; peak ${fmt(maxQueued)} events / ${(maxQueuedBytes / 1048576).toFixed(1)} MiB; ` +
      `${fmt(after.droppedOverflow - before.droppedOverflow)} oldest events dropped while the server was behind; ` +
      `rss ${fmt(rssBefore / 1048576)} MB before the client, peak ${fmt(rssPeak / 1048576)} MB (V8 heap used at most ${fmt(heapPeak / 1048576)} MB)`,
  );
  console.log(
    `delivery: ${fmt(final.requests)} requests, ${fmt(final.sent)} events answered (${fmt(final.accepted)} accepted, ${fmt(final.duplicates)} duplicates, ${fmt(final.rejected)} rejected), ` +
      `${fmt(final.retried)} resent, drained ${drained.ok ? 'completely' : `with ${fmt(drained.pending)} left`}; stored rows ${fmt(Number(stored!.n))} ${Number(stored!.n) === final.accepted ? '= accepted' : '!= accepted (MISMATCH)'}`,
  );
  console.log(
    `sdk: ${fmt(enqueued / elapsed)} events/s enqueued, ${fmt(delivered / elapsed)} events/s delivered, p99 enqueue ${quantileUs(0.99).toFixed(2)} us, rss ${fmt(rssPeak / 1048576)} MB`,
  );
} finally {
  await bench?.cleanup();
}
