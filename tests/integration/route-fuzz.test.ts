/**
 * Property-based fuzzing of every route's inputs (fast-check): a caller who may use the route sends
 * its valid request with one part replaced by arbitrary data (the whole body, one body field, one
 * query parameter, a path parameter, raw bytes for protocol routes). Client mistakes must never be a
 * 5xx, and the process keeps serving: the valid request still succeeds afterwards.
 *
 * FUZZ_RUNS sets the runs per route and strategy (default 8: every route, about a thousand requests
 * per mode; raise it locally to search harder). A failure prints the shrunk counterexample and the
 * seed to replay it with.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAs, createMatrixTenant, judge, type MatrixRequest, type MatrixTenant, type RouteCase } from '../helpers/auth-matrix.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { CASES, ROUTE_CASES_ENV, setUpRouteCases } from '../helpers/route-cases.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 8);

let env: TestEnv;
let t: MatrixTenant;
beforeAll(async () => {
  env = await createTestEnv({ env: ROUTE_CASES_ENV });
  t = await setUpRouteCases(env);
}, 120_000);
afterAll(async () => {
  await env?.close();
});

/** JSON a client might send by mistake: wrong types, deep or odd strings (NUL, lone surrogates), huge numbers. */
const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '\u0000', '\ud800', '-9e15', '9'.repeat(40), 'NaN', '1e309', '../../etc/passwd', "'; drop table logs; --", '%00', '{', 'null'),
  fc.double(),
  fc.bigInt().map(String),
);
const queryValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), junk.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')));

// Jobs take no input, and their runs are slow: their auth is in the matrix, not here.
const FUZZED = CASES.filter((c) => !c.route.startsWith('cron-'));

function strategies(valid: MatrixRequest): Array<{ name: string; arb: fc.Arbitrary<MatrixRequest> }> {
  const out: Array<{ name: string; arb: fc.Arbitrary<MatrixRequest> }> = [];
  if (valid.raw) {
    out.push({
      name: 'raw bytes',
      arb: fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('application/json', 'application/x-protobuf')).map(([bytes, contentType]) => ({
        ...valid,
        raw: { body: Buffer.from(bytes).toString('latin1'), contentType },
      })),
    });
    return out;
  }
  if (valid.body !== undefined) {
    out.push({ name: 'whole body', arb: junk.map((body) => ({ ...valid, body })) });
    const fields = valid.body && typeof valid.body === 'object' ? Object.keys(valid.body) : [];
    if (fields.length > 0) {
      out.push({
        name: 'one body field',
        arb: fc.tuple(fc.constantFrom(...fields, '__unknown'), junk).map(([field, value]) => ({ ...valid, body: { ...(valid.body as object), [field]: value } })),
      });
    }
  }
  const params = Object.keys(valid.query ?? {});
  out.push({
    name: 'one query parameter',
    arb: fc.tuple(fc.constantFrom(...params, 'limit', 'cursor', 'from', 'unknownParam'), queryValue).map(([key, value]) => ({ ...valid, query: { ...valid.query, [key]: value } })),
  });
  const segments = valid.path.split('/').filter(Boolean);
  if (segments.length > 0) {
    out.push({
      name: 'a path segment',
      arb: fc.tuple(fc.nat({ max: segments.length - 1 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 40 })).map(([i, s]) => ({
        ...valid,
        path: `/${segments.map((seg, j) => (j === i ? encodeURIComponent(s) : seg)).join('/')}`,
      })),
    });
  }
  return out;
}

describe('route input fuzzing', () => {
  it.each(FUZZED.map((c) => [c.route, c] as const))('%s: no 5xx for any input, and it still serves', async (route, c: RouteCase) => {
    const [fn, method] = route.split(' ') as [string, string];
    const caller = c.allow[0]!;
    // A case that changes who may do what, or removes its target, gets a tenant of its own per strategy.
    const tenant = async () => (c.fresh ? createMatrixTenant(env) : t);
    for (const { name } of strategies(await c.request({ env, t, caller }))) {
      const tt = await tenant();
      const valid = await c.request({ env, t: tt, caller });
      const [strategy] = strategies(valid).filter((x) => x.name === name);
      await fc.assert(
        fc.asyncProperty(strategy!.arb, async (req) => {
          const { status, text } = await callAs(env, tt, caller, method, fn, req);
          // A 503 would be the database or cache being unavailable, not the input: none is down here.
          expect(status, `${name}: ${text.slice(0, 200)}`).toBeLessThan(500);
        }),
        { numRuns: RUNS },
      );
    }
    const tt = await tenant();
    const { status, text } = await callAs(env, tt, caller, method, fn, await c.request({ env, t: tt, caller }));
    expect(judge(c, caller, status), text.slice(0, 200)).toBeUndefined();
  });
});
