/**
 * Every route x every kind of caller (tests/helpers/auth-matrix.ts, cases in tests/helpers/route-cases.ts):
 * the right callers succeed, the others get 401 (no credentials) or 403/404 (wrong role, scope,
 * credential kind or tenant), and nobody gets a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../src/app/functions.ts';
import { CALLERS, callAs, type Caller, createMatrixTenant, judge, type MatrixTenant } from '../helpers/auth-matrix.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { CASES, ROUTE_CASES_ENV, setUpRouteCases } from '../helpers/route-cases.ts';

let env: TestEnv;
let t: MatrixTenant;
beforeAll(async () => {
  env = await createTestEnv({ env: ROUTE_CASES_ENV });
  t = await setUpRouteCases(env);
}, 120_000);
afterAll(async () => {
  await env?.close();
});


describe('auth matrix', () => {
  it('has a case for every route every function registers', async () => {
    const registered = new Set<string>();
    for (const f of FUNCTIONS) {
      if (!f.routes) continue;
      for (const r of f.routes(env.deps).routes) if (r.method !== 'ALL') registered.add(`${f.name} ${r.method} ${r.path}`);
    }
    expect([...registered].filter((r) => !CASES.some((c) => c.route === r))).toEqual([]);
    expect(CASES.map((c) => c.route).filter((r) => !registered.has(r))).toEqual([]);
  });

  it('functions not built yet answer 501 to every caller', async () => {
    for (const f of FUNCTIONS.filter((f) => !f.routes)) {
      for (const caller of CALLERS) {
        const { status } = await callAs(env, t, caller, 'GET', f.name, { path: '/anything' });
        expect(status, `${f.name} as ${caller}`).toBe(501);
      }
    }
  });

  it.each(CASES.map((c) => [c.route, c] as const))('%s', async (route, c) => {
    const [fn, method] = route.split(' ') as [string, string];
    const wrong: string[] = [];
    // Refused callers first, so the target is still there for those who may act on it.
    const order: Caller[] = [...CALLERS.filter((x) => !c.allow.includes(x)), ...CALLERS.filter((x) => c.allow.includes(x))];
    for (const caller of order) {
      const tenant = c.fresh ? await createMatrixTenant(env) : t;
      const req = await c.request({ env, t: tenant, caller });
      const { status, text } = await callAs(env, tenant, caller, method, fn, req);
      const verdict = judge(c, caller, status);
      if (verdict) wrong.push(`${caller}: ${verdict} ${text.slice(0, 160)}`);
    }
    expect(wrong).toEqual([]);
  });
});
