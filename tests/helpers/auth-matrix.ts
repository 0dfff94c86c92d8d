/**
 * The auth matrix: every route of every function, called by every kind of caller, with the answer
 * each should get. A route case names who may call it; everyone else must be refused: 401 without
 * credentials, 403 or 404 with credentials of the wrong role, scope, kind or tenant (404 where the
 * target is invisible to the caller, so no tenant learns another's ids exist). Never a 2xx, never a
 * 5xx.
 *
 * Each case builds its request for each caller (so a write by one caller does not change what the
 * next one meets), and a case marked `fresh` gets a new tenant per caller (deletions, membership
 * changes). Route coverage is checked against the routes the function apps actually register, so a
 * new route without a case fails the suite.
 */
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import type { TestEnv } from './env.ts';
import { createTenant, type Tenant } from './tenant.ts';

export const CALLERS = ['anonymous', 'owner', 'admin', 'member', 'unassigned', 'viewer', 'outsider', 'ingestKey', 'readKey', 'adminKey', 'otherKey', 'service'] as const;
export type Caller = (typeof CALLERS)[number];

/** A tenant with an API key of each single scope on project A, and an all-scope key of the other organization. */
export interface MatrixTenant extends Tenant {
  keys: Record<'ingestKey' | 'readKey' | 'adminKey' | 'otherKey', string>;
}

export interface MatrixRequest {
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Raw body with its content type (protocol routes). */
  raw?: { body: string; contentType: string };
  /** Headers a protocol sends (a signature over the raw body). */
  headers?: Record<string, string>;
}

export interface RouteCase {
  /** `<function> <METHOD> <route path as registered>`, e.g. `orgs PATCH /:orgId`. */
  route: string;
  /** Callers that succeed; everyone else is refused. */
  allow: readonly Caller[];
  /** What success is: a status, or 'authorized' (any answer but 401/403/404, for routes whose success needs an outside service). */
  ok?: number | 'authorized';
  /** A new tenant per caller: the call changes who may do what, or removes the target. */
  fresh?: boolean;
  request(ctx: { env: TestEnv; t: MatrixTenant; caller: Caller }): Promise<MatrixRequest> | MatrixRequest;
}

export async function createMatrixTenant(env: TestEnv): Promise<MatrixTenant> {
  const t = await createTenant(env);
  const key = async (orgId: string, projectId: string, scopes: string[]) => {
    const k = await generateApiKey();
    await env.db.query(
      `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'matrix', $3, $4, $5)`,
      [orgId, projectId, k.prefix, k.hash, scopes],
    );
    return k.key;
  };
  return {
    ...t,
    keys: {
      ingestKey: await key(t.orgId, t.projectA, ['ingest']),
      readKey: await key(t.orgId, t.projectA, ['read']),
      adminKey: await key(t.orgId, t.projectA, ['admin']),
      otherKey: await key(t.other.orgId, t.other.projectId, ['ingest', 'read', 'admin']),
    },
  };
}

/** Calls the route as the caller; returns the status (the body is read, or cancelled for a stream). */
export async function callAs(env: TestEnv, t: MatrixTenant, caller: Caller, method: string, fn: string, req: MatrixRequest): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { ...req.headers };
  if (caller === 'service') headers.authorization = `Bearer ${await env.serviceJwt()}`;
  else if (caller === 'ingestKey' || caller === 'readKey' || caller === 'adminKey' || caller === 'otherKey') headers['x-api-key'] = t.keys[caller];
  else if (caller !== 'anonymous') headers.authorization = `Bearer ${t.people[caller].jwt}`;
  let body: string | undefined;
  if (req.raw) {
    headers['content-type'] = req.raw.contentType;
    body = req.raw.body;
  } else if (req.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.body);
  }
  const qs = req.query ? `?${new URLSearchParams(req.query)}` : '';
  const res = await env.app.request(`/functions/v1/${fn}${req.path === '/' ? '' : req.path}${qs}`, { method, headers, body });
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, text: '' };
  }
  return { status: res.status, text: await res.text() };
}

/** The verdict for one call: undefined when the answer is right, else what was wrong. */
export function judge(c: RouteCase, caller: Caller, status: number): string | undefined {
  if (status >= 500 && c.ok !== 'authorized') return `answered ${status}`;
  if (c.allow.includes(caller)) {
    if (c.ok === 'authorized') return [401, 403, 404].includes(status) ? `was refused (${status})` : undefined;
    const want = c.ok ?? 200;
    return status === want ? undefined : `expected ${want}, got ${status}`;
  }
  if (caller === 'anonymous') return status === 401 ? undefined : `expected 401 without credentials, got ${status}`;
  return status === 403 || status === 404 ? undefined : `expected 403 or 404, got ${status}`;
}
