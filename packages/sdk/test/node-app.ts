/**
 * A Node app for tests/e2e/sdk.test.ts ("nothing lost on shutdown"): queues EVENTS gauge points
 * (values 0..EVENTS-1, tag run=RUN) with shutdownHooks on and a flush interval too long to matter,
 * then either ends (MODE=exit: beforeExit flushes) or waits for SIGTERM (MODE=sigterm: the hook
 * flushes, then re-raises the signal so the process still dies of it).
 */
import { createClient } from '../src/index.ts';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const events = Number(env('EVENTS'));
const client = createClient({
  url: env('OBSERVAI_URL'),
  apiKey: env('OBSERVAI_API_KEY'),
  shutdownHooks: true,
  flushIntervalMs: 3_600_000,
  maxBatchEvents: 10_000,
  shutdownTimeoutMs: 20_000,
});
const gauge = client.gauge('sdk.shutdown', { tags: { run: env('RUN') } });
for (let i = 0; i < events; i++) gauge.set(i);
if (env('MODE') === 'sigterm') {
  setInterval(() => {}, 60_000); // an app that would run forever
  process.stdout.write(`ready ${JSON.stringify(client.stats())}\n`);
}
