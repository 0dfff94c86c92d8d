import { generateLogs } from './generate-logs.ts';
import { generateMetrics } from './generate-metrics.ts';
import { generateTraces } from './generate-traces.ts';
import type { DemoEvents } from './model.ts';
import { MINUTE } from './shop.ts';

/**
 * Everything the demo shop emitted in [from, to) (ms): the metric points of each whole minute in
 * it, the logs timed in it, and the traces whose root starts in it (with their logs). A function of
 * (seed, from, to) only, and additive: two adjacent windows give exactly what their union gives, so
 * the live loop may cut time however its ticks fall, and a window sent twice is deduplicated.
 */
export function generateEvents(seed: string, from: number, to: number): DemoEvents {
  const events: DemoEvents = { metrics: [], logs: [], spans: [] };
  for (let m = Math.floor(from / MINUTE) * MINUTE; m < to; m += MINUTE) {
    if (m >= from) events.metrics.push(...generateMetrics(seed, m));
    events.logs.push(...generateLogs(seed, m).filter((l) => l.timestamp >= from && l.timestamp < to));
  }
  const traces = generateTraces(seed, from, to);
  events.spans.push(...traces.spans);
  events.logs.push(...traces.logs);
  return events;
}

/** Splits events into batches of at most `max` events, each signal's items in order. */
export function splitEvents(events: DemoEvents, max: number): DemoEvents[] {
  const batches: DemoEvents[] = [];
  let current: DemoEvents = { metrics: [], logs: [], spans: [] };
  let size = 0;
  const add = <K extends keyof DemoEvents>(key: K, item: DemoEvents[K][number]) => {
    if (size === max) {
      batches.push(current);
      current = { metrics: [], logs: [], spans: [] };
      size = 0;
    }
    (current[key] as Array<DemoEvents[K][number]>).push(item);
    size++;
  };
  for (const m of events.metrics) add('metrics', m);
  for (const s of events.spans) add('spans', s);
  for (const l of events.logs) add('logs', l);
  if (size > 0) batches.push(current);
  return batches;
}
