import { Hono, type Context } from 'hono';
import { authorize } from '../../auth/authenticate.ts';
import { decideQuota, QUOTA_COUNTER_TTL_MS, quotaCorrections, quotaCounters, type SignalCounts } from '../../billing/quota.ts';
import { createCircuitBreaker, createConcurrencyGate } from '../../core/circuit-breaker.ts';
import type { Deps } from '../../core/deps.ts';
import { AppError, toAppError } from '../../core/errors.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { type IngestDeps, ingestBatch } from '../ingest-batch.ts';
import { INGEST_LIMITS } from '../limits.ts';
import type { DecodedBatch } from '../model.ts';
import { decodeOtlpLogs, decodeOtlpMetrics, decodeOtlpTraces, encodeExportResponse, encodeStatus, OtlpDecodeError } from '../otlp/index.ts';
import { parseNative } from '../parse-native.ts';
import { checkRateLimits } from '../rate-limit.ts';
import { readBody } from '../read-body.ts';
import { SeriesCache } from '../series.ts';
import { createSettingsCache } from '../settings.ts';
import { IngestResult, IngestStatsResponse, NativeBatchBody, OtlpExportResponse, OtlpStatus, otlpJsonBody } from '../responses.ts';

type Signal = 'metrics' | 'logs' | 'traces';
const DECODERS = { metrics: decodeOtlpMetrics, logs: decodeOtlpLogs, traces: decodeOtlpTraces } as const;

/**
 * The ingest function: native JSON / NDJSON at `POST /`, OTLP/HTTP at `POST /v1/{metrics,logs,traces}`.
 * Write-path state (circuit breaker, concurrency gate, series and settings caches) lives for the
 * process (or edge isolate) that built these routes.
 */
export function ingestRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const ingest: IngestDeps = {
    db: deps.db,
    auth: deps.auth,
    cache: deps.cache,
    clock: deps.clock,
    logger: deps.logger,
    // A 2 s cooldown: the breaker probes the database at most every 2 s while it is down, and clients
    // wait the Retry-After it gives, so ingest serves again within about 2 s of the database's return
    // (with 5 s a return just after a failed probe waited over 5 s: npm run test:chaos, recovery).
    breaker: createCircuitBreaker({ clock: deps.clock, failureThreshold: 3, cooldownMs: 2_000, timeoutMs: 20_000 }),
    gate: createConcurrencyGate(Math.max(2, deps.config.dbPoolMax - 2), 64),
    seriesCache: new SeriesCache(),
    stats: { dedupDegraded: 0, rateLimitDegraded: 0, requests: 0, events: 0, duplicates: 0, rejected: 0, confirmed: 0, rewrites: 0 },
  };
  const gate = ingest.gate as ReturnType<typeof createConcurrencyGate>;
  const settings = createSettingsCache(deps.db, deps.clock);

  /** Everything shared by both formats once the body is decoded: limits, rate limits, the write. */
  async function accept(c: Context<AppEnv>, decode: (body: Uint8Array) => DecodedBatch) {
    const key = authorize(c.get('identity'), ['apiKey'], 'ingest');
    const body = await readBody(c.req.raw, INGEST_LIMITS.maxBodyBytes);
    const decoded = decode(body);
    const events = decoded.metrics.length + decoded.logs.length + decoded.spans.length;
    if (events + decoded.errors.length > INGEST_LIMITS.maxEvents) {
      throw new AppError('PAYLOAD_TOO_LARGE', `A request may carry at most ${INGEST_LIMITS.maxEvents} events`);
    }
    const limits = await settings(key.projectId);
    const now = deps.clock.now();
    // Monthly quotas (billing): the counters of 'block' signals move with the rate limits, in the cache.
    const quota = deps.config.billing.quotas ? limits.quota : null;
    const counts = { metrics: decoded.metrics.length, logs: decoded.logs.length, traces: decoded.spans.length };
    const counters = quotaCounters(key.organizationId, quota, counts, now);
    const rate = await checkRateLimits(deps.cache, c.get('logger'), { keyId: key.keyId, projectId: key.projectId }, limits, events, now, counters, QUOTA_COUNTER_TTL_MS);
    if (rate.degraded) ingest.stats.rateLimitDegraded += 1;
    /** Brings the quota counters to what was stored (nothing, when refused or failed), after the response. */
    const settleQuota = (stored: SignalCounts | null) => {
      const fix = rate.extra ? quotaCorrections(counters, stored) : [];
      if (fix.length > 0) deps.defer(deps.cache.incrCounters(fix, QUOTA_COUNTER_TTL_MS).catch((err) => c.get('logger').warn({ err }, 'quota counter correction failed')));
    };
    // The headers show the project's limits and traffic: a key from the cache (key.pending) sees them
    // only once confirmed, by the write or, when refused here, by its own lookup (ADR 0004).
    const rateHeaders = () => {
      for (const [k, v] of Object.entries(rate.headers)) c.header(k, v);
    };
    if (!rate.ok) {
      settleQuota(null);
      await deps.auth.confirmApiKey(deps.db, key, deps.clock.now());
      rateHeaders();
      throw new AppError('RATE_LIMITED', 'Rate limit exceeded for this project or API key', { headers: rate.headers });
    }
    const verdict = quota && rate.extra ? decideQuota(quota, counters, rate.extra, now) : undefined;
    if (verdict && !verdict.ok) {
      settleQuota(null);
      await deps.auth.confirmApiKey(deps.db, key, deps.clock.now());
      rateHeaders();
      throw new AppError('QUOTA_EXCEEDED', verdict.message, {
        headers: { 'Retry-After': String(verdict.retryAfterSeconds) },
        details: [{ field: `quota.${verdict.signal}`, message: `${verdict.used} of ${verdict.limit} events used this month; resets ${verdict.resetsAt.toISOString()}` }],
      });
    }
    try {
      const result = await ingestBatch(
        ingest,
        { projectId: key.projectId, organizationId: key.organizationId, key, maxSeries: limits.maxSeries, bytes: body.byteLength },
        decoded,
      );
      settleQuota(result.storedBySignal);
      rateHeaders();
      return result;
    } catch (err) {
      settleQuota(null);
      if (toAppError(err).code !== 'UNAUTHENTICATED') rateHeaders();
      throw err;
    }
  }

  app.post('/', describe(NATIVE_DOC), async (c) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const format = type === 'application/json' ? 'json' : type === 'application/x-ndjson' ? 'ndjson' : undefined;
    if (!format) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send application/json or application/x-ndjson (OTLP goes to /v1/metrics, /v1/logs, /v1/traces)');
    const received = { at: deps.clock.now().getTime(), requestId: c.get('requestId') };
    const result = await accept(c, (body) => parseNative(body, format, received));
    if (result.accepted === 0 && result.duplicates === 0 && result.rejected > 0) {
      throw new AppError('VALIDATION_FAILED', 'No event in the request is valid', {
        details: result.errors.slice(0, 100).map((e) => ({ field: e.field, message: e.message })),
      });
    }
    return c.json({ accepted: result.accepted, rejected: result.rejected, duplicates: result.duplicates, errors: result.errors.slice(0, 1000) });
  });

  /** This process's ingest counters and write-path state, for operators (service role). */
  app.get('/stats', describe({ summary: "This process's ingest counters and write-path state (operators)", auth: ['service'], responses: { 200: IngestStatsResponse } }), (c) => {
    authorize(c.get('identity'), ['service']);
    return c.json({ ...ingest.stats, breaker: ingest.breaker.state(), writesInFlight: gate.inFlight() });
  });

  for (const signal of ['metrics', 'logs', 'traces'] as const) {
    app.post(`/v1/${signal}`, describe(otlpDoc(signal)), (c) => otlp(c, signal));
  }

  /** OTLP/HTTP: answers in the request's encoding; errors become google.rpc.Status (ingestErrorResponse). */
  async function otlp(c: Context<AppEnv>, signal: Signal): Promise<Response> {
    const encoding = otlpEncoding(c);
    if (!encoding) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'OTLP/HTTP accepts application/x-protobuf or application/json');
    const result = await accept(c, (body) => {
      try {
        return DECODERS[signal](body, encoding);
      } catch (err) {
        if (err instanceof OtlpDecodeError) throw new AppError('BAD_REQUEST', err.message, { cause: err });
        throw err;
      }
    });
    const message = result.errors
      .slice(0, 5)
      .map((e) => `${e.field}: ${e.message}`)
      .join('; ');
    c.header('content-type', encoding === 'json' ? 'application/json' : 'application/x-protobuf');
    return c.body(encodeExportResponse(signal, result.rejected, result.rejected ? message : '', encoding) as never, 200);
  }

  return app;
}

const NATIVE_DOC = {
  summary: 'Send metrics, logs and spans in the native format (JSON batch or NDJSON)',
  description: 'Partial success: valid items are stored, invalid ones are listed by index. 400 when no item is valid; 429 with Retry-After past a rate limit or quota.',
  auth: ['apiKey'],
  scope: 'ingest',
  body: { content: { 'application/json': NativeBatchBody, 'application/x-ndjson': undefined }, description: 'NDJSON: one item per line, each with a `type` of metric, log or span.' },
  responses: { 200: IngestResult },
} as const;

const OTLP_ITEMS = { metrics: 'resourceMetrics', logs: 'resourceLogs', traces: 'resourceSpans' } as const;

/** OTLP/HTTP answers and fails in the request's encoding: JSON or protobuf (google.rpc.Status for errors). */
function otlpDoc(signal: Signal) {
  return {
    summary: `OTLP/HTTP ${signal} export (protobuf or JSON)`,
    auth: ['apiKey'],
    scope: 'ingest',
    body: { content: { 'application/x-protobuf': undefined, 'application/json': otlpJsonBody(OTLP_ITEMS[signal]) } },
    responses: {
      200: { description: 'Stored; partialSuccess counts what was rejected', content: { 'application/json': OtlpExportResponse, 'application/x-protobuf': undefined } },
      default: { description: 'An error as google.rpc.Status, in the request encoding', content: { 'application/json': OtlpStatus, 'application/x-protobuf': undefined } },
    },
  } as const;
}

function otlpEncoding(c: Context<AppEnv>): 'protobuf' | 'json' | undefined {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/x-protobuf' ? 'protobuf' : type === 'application/json' ? 'json' : undefined;
}

/**
 * OTLP paths answer errors as google.rpc.Status in the request's encoding (protobuf when it is not
 * one of the two), whatever raised them: the identity middleware, the body limit or the route.
 */
export function ingestErrorResponse(c: Context<AppEnv>, err: Error): Response | undefined {
  if (!/\/v1\/(metrics|logs|traces)$/.test(new URL(c.req.url).pathname)) return undefined;
  const e = toAppError(err);
  const encoding = otlpEncoding(c) ?? 'protobuf';
  const message = e.code === 'INTERNAL' ? 'Internal error' : e.message;
  const headers = new Headers({ 'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf' });
  for (const [k, v] of Object.entries(e.headers ?? {})) headers.set(k, v);
  if (e.code === 'UNAUTHENTICATED') headers.set('WWW-Authenticate', 'Bearer');
  if (e.code === 'UNAVAILABLE' && !headers.has('Retry-After')) headers.set('Retry-After', '5');
  return new Response(encodeStatus(GRPC_CODES[e.code] ?? 13, message, encoding) as BodyInit, { status: e.status, headers });
}

/** google.rpc.Code for each of our error codes. */
const GRPC_CODES: Partial<Record<AppError['code'], number>> = {
  BAD_REQUEST: 3,
  VALIDATION_FAILED: 3,
  UNAUTHENTICATED: 16,
  FORBIDDEN: 7,
  NOT_FOUND: 5,
  PAYLOAD_TOO_LARGE: 8,
  UNSUPPORTED_MEDIA_TYPE: 3,
  RATE_LIMITED: 8,
  QUOTA_EXCEEDED: 8,
  UNAVAILABLE: 14,
};
