/**
 * Load generator for bench/ingest.ts, run as its own process: `concurrency` clients each POST
 * batches of `batch` events to the ingest endpoint for `seconds`, optionally paced to `rate`
 * events/s in total. Every event is unique (timestamps step by one microsecond), so dedup never
 * drops anything. Prints one JSON line of results.
 */
import { makeBatch, type Scenario } from './workload.ts';

const [url, apiKey, scenario, seconds, concurrency, batch, rate] = process.argv.slice(2);
const durationMs = Number(seconds) * 1000;
const perRequest = Number(batch);
const targetRate = Number(rate ?? 0);

const latencies: number[] = [];
let events = 0;
let failures = 0;
const statuses: Record<string, number> = {};
let seq = 0;
const started = performance.now();
const deadline = started + durationMs;

async function client(id: number) {
  // Paced mode: each client sends on its own schedule so the total is targetRate events/s, the
  // clients' schedules offset by interval / concurrency so requests arrive evenly spread, as a
  // steady rate does (all starting at once sent bursts of `concurrency` requests together, and the
  // p95 measured the burst, not the rate).
  const interval = targetRate > 0 ? ((perRequest * Number(concurrency)) / targetRate) * 1000 : 0;
  let nextAt = performance.now() + (interval * id) / Number(concurrency);
  while (performance.now() < deadline) {
    const body = makeBatch(scenario as Scenario, perRequest, seq++ * perRequest, id);
    if (interval > 0) {
      const wait = nextAt - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      nextAt += interval;
    }
    const t0 = performance.now();
    try {
      const res = await fetch(url!, { method: 'POST', headers: { 'x-api-key': apiKey!, 'content-type': 'application/json' }, body });
      const text = await res.text();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.ok) {
        events += (JSON.parse(text) as { accepted: number }).accepted;
        latencies.push(performance.now() - t0);
      } else failures += 1;
    } catch {
      failures += 1;
    }
  }
}

await Promise.all(Array.from({ length: Number(concurrency) }, (_, i) => client(i)));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
console.log(JSON.stringify({ scenario, events, seconds: elapsed, eventsPerSecond: events / elapsed, p50: q(0.5), p95: q(0.95), p99: q(0.99), requests: latencies.length, failures, statuses }));
