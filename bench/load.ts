/**
 * Load generator for bench/ingest.ts, run as its own process: `concurrency` clients each POST
 * batches of `batch` events to the ingest endpoint for `seconds`, optionally paced to `rate`
 * events/s in total. Every event is unique (timestamps step by one microsecond), so dedup never
 * drops anything. Prints one JSON line of results.
 */
import http from 'node:http';
import { batchMatchesStringify, makeBatch, type Scenario } from './workload.ts';

const [url, apiKey, scenario, seconds, concurrency, batch, rate] = process.argv.slice(2);
const durationMs = Number(seconds) * 1000;
const perRequest = Number(batch);
const targetRate = Number(rate ?? 0);

if (!batchMatchesStringify(scenario as Scenario, Number(batch), 0, 0)) throw new Error(`makeBatch(${scenario}) differs from JSON.stringify of the same events`);

const latencies: number[] = [];
let events = 0;
let failures = 0;
const statuses: Record<string, number> = {};
let seq = 0;
const started = performance.now();
const cpuAtStart = process.cpuUsage(); // the load itself, not starting the process
const deadline = started + durationMs;

/**
 * One POST on a kept-alive connection with node:http, not fetch: undici's fetch cost this process
 * about 3 µs of CPU per event (3 ms a request of 1,000), CPU the gateway, Postgres and Redis it
 * measures then lacked; node:http costs a fraction of that.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const target = new URL(url!);
function post(body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'x-api-key': apiKey!, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

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
      const res = await post(body);
      const text = res.text;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status >= 200 && res.status < 300) {
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
const cpu = process.cpuUsage(cpuAtStart);
console.log(
  JSON.stringify({ scenario, events, seconds: elapsed, eventsPerSecond: events / elapsed, p50: q(0.5), p95: q(0.95), p99: q(0.99), requests: latencies.length, failures, statuses, cpuMicros: cpu.user + cpu.system }),
);
