/**
 * Compile-time checks of the typed query client (`npx tsc -p packages/sdk`, run by
 * tests/e2e/query-client.test.ts): what the types accept and refuse. Never executed.
 */
import { createQueryClient } from '../src/index.ts';

export async function typeChecks(): Promise<void> {
  const api = createQueryClient({ url: 'http://localhost:54321/functions/v1', apiKey: 'oai_x' });

  const { results } = await api.post('/metrics/query', { body: { queries: [{ metric: 'cpu', from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }] } });
  const step: number = results[0]!.step;
  const point: [number, number | null] | undefined = results[0]!.series[0]!.points[0];
  const { logs, nextCursor } = await api.get('/logs/search', { params: { query: { q: 'timeout', from: '2026-01-01T00:00:00Z' } } });
  const message: string = logs[0]!.message;
  const cursor: string | null = nextCursor;
  const { trace, spans } = await api.get('/logs/traces/{traceId}', { params: { path: { traceId: 'a'.repeat(32) } } });
  const services: number = trace.services.length + spans.length;
  const { episodes } = await api.get('/anomalies/episodes');
  const metric: string = episodes[0]!.metric;
  const { instances } = await api.get('/alerts/instances');
  const { incidents } = await api.get('/oncall/incidents', { params: { query: { state: 'open' } } });

  // @ts-expect-error: incident states are an enum
  await api.get('/oncall/incidents', { params: { query: { state: 'sleeping' } } });

  // @ts-expect-error: no such path
  await api.get('/metrics/nope');
  // @ts-expect-error: /metrics/query is a POST
  await api.get('/metrics/query');
  // @ts-expect-error: the body is required
  await api.post('/metrics/query');
  // @ts-expect-error: a query needs its metric
  await api.post('/metrics/query', { body: { queries: [{ from: 'a', to: 'b' }] } });
  // @ts-expect-error: the trace id is a path parameter, required
  await api.get('/logs/traces/{traceId}');
  // @ts-expect-error: answers are typed: a log line has no `text`
  logs[0]!.text;

  void [step, point, message, cursor, services, metric, instances, incidents];
}
