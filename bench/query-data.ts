/**
 * The query benchmark's data: 1,000 series (10 metrics x 100 tag sets {service: s0..s9, host: h0..h9})
 * and their raw points over a time range, as COPY text lines in global time order. Values follow
 * realistic shapes: log-normal latencies with a daily cycle, bounded percentages, random walks, and
 * cumulative counters that reset now and then (a process restart).
 */
import { sortedTags } from '../src/ingest/event-key.ts';
import { seriesFingerprint, seriesIdentity } from '../src/ingest/series.ts';

export interface MetricSpec {
  name: string;
  type: 'gauge' | 'counter';
  temporality?: 'cumulative';
  unit: string;
}

export const METRICS: readonly MetricSpec[] = [
  { name: 'http.server.duration', type: 'gauge', unit: 'ms' },
  { name: 'http.server.requests', type: 'counter', temporality: 'cumulative', unit: '1' },
  { name: 'db.client.duration', type: 'gauge', unit: 'ms' },
  { name: 'cpu.usage', type: 'gauge', unit: '%' },
  { name: 'memory.rss', type: 'gauge', unit: 'By' },
  { name: 'queue.depth', type: 'gauge', unit: '1' },
  { name: 'gc.pause', type: 'gauge', unit: 'ms' },
  { name: 'net.bytes.sent', type: 'counter', temporality: 'cumulative', unit: 'By' },
  { name: 'cache.hit_ratio', type: 'gauge', unit: '1' },
  { name: 'disk.used_percent', type: 'gauge', unit: '%' },
];
export const SERVICES = 10;
export const HOSTS = 10;
export const SERIES_PER_METRIC = SERVICES * HOSTS;
export const SERIES = METRICS.length * SERIES_PER_METRIC;

export interface SeriesSpec {
  metric: MetricSpec;
  tags: { service: string; host: string };
  fingerprint: string;
}

/** Series k (0..999): metric k / 100, service k % 10, host (k / 10) % 10. */
export async function seriesSpecs(): Promise<SeriesSpec[]> {
  const out: SeriesSpec[] = [];
  for (let k = 0; k < SERIES; k++) {
    const metric = METRICS[Math.floor(k / SERIES_PER_METRIC)]!;
    const tags = { service: `s${k % SERVICES}`, host: `h${Math.floor(k / SERVICES) % HOSTS}` };
    out.push({ metric, tags, fingerprint: await seriesFingerprint(seriesIdentity(metric.name, metric.type, metric.temporality, sortedTags(tags))) });
  }
  return out;
}

/** Small fast deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * COPY text (project_id, series_id, time, value, event_key) for `perSeries` points of every series,
 * evenly spaced over [start, end) with a per-series phase, yielded in chunks in time order (within
 * one interval).
 * `seriesIds[k]` is the database id of series k.
 */
export function* pointLines(projectId: string, seriesIds: readonly string[], start: number, end: number, perSeries: number, chunkRows = 5000): Generator<string> {
  const random = rng(42);
  const gauss = () => {
    // Box-Muller; one value per call is enough here.
    const u = random() || 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const interval = (end - start) / perSeries;
  const n = seriesIds.length;
  // Per-series state: a level for random walks / counters, and a per-series baseline.
  const level = new Float64Array(n);
  const base = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const m = METRICS[Math.floor(k / SERIES_PER_METRIC)]!.name;
    const jitter = 0.7 + 0.6 * random();
    base[k] = jitter;
    level[k] = m === 'memory.rss' ? 4e8 * jitter : m === 'disk.used_percent' ? 30 + 30 * random() : m.startsWith('net.') || m.endsWith('.requests') ? Math.floor(1e6 * random()) : 0;
  }
  // Spread the series of one metric over the interval (a permutation of k / n), so points of
  // different series do not arrive in lockstep.
  const phase = Float64Array.from({ length: n }, (_, k) => ((k * 389) % n) / n);
  let out = '';
  let rows = 0;
  let eventKey = 1;
  for (let i = 0; i < perSeries; i++) {
    for (let k = 0; k < n; k++) {
      const t = start + (i + phase[k]!) * interval;
      const daily = 1 + 0.35 * Math.sin((2 * Math.PI * (t % DAY)) / DAY);
      const b = base[k]!;
      let v: number;
      switch (Math.floor(k / SERIES_PER_METRIC)) {
        case 0: // http.server.duration: log-normal around 80 ms, heavier under load
          v = r3(Math.exp(Math.log(80 * b * daily) + 0.6 * gauss()));
          break;
        case 1: // http.server.requests: cumulative count, ~50 req/s per series, rare resets
          level[k] = random() < 0.0005 ? 0 : level[k]! + Math.round((50 * b * daily * interval) / 1000 * (0.8 + 0.4 * random()));
          v = level[k]!;
          break;
        case 2: // db.client.duration: log-normal around 8 ms with a long tail
          v = r3(Math.exp(Math.log(8 * b) + 0.9 * gauss()));
          break;
        case 3: // cpu.usage: 0..100 %
          v = r3(Math.min(100, Math.max(0, 35 * b * daily + 8 * gauss())));
          break;
        case 4: // memory.rss: random walk in bytes, GC drops
          level[k] = random() < 0.01 ? 3e8 * b : Math.max(1e8, level[k]! + 2e6 * gauss() + 3e5);
          v = Math.round(level[k]!);
          break;
        case 5: // queue.depth: mostly 0, geometric bursts
          v = random() < 0.6 ? 0 : Math.floor(-Math.log(random() || 1e-12) * 20 * b * daily);
          break;
        case 6: // gc.pause: log-normal around 3 ms
          v = r3(Math.exp(Math.log(3 * b) + 1.0 * gauss()));
          break;
        case 7: // net.bytes.sent: cumulative bytes, ~200 KB/s, rare resets
          level[k] = random() < 0.0005 ? 0 : level[k]! + Math.round((2e5 * b * daily * interval) / 1000 * (0.5 + random()));
          v = level[k]!;
          break;
        case 8: // cache.hit_ratio: 0..1
          v = r3(Math.min(1, Math.max(0, 0.92 - 0.05 * b + 0.03 * gauss())));
          break;
        default: // disk.used_percent: slowly growing, cleaned up now and then
          level[k] = level[k]! > 95 ? 40 : level[k]! + 0.002 + 0.001 * gauss();
          v = r3(level[k]!);
      }
      out += `${projectId}\t${seriesIds[k]}\t${new Date(t).toISOString()}\t${v}\t${eventKey++}\n`;
      if (++rows === chunkRows) {
        yield out;
        out = '';
        rows = 0;
      }
    }
  }
  if (out) yield out;
}
