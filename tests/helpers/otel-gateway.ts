/**
 * The gateway on a real socket for the OpenTelemetry JS SDK tests (tests/e2e/otel-sdk-*.test.ts): a
 * fresh database and tenant, every request the gateway answered recorded (what the SDK sent and what
 * it got back), the SDK's warnings and errors collected, and the pieces the tests share: a Recorder
 * between the SDK and a real OTLP exporter, exact time conversions, and the check that every export
 * of a test got a clean 200 in its encoding.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { type DiagLogger, DiagLogLevel, diag, type HrTime } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { expect } from 'vitest';
import { checkAgainstDocument, createTestEnv, type TestEnv } from './env.ts';
import { createTenant, type Tenant } from './tenant.ts';

export type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];
/** ExportResultCode.SUCCESS, with no error: what an exporter reports after a 2xx. */
export const SUCCESS = { code: 0 };

/**
 * Sits between an SDK processor/reader and a real OTLP exporter: keeps every batch the SDK exported
 * and every result the exporter reported, and can send a batch again through the same exporter.
 */
export class Recorder<T> {
  readonly batches: T[] = [];
  readonly results: ExportResult[] = [];
  constructor(private readonly otlp: { export(items: T, cb: (r: ExportResult) => void): void }) {}
  export(items: T, cb: (r: ExportResult) => void): void {
    this.batches.push(items);
    this.otlp.export(items, (r) => {
      this.results.push(r);
      cb(r);
    });
  }
  /** What an exporter retry does: the same items, serialized again and sent again. */
  resend(items: T): Promise<ExportResult> {
    return new Promise((resolve) => this.otlp.export(items, resolve));
  }
}

export interface ExporterOptions {
  url: string;
  headers: Record<string, string>;
}

/** Epoch milliseconds (microsecond fractions allowed) to an HrTime, exactly. */
export function hr(ms: number): HrTime {
  const us = Math.round(ms * 1000);
  return [Math.floor(us / 1_000_000), (us % 1_000_000) * 1000];
}

/** An HrTime as whole microseconds since the epoch (what Postgres keeps), as a decimal string. */
export function usOf(t: HrTime): string {
  return String(BigInt(t[0]) * 1_000_000n + BigInt(Math.floor(t[1] / 1000)));
}

/** A timestamptz column as whole microseconds since the epoch, exact (numeric, not float). */
export const US = (col: string) => `(extract(epoch from ${col}) * 1000000)::bigint::text`;

/** A whole millisecond a little in the past: inside the acceptance window, fractions added by the tests. */
export const recent = (agoMs: number) => Date.now() - agoMs;

export type Signal = 'metrics' | 'logs' | 'traces';

export interface OtelGateway {
  env: TestEnv;
  t: Tenant;
  /** The ingest function's URL on the socket (…/functions/v1/ingest). */
  base: string;
  /** Every request the gateway answered: what the SDK sent and what it got back. */
  exchanges: Array<{ path: string; requestType: string; encoding: string; status: number; responseType: string; body: Uint8Array }>;
  /** Warnings and errors the SDK logged (partial success, undecodable responses, failed exports). */
  diagnostics: string[];
  /** An exporter's url and headers for one signal, with project A's key. */
  options(signal: Signal): ExporterOptions;
  /** Every request of this test reached the OTLP route, in the variant's encoding, and got a 200 in that encoding. */
  expectCleanExchanges(signal: string, requestType: string, count: number): void;
  count(sql: string, params: unknown[]): Promise<number>;
  /** Stops the server and the SDK's diagnostics logger, drops the database. */
  close(): Promise<void>;
}

export async function startOtelGateway(): Promise<OtelGateway> {
  const exchanges: OtelGateway['exchanges'] = [];
  const diagnostics: string[] = [];
  /** Answers that contradicted the OpenAPI document: close() fails the suite with them. */
  const contradictions: string[] = [];
  let server: ServerType | undefined;
  const env = await createTestEnv();
  const close = async () => {
    diag.disable();
    if (server) {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    await env.close();
    if (contradictions.length > 0) throw new Error(contradictions.join('\n'));
  };
  try {
    const t = await createTenant(env);
    const app = env.app;
    await new Promise<void>((resolve) => {
      server = serve(
        {
          fetch: async (req: Request, ...rest: unknown[]) => {
            const res = await (app.fetch as (r: Request, ...a: unknown[]) => Response | Promise<Response>)(req, ...rest);
            await checkAgainstDocument(env, req.method, new URL(req.url).pathname, res).catch((err: Error) => contradictions.push(err.message));
            const body = new Uint8Array(await res.clone().arrayBuffer());
            exchanges.push({
              path: new URL(req.url).pathname,
              requestType: req.headers.get('content-type') ?? '',
              encoding: req.headers.get('content-encoding') ?? '',
              status: res.status,
              responseType: res.headers.get('content-type') ?? '',
              body,
            });
            return res;
          },
          hostname: '127.0.0.1',
          port: 0,
        },
        () => resolve(),
      );
    });
    const { port } = server!.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}/functions/v1/ingest`;
    const collect = (level: string) => (message: string, ...args: unknown[]) => {
      diagnostics.push(`${level}: ${message} ${args.map((a) => (a instanceof Error ? a.message : JSON.stringify(a))).join(' ')}`);
    };
    const logger: DiagLogger = { error: collect('error'), warn: collect('warn'), info: () => {}, debug: () => {}, verbose: () => {} };
    diag.setLogger(logger, DiagLogLevel.WARN);

    const options = (signal: Signal): ExporterOptions => ({ url: `${base}/v1/${signal}`, headers: { 'x-api-key': t.keyA.secret } });

    function expectCleanExchanges(signal: string, requestType: string, count: number) {
      expect(diagnostics).toEqual([]);
      expect(exchanges.map((e) => ({ path: e.path, requestType: e.requestType.split(';')[0], status: e.status, responseType: e.responseType.split(';')[0] }))).toEqual(
        Array.from({ length: count }, () => ({ path: `/functions/v1/ingest/v1/${signal}`, requestType, status: 200, responseType: requestType })),
      );
      // Full success: no partial_success (an empty message in protobuf, `{}` in JSON).
      for (const e of exchanges) {
        if (requestType === 'application/json') expect(JSON.parse(new TextDecoder().decode(e.body))).toEqual({});
        else expect(e.body.byteLength).toBe(0);
      }
    }

    const count = async (sql: string, params: unknown[]) => Number((await env.db.query<{ n: string }>(`select count(*) as n from ${sql}`, params))[0]!.n);

    return { env, t, base, exchanges, diagnostics, options, expectCleanExchanges, count, close };
  } catch (err) {
    await close();
    throw err;
  }
}
