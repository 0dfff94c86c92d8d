/**
 * The SDK's source under Deno (tests/e2e/sdk.test.ts): one gauge point sent by an explicit flush,
 * a second left queued for the shutdown hook (Deno's beforeunload) to send as the script ends.
 * Prints the stats after the explicit flush.
 */
import { createClient } from '../src/index.ts';

declare const Deno: { env: { get(name: string): string | undefined } };

const client = createClient({
  url: Deno.env.get('OBSERVAI_URL')!,
  apiKey: Deno.env.get('OBSERVAI_API_KEY')!,
  shutdownHooks: true,
  flushIntervalMs: 3_600_000,
});
const gauge = client.gauge('sdk.deno', { tags: { run: Deno.env.get('RUN')! } });
gauge.set(1);
const flushed = await client.flush({ timeoutMs: 10_000 });
console.log(JSON.stringify({ flushed, stats: client.stats() }));
gauge.set(2);
