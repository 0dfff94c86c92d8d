/**
 * Every route of every function, with a valid request for it and who may make it: the cases the auth
 * matrix (tests/integration/auth-matrix.test.ts) and the input fuzzer (tests/integration/route-fuzz.test.ts)
 * run. Targets are organization A's and project A's resources; `member` is assigned to project A,
 * `unassigned` is a member assigned to nothing, `outsider` owns another organization, and `otherKey`
 * is an all-scope key of that other organization.
 */
import { expect } from 'vitest';
import { FUNCTIONS } from '../../src/app/functions.ts';
import { linkSecret } from '../../src/oncall/action-links.ts';
import { overrideId } from '../../src/oncall/schedule-store.ts';
import { pagerDutySignature, signActionLink, slackSignature } from '../../src/oncall/signatures.ts';
import { createSecretBox } from '../../src/core/secret-box.ts';
import { stripeSignatureHeader } from '../../src/billing/stripe/signature.ts';
import { createMatrixTenant, type MatrixTenant, type RouteCase } from './auth-matrix.ts';
import { TEST_JWT_SECRET, type TestEnv } from './env.ts';

const NOW = Date.now();
const MATRIX_STRIPE_SECRET = 'whsec_matrix0123456789';
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const TRACE = 'a'.repeat(32);
const unique = () => Math.random().toString(36).slice(2, 10);

const USERS = ['owner', 'admin', 'member', 'unassigned', 'viewer', 'outsider'] as const;
const OWNERS = ['owner', 'admin'] as const;
/** Who reads project A: its organization's owner, admin and viewer, the assigned member, a read key. */
const READERS = ['owner', 'admin', 'member', 'viewer', 'readKey'] as const;
/** Who changes data in project A. */
const WRITERS = ['owner', 'admin', 'member'] as const;

/** Who mints a stream token: any signed-in user, any key with the read scope (the stream itself then decides what they see). */
const STREAM_MINTERS = [...USERS, 'readKey', 'otherKey'] as const;

let env: TestEnv;
const fixture = { logId: '', episodeId: '', destinationId: '', scheduleId: '', exportId: '' };

const db = () => env.db;
async function destination(tt: MatrixTenant): Promise<string> {
  // A closed local port: nothing is contacted if a job picks a run up.
  const [d] = await db().query<{ id: string }>(
    `insert into public.export_destinations (project_id, organization_id, name, endpoint, bucket, access_key_id, secret_ciphertext)
     values ($1, $2, $3, 'http://127.0.0.1:9', 'matrix-bucket', 'AKIA', 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
    [tt.projectA, tt.orgId, `d-${unique()}`],
  );
  return d!.id;
}
async function failedExport(tt: MatrixTenant, destinationId: string): Promise<string> {
  const [r] = await db().query<{ id: string }>(
    `insert into public.export_runs (project_id, organization_id, destination_id, signal, from_time, to_time, status, error)
     values ($1, $2, $3, 'logs', now() - interval '1 day', now(), 'failed', 'fixture') returning id`,
    [tt.projectA, tt.orgId, destinationId],
  );
  return r!.id;
}
async function apiKeyId(tt: MatrixTenant): Promise<string> {
  const [k] = await db().query<{ id: string }>(
    `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'target', $3, repeat('c', 64), array['read']) returning id`,
    [tt.orgId, tt.projectA, unique().padEnd(12, 'x').slice(0, 12)],
  );
  return k!.id;
}

// ---- dashboards (metrics function): each request gets its own shared dashboard of project A, made by
// the member assigned to it, so its creator, owners and admins may change it.
const dashboardBody = () => ({ title: `Matrix ${unique()}`, panels: [{ kind: 'timeseries', title: 'M', gridPos: { x: 0, y: 0, w: 12, h: 6 }, queries: [{ metric: 'matrix.m' }] }] });
async function dashboard(tt: MatrixTenant): Promise<string> {
  const [d] = await db().query<{ id: string }>(
    `insert into public.dashboards (project_id, organization_id, title, created_by) values ($1, $2, 'Matrix', $3) returning id`,
    [tt.projectA, tt.orgId, tt.people.member.id],
  );
  return d!.id;
}

// ---- alerts: rules and state. Each request makes its own rule or notification (as the jobs would:
// rows written by the service role), so no case depends on another's writes.
/** Who changes project A's alert rules: its writers, and an admin key (CI applying a rules file). */
const ALERT_WRITERS = [...WRITERS, 'adminKey'] as const;
const alertRuleSpec = (key = `r-${unique()}`) => ({ key, name: 'Matrix rule', kind: 'metric', query: { metric: 'matrix.m' }, condition: { op: '>', critical: 1 } });
async function alertRule(tt: MatrixTenant): Promise<{ id: string; key: string }> {
  const key = `r-${unique()}`;
  const [r] = await db().query<{ id: string }>(
    `insert into public.alert_rules (project_id, organization_id, key, name, kind, query, condition)
     values ($1, $2, $3, 'Matrix rule', 'metric', '{"metric": "matrix.m"}', '{"op": ">", "critical": 1}') returning id`,
    [tt.projectA, tt.orgId, key],
  );
  return { id: r!.id, key };
}
async function alertNotification(tt: MatrixTenant, status: 'sent' | 'failed'): Promise<string> {
  // A closed local port: nothing is contacted if the dispatcher picks a retried one up.
  const [cp] = await db().query<{ id: string }>(
    `insert into public.contact_points (project_id, organization_id, name, kind, settings) values ($1, $2, 'matrix', 'webhook', '{"url": "http://127.0.0.1:9"}') returning id`,
    [tt.projectA, tt.orgId],
  );
  const [n] = await db().query<{ id: string }>(
    `insert into public.alert_notifications (project_id, organization_id, contact_point_id, group_key, seq, receiver, payload, status, attempts)
     values ($1, $2, $3, $4, 1, 'matrix', '{}', $5, 1) returning id`,
    [tt.projectA, tt.orgId, cp!.id, `g-${unique()}`, status],
  );
  return n!.id;
}

// ---- alerts: silences, policy, contact points. Each request makes its own silence or contact point
// (rows written as the database owner), so no case depends on another's writes; contact points post
// to a closed local port that the outbound guard refuses anyway, so a test-send contacts nothing.
async function alertSilence(tt: MatrixTenant): Promise<string> {
  const [s] = await db().query<{ id: string }>(
    `insert into public.alert_silences (project_id, organization_id, matchers, starts_at, ends_at, comment)
     values ($1, $2, '[{"name": "alertname", "op": "=", "value": "Matrix"}]', now(), now() + interval '1 hour', 'matrix') returning id`,
    [tt.projectA, tt.orgId],
  );
  return s!.id;
}
async function contactPoint(tt: MatrixTenant, name = `cp-${unique()}`): Promise<string> {
  const [cp] = await db().query<{ id: string }>(
    `insert into public.contact_points (project_id, organization_id, name, kind, settings)
     values ($1, $2, $3, 'alertmanager', '{"url": "http://127.0.0.1:9/", "maxAlerts": 0, "auth": "bearer"}') returning id`,
    [tt.projectA, tt.orgId, name],
  );
  return cp!.id;
}
/** The receiver PUT /policy routes to: one contact point of that name in project A, made once. */
async function policyReceiver(tt: MatrixTenant): Promise<string> {
  const [found] = await db().query('select 1 from public.contact_points where project_id = $1 and name = $2', [tt.projectA, 'matrix-receiver']);
  if (!found) await contactPoint(tt, 'matrix-receiver');
  return 'matrix-receiver';
}

const A = (tt: MatrixTenant) => ({ projectId: tt.projectA });

// ---- webhooks: endpoints at a closed local port (a test-send is refused by the guard before connecting).
/** Who manages project A's webhook endpoints: the organization's owners and admins, and an admin key. */
const WEBHOOK_ADMINS = [...OWNERS, 'adminKey'] as const;
async function newWebhookEndpoint(tt: MatrixTenant): Promise<string> {
  const [e] = await db().query<{ id: string }>(
    `insert into public.webhook_endpoints (organization_id, project_id, url, event_types, secret_ciphertext)
     values ($1, $2, 'http://127.0.0.1:9/', '{*}', 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
    [tt.orgId, tt.projectA],
  );
  return e!.id;
}
/**
 * Project A's fixture endpoint, one per tenant (an organization may have 50: the fuzzer's many calls
 * must not fill them); it is re-enabled each time, in case a case disabled it.
 */
const webhookEndpoints = new Map<string, string>();
async function webhookEndpoint(tt: MatrixTenant): Promise<string> {
  let id = webhookEndpoints.get(tt.orgId);
  const [live] = id ? await db().query<{ id: string }>('update public.webhook_endpoints set disabled_at = null, disabled_reason = null where id = $1 returning id', [id]) : [];
  if (!live) webhookEndpoints.set(tt.orgId, (id = await newWebhookEndpoint(tt)));
  return id!;
}
/** A message of project A's fixture endpoint (a test event aimed at it), ended as `failed`. */
async function webhookMessage(tt: MatrixTenant): Promise<{ endpointId: string; messageId: string }> {
  const endpointId = await webhookEndpoint(tt);
  const [m] = await db().query<{ id: string }>(
    `with ev as (
       insert into public.webhook_events (organization_id, project_id, endpoint_id, type, payload)
       values ($1, $2, $3, 'api_key.created', '{"type": "api_key.created", "timestamp": "2026-12-06T00:00:00.000Z", "data": {}}') returning id
     )
     select id from ev`,
    [tt.orgId, tt.projectA, endpointId],
  );
  const [msg] = await db().query<{ id: string }>(
    `update public.webhook_messages set status = 'failed', attempts = 1, last_error = 'fixture' where event_id = $1 returning id`,
    [m!.id],
  );
  return { endpointId, messageId: msg!.id };
}

// ---- oncall: a service per tenant with a known routing key (its sha256 stored, as the API does),
// and a fresh triggered incident per acting request.
/** Who reads an organization's escalation policies: every member of it (user tokens). */
const ORG_MEMBERS = ['owner', 'admin', 'member', 'unassigned', 'viewer'] as const;
/** New each run: Events v2 is limited to 120 events a minute per routing key (counted in Redis across test files). */
const ONCALL_KEY = `Mx${unique()}${unique()}${unique()}${unique()}`.padEnd(32, 'k').slice(0, 32);
const oncallServices = new Map<string, string>();
async function newOncallService(tt: MatrixTenant, key = `${unique()}${unique()}${unique()}${unique()}`.padEnd(32, 'k').slice(0, 32)): Promise<string> {
  const [s] = await db().query<{ id: string }>(
    `insert into public.oncall_services (organization_id, project_id, name, integration_key_hash)
     values ($1, $2, $3, encode(sha256(convert_to($4, 'UTF8')), 'hex')) returning id`,
    [tt.orgId, tt.projectA, `svc-${unique()}`, key],
  );
  return s!.id;
}
/** Project A's fixture service, whose routing key is ONCALL_KEY (one per tenant: keys are unique). */
async function oncallService(tt: MatrixTenant): Promise<string> {
  let id = oncallServices.get(tt.orgId);
  const [live] = id ? await db().query<{ id: string }>('select id from public.oncall_services where id = $1', [id]) : [];
  if (!live) {
    await db().query('delete from public.oncall_services where integration_key_hash = encode(sha256(convert_to($1, \'UTF8\')), \'hex\')', [ONCALL_KEY]);
    oncallServices.set(tt.orgId, (id = await newOncallService(tt, ONCALL_KEY)));
  }
  return id!;
}
async function escalationPolicy(tt: MatrixTenant): Promise<string> {
  const [p] = await db().query<{ id: string }>(
    `insert into public.escalation_policies (organization_id, name, document) values ($1, $2, $3::text::jsonb) returning id`,
    [tt.orgId, `p-${unique()}`, JSON.stringify(oncallPolicy(tt))],
  );
  return p!.id;
}
/** A link acknowledging the tenant's incident as its owner, signed as the test server signs them. */
async function actionToken(tt: MatrixTenant, action: 'ack' | 'resolve'): Promise<string> {
  const secret = (await linkSecret({ jwtSecret: TEST_JWT_SECRET }))!;
  return signActionLink(secret, { incidentId: await oncallIncident(tt), action, userId: tt.people.owner.id, expiresAt: Date.now() + HOUR });
}

/** A maintenance window of the tenant's service, still to come (ending it removes it). */
async function maintenanceWindow(tt: MatrixTenant): Promise<string> {
  const serviceId = await oncallService(tt);
  const [w] = await db().query<{ id: string }>(
    `insert into public.maintenance_windows (organization_id, project_id, service_id, starts_at, ends_at) values ($1, $2, $3, now() + interval '30 days', now() + interval '31 days') returning id`,
    [tt.orgId, tt.projectA, serviceId],
  );
  return w!.id;
}

/** A PagerDuty webhook subscription of the tenant's organization, with its secret sealed as the API seals it. */
async function pagerDutyWebhook(tt: MatrixTenant): Promise<{ id: string; secret: string }> {
  const id = crypto.randomUUID();
  const secret = `pd-${unique()}-0123456789abcdef`;
  const sealed = await (await createSecretBox(ROUTE_CASES_ENV.SECRET_ENCRYPTION_KEY)).seal(secret, id);
  await db().query('insert into public.oncall_pagerduty_webhooks (id, organization_id, signing_secret_ciphertext) values ($1, $2, $3)', [id, tt.orgId, sealed]);
  return { id, secret };
}

/** A Slack interaction with nothing to do (no button of ours), signed with the tenant's app's secret as Slack signs them. */
async function slackRequest(tt: MatrixTenant) {
  const secret = 'b'.repeat(32);
  const [row] = await db().query<{ id: string }>('select id from public.oncall_slack_apps where organization_id = $1', [tt.orgId]);
  // The seal is bound to the row's id: the one there, or the one inserted.
  const id = row?.id ?? crypto.randomUUID();
  const sealed = await (await createSecretBox(ROUTE_CASES_ENV.SECRET_ENCRYPTION_KEY)).seal(secret, id);
  await db().query(
    `insert into public.oncall_slack_apps (id, organization_id, signing_secret_ciphertext) values ($1, $2, $3)
     on conflict (organization_id) do update set signing_secret_ciphertext = excluded.signing_secret_ciphertext`,
    [id, tt.orgId, sealed],
  );
  const appId = id;
  const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U0MATRIX' }, actions: [{ action_id: 'x', value: 'y' }] }))}`;
  const ts = String(Math.floor(Date.now() / 1000));
  return { path: `/slack/actions/${appId}`, raw: { body, contentType: 'application/x-www-form-urlencoded' }, headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': await slackSignature(secret, ts, body) } };
}

/** A policy paging the tenant's member (targets are checked against the organization when saved). */
const oncallPolicy = (tt: MatrixTenant) => ({ levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: tt.people.member.id }] }], repeat: 0, ackTimeoutMinutes: null });
async function oncallIncident(tt: MatrixTenant, state: 'triggered' | 'acknowledged' = 'triggered'): Promise<string> {
  const serviceId = await oncallService(tt);
  const key = `k-${unique()}`;
  const [i] = await db().query<{ id: string }>(
    `insert into public.incidents (organization_id, project_id, service_id, group_key, dedup_key, title, urgency, escalation, state, acknowledged_at, acknowledged_by)
     values ($1, $2, $3, $4, $5, 'Matrix incident', 'high', '{"cycle": 0, "cycleStartedAt": null, "nextStep": 0, "nextAt": null, "ackExpiresAt": null}',
       $6, case when $6 = 'acknowledged' then now() end, case when $6 = 'acknowledged' then 'matrix' end) returning id`,
    [tt.orgId, tt.projectA, serviceId, `pagerduty/${serviceId}/${key}`, key, state],
  );
  return i!.id;
}
const window = { from: iso(NOW - HOUR), to: iso(NOW + HOUR) };

// ---- oncall schedules: a daily UTC rotation of the member and the unassigned member (both of
// organization A) from 2030-01-01 09:00, written as the database owner. A fixture schedule per tenant
// for reads and additive writes; a new one for each request that removes or swaps.
const scheduleDoc = (tt: MatrixTenant, overrides: unknown[] = []) => ({
  zone: 'UTC',
  layers: [{ id: 'daily', versions: [{ effectiveFrom: '2030-01-01T09:00:00Z', rotation: { type: 'daily' }, handoff: '09:00', members: [tt.people.member.id, tt.people.unassigned.id] }] }],
  overrides,
});
async function newOncallSchedule(tt: MatrixTenant, overrides: unknown[] = []): Promise<string> {
  const [s] = await db().query<{ id: string }>(
    `insert into public.oncall_schedules (organization_id, name, time_zone, document) values ($1, $2, 'UTC', $3::text::jsonb) returning id`,
    [tt.orgId, `s-${unique()}`, JSON.stringify(scheduleDoc(tt, overrides))],
  );
  return s!.id;
}
const oncallSchedules = new Map<string, string>();
async function oncallSchedule(tt: MatrixTenant): Promise<string> {
  let id = oncallSchedules.get(tt.orgId);
  const [live] = id ? await db().query<{ id: string }>('select id from public.oncall_schedules where id = $1', [id]) : [];
  if (!live) oncallSchedules.set(tt.orgId, (id = await newOncallSchedule(tt)));
  return id!;
}
/** The fixture schedule's feed (made by the member) and its token, one per tenant. */
const oncallFeedTokens = new Map<string, string>();
async function oncallFeed(tt: MatrixTenant, token = `oai_cal_${unique()}${unique()}${unique()}${unique()}${unique()}${unique()}`.padEnd(51, 'x').slice(0, 51)): Promise<{ id: string; token: string }> {
  const [f] = await db().query<{ id: string }>(
    `insert into public.oncall_feed_tokens (organization_id, schedule_id, token_hash, created_by) values ($1, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'), $4) returning id`,
    [tt.orgId, await oncallSchedule(tt), token, tt.people.member.id],
  );
  return { id: f!.id, token };
}
async function oncallFeedToken(tt: MatrixTenant): Promise<string> {
  let token = oncallFeedTokens.get(tt.orgId);
  const [live] = token ? await db().query(`select 1 from public.oncall_feed_tokens where token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex') and revoked_at is null`, [token]) : [];
  if (!live) oncallFeedTokens.set(tt.orgId, (token = (await oncallFeed(tt)).token));
  return token!;
}
/** The caller's own id where they are a person of tenant A (members override only for themselves). */
const selfOr = (tt: MatrixTenant, caller: string) => (caller in tt.people ? tt.people[caller as keyof MatrixTenant['people']].id : tt.people.member.id);
/** Who may override for themselves: owners and admins (anyone), members; viewers may not. */
const SCHEDULE_EDITORS = ['owner', 'admin', 'member', 'unassigned'] as const;

export const CASES: RouteCase[] = [
  // ---------------------------------------------------------------------------------------- ingest
  // Ingest writes to the key's own project, whichever it is: the other organization's key is stored in
  // the other organization's project (tests/integration/ingest.http.test.ts checks where rows land).
  {
    route: 'ingest POST /',
    allow: ['ingestKey', 'otherKey'],
    request: () => ({ path: '/', body: { metrics: [{ name: 'matrix.m', value: 1, timestamp: NOW, tags: { k: unique() } }] } }),
  },
  ...(['metrics', 'logs', 'traces'] as const).map(
    (signal): RouteCase => ({
      route: `ingest POST /v1/${signal}`,
      allow: ['ingestKey', 'otherKey'],
      request: () => ({ path: `/v1/${signal}`, raw: { body: '{}', contentType: 'application/json' } }),
    }),
  ),
  { route: 'ingest GET /stats', allow: ['service'], request: () => ({ path: '/stats' }) },

  // --------------------------------------------------------------------------------------- metrics
  { route: 'metrics GET /names', allow: READERS, request: ({ t }) => ({ path: '/names', query: A(t) }) },
  { route: 'metrics GET /tags', allow: READERS, request: ({ t }) => ({ path: '/tags', query: { ...A(t), metric: 'matrix.m' } }) },
  { route: 'metrics GET /tags/values', allow: READERS, request: ({ t }) => ({ path: '/tags/values', query: { ...A(t), metric: 'matrix.m', key: 'k' } }) },
  { route: 'metrics GET /cardinality', allow: READERS, request: ({ t }) => ({ path: '/cardinality', query: A(t) }) },
  {
    route: 'metrics POST /query',
    allow: READERS,
    request: ({ t }) => ({ path: '/query', body: { ...A(t), queries: [{ metric: 'matrix.m', ...window }] } }),
  },
  { route: 'metrics PUT /limits', allow: [...OWNERS, 'service'], request: ({ t }) => ({ path: '/limits', body: { ...A(t), maxSeries: 5000 } }) },
  {
    route: 'metrics GET /definitions',
    // Every member of the organization reads its metric definitions (user tokens).
    allow: ['owner', 'admin', 'member', 'unassigned', 'viewer'],
    request: ({ t }) => ({ path: '/definitions', query: { organizationId: t.orgId } }),
  },
  {
    route: 'metrics PUT /definitions/:name',
    allow: OWNERS,
    request: ({ t }) => ({ path: '/definitions/matrix.m', body: { organizationId: t.orgId, unit: 'ms' } }),
  },

  // ------------------------------------------------------------------------------------ dashboards
  // Users write (a dashboard has a creator; API keys have none); readers and read keys read.
  { route: 'metrics GET /dashboards', allow: READERS, request: ({ t }) => ({ path: '/dashboards', query: A(t) }) },
  { route: 'metrics POST /dashboards', allow: WRITERS, ok: 201, request: ({ t }) => ({ path: '/dashboards', body: { ...A(t), ...dashboardBody() } }) },
  {
    route: 'metrics POST /dashboards/import',
    allow: WRITERS,
    ok: 201,
    request: ({ t }) => ({ path: '/dashboards/import', body: { ...A(t), dashboard: { format: 'observai.dashboard', formatVersion: 1, ...dashboardBody() } } }),
  },
  { route: 'metrics GET /dashboards/:id', allow: READERS, request: async ({ t }) => ({ path: `/dashboards/${await dashboard(t)}` }) },
  { route: 'metrics GET /dashboards/:id/export', allow: READERS, request: async ({ t }) => ({ path: `/dashboards/${await dashboard(t)}/export` }) },
  { route: 'metrics PUT /dashboards/:id', allow: WRITERS, request: async ({ t }) => ({ path: `/dashboards/${await dashboard(t)}`, body: { version: 1, ...dashboardBody() } }) },
  { route: 'metrics DELETE /dashboards/:id', allow: WRITERS, ok: 204, request: async ({ t }) => ({ path: `/dashboards/${await dashboard(t)}` }) },

  // ------------------------------------------------------------------------------------------ logs
  { route: 'logs GET /search', allow: READERS, request: ({ t }) => ({ path: '/search', query: { ...A(t), ...window } }) },
  { route: 'logs GET /histogram', allow: READERS, request: ({ t }) => ({ path: '/histogram', query: { ...A(t), ...window } }) },
  { route: 'logs GET /tail', allow: READERS, request: ({ t }) => ({ path: '/tail', query: A(t) }) },
  { route: 'logs POST /tail/token', allow: STREAM_MINTERS, ok: 201, request: () => ({ path: '/tail/token' }) },
  { route: 'logs GET /:id', allow: READERS, request: ({ t }) => ({ path: `/${fixture.logId}`, query: A(t) }) },
  { route: 'logs GET /traces', allow: READERS, request: ({ t }) => ({ path: '/traces', query: { ...A(t), ...window } }) },
  { route: 'logs GET /traces/services', allow: READERS, request: ({ t }) => ({ path: '/traces/services', query: { ...A(t), ...window } }) },
  { route: 'logs GET /traces/:traceId', allow: READERS, request: ({ t }) => ({ path: `/traces/${TRACE}`, query: A(t) }) },
  { route: 'logs GET /traces/:traceId/logs', allow: READERS, request: ({ t }) => ({ path: `/traces/${TRACE}/logs`, query: A(t) }) },
  { route: 'logs GET /retention', allow: READERS, request: ({ t }) => ({ path: '/retention', query: A(t) }) },
  // The service role gets the cleanup job's dry run over every project.
  { route: 'logs GET /retention/preview', allow: [...READERS, 'service'], request: ({ t }) => ({ path: '/retention/preview', query: A(t) }) },
  { route: 'logs PUT /retention', allow: OWNERS, request: ({ t }) => ({ path: '/retention', body: { ...A(t), levels: { debug: 3 } } }) },

  // --------------------------------------------------------------------------------------- exports
  {
    route: 'logs POST /exports/destinations',
    allow: OWNERS,
    // Success needs a reachable bucket (tests/integration/exports-destinations.test.ts); here: past authorization.
    ok: 'authorized',
    request: ({ t }) => ({
      path: '/exports/destinations',
      body: { ...A(t), name: `d-${unique()}`, endpoint: 'http://127.0.0.1:9', bucket: 'matrix-bucket', accessKeyId: 'AKIA', secretAccessKey: 'secret', forcePathStyle: true },
    }),
  },
  { route: 'logs GET /exports/destinations', allow: READERS, request: ({ t }) => ({ path: '/exports/destinations', query: A(t) }) },
  { route: 'logs GET /exports/destinations/:id', allow: READERS, request: () => ({ path: `/exports/destinations/${fixture.destinationId}` }) },
  {
    route: 'logs DELETE /exports/destinations/:id',
    allow: OWNERS,
    ok: 204,
    request: async ({ t }) => ({ path: `/exports/destinations/${await destination(t)}` }),
  },
  {
    route: 'logs PUT /exports/schedules',
    allow: OWNERS,
    request: async ({ t }) => ({ path: '/exports/schedules', body: { ...A(t), destinationId: await destination(t), signal: 'logs' } }),
  },
  { route: 'logs GET /exports/schedules', allow: READERS, request: ({ t }) => ({ path: '/exports/schedules', query: A(t) }) },
  {
    route: 'logs DELETE /exports/schedules/:id',
    allow: OWNERS,
    ok: 204,
    request: async ({ t }) => {
      const [s] = await db().query<{ id: string }>(
        `insert into public.export_schedules (project_id, organization_id, destination_id, signal, start_day) values ($1, $2, $3, 'logs', current_date) returning id`,
        [t.projectA, t.orgId, await destination(t)],
      );
      return { path: `/exports/schedules/${s!.id}` };
    },
  },
  {
    route: 'logs POST /exports',
    allow: WRITERS,
    ok: 202,
    request: ({ t }) => ({ path: '/exports', body: { ...A(t), destinationId: fixture.destinationId, signal: 'logs', from: iso(NOW - 2 * HOUR), to: iso(NOW - HOUR) } }),
  },
  { route: 'logs GET /exports', allow: READERS, request: ({ t }) => ({ path: '/exports', query: A(t) }) },
  { route: 'logs GET /exports/:id', allow: READERS, request: () => ({ path: `/exports/${fixture.exportId}` }) },
  {
    route: 'logs POST /exports/:id/retry',
    allow: WRITERS,
    ok: 202,
    request: async ({ t }) => ({ path: `/exports/${await failedExport(t, fixture.destinationId)}/retry` }),
  },

  // ------------------------------------------------------------------------------------- anomalies
  { route: 'anomalies GET /incidents', allow: READERS, request: ({ t }) => ({ path: '/incidents', query: A(t) }) },
  { route: 'anomalies GET /episodes', allow: READERS, request: ({ t }) => ({ path: '/episodes', query: A(t) }) },
  { route: 'anomalies GET /episodes/:id', allow: READERS, request: () => ({ path: `/episodes/${fixture.episodeId}` }) },
  { route: 'anomalies POST /episodes/:id/feedback', allow: WRITERS, request: () => ({ path: `/episodes/${fixture.episodeId}/feedback`, body: { kind: 'not_anomaly' } }) },
  { route: 'anomalies GET /configs', allow: READERS, request: ({ t }) => ({ path: '/configs', query: A(t) }) },
  { route: 'anomalies PUT /configs', allow: OWNERS, request: ({ t }) => ({ path: '/configs', body: { ...A(t), metric: 'matrix.m' } }) },

  // -------------------------------------------------------------------------------------- api-keys
  {
    route: 'api-keys POST /',
    allow: [...OWNERS, 'adminKey'],
    ok: 201,
    request: ({ t }) => ({ path: '/', body: { ...A(t), name: `k-${unique()}`, scopes: ['read'] } }),
  },
  // Listing shows the keys of the projects the caller sees: another organization's user or admin key
  // gets its own (tests/integration/api-keys.http.test.ts checks which).
  { route: 'api-keys GET /', allow: [...USERS, 'adminKey', 'otherKey'], request: () => ({ path: '/' }) },
  { route: 'api-keys GET /:id', allow: ['owner', 'admin', 'member', 'viewer', 'adminKey'], request: ({ t }) => ({ path: `/${t.keyA.id}` }) },
  { route: 'api-keys POST /:id/revoke', allow: [...OWNERS, 'adminKey'], request: async ({ t }) => ({ path: `/${await apiKeyId(t)}/revoke` }) },
  { route: 'api-keys POST /:id/rotate', allow: [...OWNERS, 'adminKey'], ok: 201, request: async ({ t }) => ({ path: `/${await apiKeyId(t)}/rotate`, body: {} }) },

  // ---- alerts: rules and state (before orgs, whose cases assign the unassigned member to project A)
  { route: 'alerts GET /rules', allow: READERS, request: ({ t }) => ({ path: '/rules', query: A(t) }) },
  { route: 'alerts POST /rules', allow: ALERT_WRITERS, ok: 201, request: ({ t }) => ({ path: '/rules', body: { ...A(t), rule: alertRuleSpec() } }) },
  { route: 'alerts PUT /rules', allow: ALERT_WRITERS, request: ({ t }) => ({ path: '/rules', body: { ...A(t), rules: [alertRuleSpec()], prune: false } }) },
  {
    route: 'alerts POST /rules/preview',
    allow: READERS,
    // From twenty to ten minutes before the matrix started: ten evaluations, all in the server's past.
    request: ({ t }) => ({ path: '/rules/preview', body: { ...A(t), rule: alertRuleSpec(), from: iso(NOW - HOUR / 3), to: iso(NOW - HOUR / 6) } }),
  },
  { route: 'alerts GET /rules/export', allow: READERS, request: ({ t }) => ({ path: '/rules/export', query: A(t) }) },
  { route: 'alerts GET /rules/:id', allow: READERS, request: async ({ t }) => ({ path: `/rules/${(await alertRule(t)).id}` }) },
  {
    route: 'alerts PUT /rules/:id',
    allow: ALERT_WRITERS,
    request: async ({ t }) => {
      const { id, key } = await alertRule(t);
      return { path: `/rules/${id}`, body: { rule: { ...alertRuleSpec(key), severity: 'warning' } } };
    },
  },
  { route: 'alerts DELETE /rules/:id', allow: ALERT_WRITERS, ok: 204, request: async ({ t }) => ({ path: `/rules/${(await alertRule(t)).id}` }) },
  { route: 'alerts GET /instances', allow: READERS, request: ({ t }) => ({ path: '/instances', query: { ...A(t), filter: '{severity=~"crit.*"}' } }) },
  { route: 'alerts GET /history', allow: READERS, request: ({ t }) => ({ path: '/history', query: { ...A(t), limit: '10' } }) },
  { route: 'alerts GET /stream', allow: READERS, request: ({ t }) => ({ path: '/stream', query: A(t) }) },
  { route: 'alerts POST /stream/token', allow: STREAM_MINTERS, ok: 201, request: () => ({ path: '/stream/token' }) },
  { route: 'alerts GET /groups', allow: READERS, request: ({ t }) => ({ path: '/groups', query: A(t) }) },
  { route: 'alerts GET /notifications', allow: READERS, request: ({ t }) => ({ path: '/notifications', query: { ...A(t), status: 'failed' } }) },
  { route: 'alerts GET /notifications/:id', allow: READERS, request: async ({ t }) => ({ path: `/notifications/${await alertNotification(t, 'sent')}` }) },
  {
    route: 'alerts POST /notifications/:id/retry',
    allow: ALERT_WRITERS,
    ok: 202,
    request: async ({ t }) => ({ path: `/notifications/${await alertNotification(t, 'failed')}/retry` }),
  },

  // ---- alerts: the Alertmanager API v2, as Prometheus sends to it: an ingest-scoped key, alerts land in the key's own project.
  {
    route: 'alerts POST /api/v2/alerts',
    allow: ['ingestKey', 'otherKey'],
    request: () => ({ path: '/api/v2/alerts', body: [{ labels: { alertname: 'MatrixAlert', k: unique() }, endsAt: iso(NOW + HOUR) }] }),
  },
  // ---- alerts: silences, policy, contact points (before orgs too, for the same reason)
  // Silences are the project's writers' (and an admin key's); policy and contact points its owners' and admins'.
  {
    route: 'alerts POST /silences',
    allow: ALERT_WRITERS,
    ok: 201,
    request: ({ t }) => ({ path: '/silences', body: { ...A(t), matchers: ['alertname="Matrix"'], endsAt: iso(Date.now() + HOUR), comment: 'matrix' } }),
  },
  { route: 'alerts GET /silences', allow: READERS, request: ({ t }) => ({ path: '/silences', query: { ...A(t), state: 'active' } }) },
  { route: 'alerts GET /silences/:id', allow: READERS, request: async ({ t }) => ({ path: `/silences/${await alertSilence(t)}` }) },
  { route: 'alerts DELETE /silences/:id', allow: ALERT_WRITERS, request: async ({ t }) => ({ path: `/silences/${await alertSilence(t)}` }) },
  { route: 'alerts GET /policy', allow: READERS, request: ({ t }) => ({ path: '/policy', query: A(t) }) },
  {
    route: 'alerts PUT /policy',
    allow: OWNERS,
    request: async ({ t }) => ({
      path: '/policy',
      body: { ...A(t), policy: { route: { receiver: await policyReceiver(t), group_by: ['alertname'], routes: [{ matchers: ['team="db"'], group_wait: '10s' }] } } },
    }),
  },
  { route: 'alerts DELETE /policy', allow: OWNERS, ok: 204, request: ({ t }) => ({ path: '/policy', query: A(t) }) },
  {
    route: 'alerts POST /contact-points',
    allow: OWNERS,
    ok: 201,
    request: ({ t }) => ({ path: '/contact-points', body: { ...A(t), name: `cp-${unique()}`, kind: 'alertmanager', settings: { url: 'http://127.0.0.1:9/' } } }),
  },
  { route: 'alerts GET /contact-points', allow: READERS, request: ({ t }) => ({ path: '/contact-points', query: A(t) }) },
  { route: 'alerts GET /contact-points/:id', allow: READERS, request: async ({ t }) => ({ path: `/contact-points/${await contactPoint(t)}` }) },
  {
    route: 'alerts PATCH /contact-points/:id',
    allow: OWNERS,
    request: async ({ t }) => ({ path: `/contact-points/${await contactPoint(t)}`, body: { sendResolved: false, enabled: true } }),
  },
  { route: 'alerts DELETE /contact-points/:id', allow: OWNERS, ok: 204, request: async ({ t }) => ({ path: `/contact-points/${await contactPoint(t)}` }) },
  // Answers 200 with {result: {ok: false}}: the guard refuses the closed loopback port before connecting.
  { route: 'alerts POST /contact-points/:id/test', allow: OWNERS, request: async ({ t }) => ({ path: `/contact-points/${await contactPoint(t)}/test` }) },

  // -------------------------------------------------------------------------------------- webhooks
  {
    route: 'webhooks GET /event-types',
    allow: ['owner', 'admin', 'member', 'unassigned', 'viewer', 'outsider', 'ingestKey', 'readKey', 'adminKey', 'otherKey'],
    request: () => ({ path: '/event-types' }),
  },
  {
    route: 'webhooks POST /endpoints',
    allow: WEBHOOK_ADMINS,
    ok: 201,
    request: ({ t }) => ({ path: '/endpoints', body: { ...A(t), url: 'https://hooks.example.com/observai', eventTypes: ['alert.*'] } }),
  },
  { route: 'webhooks GET /endpoints', allow: WEBHOOK_ADMINS, request: ({ t }) => ({ path: '/endpoints', query: A(t) }) },
  { route: 'webhooks GET /endpoints/:id', allow: WEBHOOK_ADMINS, request: async ({ t }) => ({ path: `/endpoints/${await webhookEndpoint(t)}` }) },
  {
    route: 'webhooks PATCH /endpoints/:id',
    allow: WEBHOOK_ADMINS,
    request: async ({ t }) => ({ path: `/endpoints/${await webhookEndpoint(t)}`, body: { description: 'changed' } }),
  },
  { route: 'webhooks DELETE /endpoints/:id', allow: WEBHOOK_ADMINS, ok: 204, request: async ({ t }) => ({ path: `/endpoints/${await newWebhookEndpoint(t)}` }) },
  {
    route: 'webhooks POST /endpoints/:id/rotate-secret',
    allow: WEBHOOK_ADMINS,
    request: async ({ t }) => ({ path: `/endpoints/${await webhookEndpoint(t)}/rotate-secret`, body: {} }),
  },
  // Answers 200 with {result: {ok: false}}: the fixture's sealed secret does not open.
  // A new endpoint each time: one test a 10 s per endpoint.
  { route: 'webhooks POST /endpoints/:id/test', allow: WEBHOOK_ADMINS, fresh: true, request: async ({ t }) => ({ path: `/endpoints/${await newWebhookEndpoint(t)}/test`, body: {} }) },
  {
    route: 'webhooks GET /endpoints/:id/messages',
    allow: WEBHOOK_ADMINS,
    request: async ({ t }) => ({ path: `/endpoints/${(await webhookMessage(t)).endpointId}/messages` }),
  },
  {
    // A new tenant each time (one recovery a minute per endpoint).
    route: 'webhooks POST /endpoints/:id/recover',
    allow: WEBHOOK_ADMINS,
    ok: 202,
    fresh: true,
    request: async ({ t }) => ({ path: `/endpoints/${(await webhookMessage(t)).endpointId}/recover`, body: { since: iso(NOW - HOUR) } }),
  },
  { route: 'webhooks GET /messages/:id', allow: WEBHOOK_ADMINS, request: async ({ t }) => ({ path: `/messages/${(await webhookMessage(t)).messageId}` }) },
  {
    route: 'webhooks POST /messages/:id/replay',
    allow: WEBHOOK_ADMINS,
    ok: 202,
    request: async ({ t }) => ({ path: `/messages/${(await webhookMessage(t)).messageId}/replay` }),
  },

  // ---------------------------------------------------------------------------------------- oncall
  // Events v2: the routing key in the body is the credential; any caller (none at all included) with it is served.
  {
    route: 'oncall POST /v2/enqueue',
    allow: ['anonymous', ...USERS, 'ingestKey', 'readKey', 'adminKey', 'otherKey', 'service'],
    ok: 202,
    request: async ({ t }) => {
      await oncallService(t);
      return { path: '/v2/enqueue', body: { routing_key: ONCALL_KEY, event_action: 'trigger', payload: { summary: 'Matrix', source: 'matrix', severity: 'critical' } } };
    },
  },
  { route: 'oncall POST /services', allow: OWNERS, ok: 201, request: ({ t }) => ({ path: '/services', body: { ...A(t), name: `svc-${unique()}` } }) },
  { route: 'oncall GET /services', allow: READERS, request: ({ t }) => ({ path: '/services', query: A(t) }) },
  { route: 'oncall GET /services/:id', allow: READERS, request: async ({ t }) => ({ path: `/services/${await oncallService(t)}` }) },
  { route: 'oncall PATCH /services/:id', allow: OWNERS, request: async ({ t }) => ({ path: `/services/${await oncallService(t)}`, body: { urgency: 'high' } }) },
  {
    route: 'oncall POST /services/:id/maintenance',
    allow: OWNERS,
    ok: 201,
    request: async ({ t }) => ({ path: `/services/${await oncallService(t)}/maintenance`, body: { startsAt: iso(NOW + 30 * 24 * HOUR), endsAt: iso(NOW + 31 * 24 * HOUR) } }),
  },
  { route: 'oncall GET /services/:id/maintenance', allow: READERS, request: async ({ t }) => ({ path: `/services/${await oncallService(t)}/maintenance` }) },
  { route: 'oncall DELETE /maintenance/:id', allow: OWNERS, request: async ({ t }) => ({ path: `/maintenance/${await maintenanceWindow(t)}` }) },
  { route: 'oncall DELETE /services/:id', allow: OWNERS, ok: 204, request: async ({ t }) => ({ path: `/services/${await newOncallService(t)}` }) },
  // A person's own notification rules: every signed-in person, whatever their role (keys have no person).
  { route: 'oncall GET /me/notification-rules', allow: USERS, request: () => ({ path: '/me/notification-rules' }) },
  {
    route: 'oncall PUT /me/notification-rules',
    allow: USERS,
    request: () => ({ path: '/me/notification-rules', body: { methods: [{ id: 'm', kind: 'email', address: 'me@example.com' }], high: [{ methodId: 'm', delayMinutes: 0 }] } }),
  },
  { route: 'oncall DELETE /me/notification-rules', allow: USERS, ok: 204, request: () => ({ path: '/me/notification-rules' }) },
  {
    route: 'oncall POST /escalation-policies',
    allow: OWNERS,
    ok: 201,
    request: ({ t }) => ({ path: '/escalation-policies', body: { organizationId: t.orgId, name: `p-${unique()}`, policy: oncallPolicy(t) } }),
  },
  { route: 'oncall GET /escalation-policies', allow: ORG_MEMBERS, request: ({ t }) => ({ path: '/escalation-policies', query: { organizationId: t.orgId } }) },
  { route: 'oncall GET /escalation-policies/:id', allow: ORG_MEMBERS, request: async ({ t }) => ({ path: `/escalation-policies/${await escalationPolicy(t)}` }) },
  {
    route: 'oncall PUT /escalation-policies/:id',
    allow: OWNERS,
    request: async ({ t }) => ({ path: `/escalation-policies/${await escalationPolicy(t)}`, body: { name: `p-${unique()}`, policy: oncallPolicy(t) } }),
  },
  { route: 'oncall DELETE /escalation-policies/:id', allow: OWNERS, ok: 204, request: async ({ t }) => ({ path: `/escalation-policies/${await escalationPolicy(t)}` }) },
  { route: 'oncall GET /incidents', allow: READERS, request: ({ t }) => ({ path: '/incidents', query: { ...A(t), state: 'open' } }) },
  { route: 'oncall GET /incidents/:id', allow: READERS, request: async ({ t }) => ({ path: `/incidents/${await oncallIncident(t)}` }) },
  // Acting on an incident is a signed-in user's (it records who): whoever may change project A.
  { route: 'oncall POST /incidents/:id/acknowledge', allow: WRITERS, request: async ({ t }) => ({ path: `/incidents/${await oncallIncident(t)}/acknowledge` }) },
  { route: 'oncall POST /incidents/:id/resolve', allow: WRITERS, request: async ({ t }) => ({ path: `/incidents/${await oncallIncident(t)}/resolve` }) },
  {
    route: 'oncall POST /incidents/:id/unacknowledge',
    allow: WRITERS,
    request: async ({ t }) => ({ path: `/incidents/${await oncallIncident(t, 'acknowledged')}/unacknowledge` }),
  },
  { route: 'oncall POST /incidents/:id/snooze', allow: WRITERS, request: async ({ t }) => ({ path: `/incidents/${await oncallIncident(t)}/snooze`, body: { minutes: 30 } }) },
  {
    route: 'oncall POST /incidents/:id/reassign',
    allow: WRITERS,
    request: async ({ t }) => ({ path: `/incidents/${await oncallIncident(t)}/reassign`, body: { targets: [{ type: 'user', id: t.people.member.id }] } }),
  },
  {
    route: 'oncall POST /incidents/:id/merge',
    allow: WRITERS,
    request: async ({ t }) => ({ path: `/incidents/${await oncallIncident(t)}/merge`, body: { into: await oncallIncident(t) } }),
  },
  { route: 'oncall GET /incidents/stream', allow: READERS, request: ({ t }) => ({ path: '/incidents/stream', query: A(t) }) },
  { route: 'oncall POST /incidents/stream/token', allow: STREAM_MINTERS, ok: 201, request: () => ({ path: '/incidents/stream/token' }) },
  { route: 'oncall GET /incidents/stats', allow: READERS, request: ({ t }) => ({ path: '/incidents/stats', query: A(t) }) },
  { route: 'oncall POST /incidents/:id/notes', allow: WRITERS, ok: 201, request: async ({ t }) => ({ path: `/incidents/${await oncallIncident(t)}/notes`, body: { text: 'matrix note' } }) },
  // Schedules: an organization's members read; owners and admins manage; people change their own time.
  {
    route: 'oncall POST /schedules',
    allow: OWNERS,
    ok: 201,
    request: ({ t }) => ({ path: '/schedules', body: { organizationId: t.orgId, name: `s-${unique()}`, schedule: scheduleDoc(t) } }),
  },
  { route: 'oncall GET /schedules', allow: ORG_MEMBERS, request: ({ t }) => ({ path: '/schedules', query: { organizationId: t.orgId } }) },
  { route: 'oncall GET /schedules/:id', allow: ORG_MEMBERS, request: async ({ t }) => ({ path: `/schedules/${await oncallSchedule(t)}` }) },
  { route: 'oncall PUT /schedules/:id', allow: OWNERS, request: async ({ t }) => ({ path: `/schedules/${await oncallSchedule(t)}`, body: { name: `s-${unique()}`, schedule: scheduleDoc(t) } }) },
  { route: 'oncall DELETE /schedules/:id', allow: OWNERS, ok: 204, request: async ({ t }) => ({ path: `/schedules/${await newOncallSchedule(t)}` }) },
  { route: 'oncall GET /schedules/:id/on-call', allow: ORG_MEMBERS, request: async ({ t }) => ({ path: `/schedules/${await oncallSchedule(t)}/on-call`, query: { at: '2030-01-02T12:00:00Z' } }) },
  {
    route: 'oncall GET /schedules/:id/shifts',
    allow: ORG_MEMBERS,
    request: async ({ t }) => ({ path: `/schedules/${await oncallSchedule(t)}/shifts`, query: { from: '2030-01-01T00:00:00Z', to: '2030-01-08T00:00:00Z' } }),
  },
  {
    route: 'oncall POST /schedules/:id/overrides',
    allow: SCHEDULE_EDITORS,
    ok: 201,
    request: async ({ t, caller }) => ({ path: `/schedules/${await oncallSchedule(t)}/overrides`, body: { userId: selfOr(t, caller), start: '2030-02-01T00:00:00Z', end: '2030-02-01T06:00:00Z' } }),
  },
  {
    // The member's own override, in a schedule of its own: the unassigned member and the viewer may not remove it.
    route: 'oncall DELETE /schedules/:id/overrides/:overrideId',
    allow: ['owner', 'admin', 'member'],
    ok: 204,
    request: async ({ t }) => {
      const o = { user: t.people.member.id, start: '2030-02-01T00:00:00Z', end: '2030-02-01T06:00:00Z' };
      const id = await newOncallSchedule(t, [o]);
      return { path: `/schedules/${id}/overrides/${overrideId({ user: o.user, start: Date.parse(o.start), end: Date.parse(o.end) })}` };
    },
  },
  {
    // The member's and the unassigned member's first turns: either of them may swap them.
    route: 'oncall POST /schedules/:id/swaps',
    allow: SCHEDULE_EDITORS,
    ok: 201,
    request: async ({ t }) => ({
      path: `/schedules/${await newOncallSchedule(t)}/swaps`,
      body: {
        shifts: [
          { userId: t.people.member.id, start: '2030-01-01T09:00:00Z', end: '2030-01-02T09:00:00Z' },
          { userId: t.people.unassigned.id, start: '2030-01-02T09:00:00Z', end: '2030-01-03T09:00:00Z' },
        ],
      },
    }),
  },
  // Feeds: any member makes one of what they can read; the creator (the member) or an owner or admin revokes.
  { route: 'oncall POST /schedules/:id/feeds', allow: ORG_MEMBERS, ok: 201, request: async ({ t }) => ({ path: `/schedules/${await oncallSchedule(t)}/feeds` }) },
  { route: 'oncall POST /me/feeds', allow: ORG_MEMBERS, ok: 201, request: ({ t }) => ({ path: '/me/feeds', body: { organizationId: t.orgId } }) },
  { route: 'oncall GET /feeds', allow: USERS, request: () => ({ path: '/feeds' }) },
  { route: 'oncall DELETE /feeds/:id', allow: ['owner', 'admin', 'member'], ok: 204, request: async ({ t }) => ({ path: `/feeds/${(await oncallFeed(t)).id}` }) },
  // Signed one-click links from pages: the token names the person it acts as; any caller with it is served.
  {
    route: 'oncall GET /actions/:action/:token',
    allow: ['anonymous', ...USERS, 'ingestKey', 'readKey', 'adminKey', 'otherKey', 'service'],
    request: async ({ t }) => ({ path: `/actions/ack/${await actionToken(t, 'ack')}` }),
  },
  {
    route: 'oncall POST /actions/:action/:token',
    allow: ['anonymous', ...USERS, 'ingestKey', 'readKey', 'adminKey', 'otherKey', 'service'],
    request: async ({ t }) => ({ path: `/actions/ack/${await actionToken(t, 'ack')}` }),
  },
  // PagerDuty webhook subscriptions (their signing secrets): owners and admins.
  {
    route: 'oncall POST /pagerduty-webhooks',
    allow: OWNERS,
    ok: 201,
    request: ({ t }) => ({ path: '/pagerduty-webhooks', body: { organizationId: t.orgId, secret: `pd-${unique()}-0123456789abcdef` } }),
  },
  { route: 'oncall GET /pagerduty-webhooks', allow: OWNERS, request: ({ t }) => ({ path: '/pagerduty-webhooks', query: { organizationId: t.orgId } }) },
  { route: 'oncall DELETE /pagerduty-webhooks/:id', allow: OWNERS, ok: 204, request: async ({ t }) => ({ path: `/pagerduty-webhooks/${(await pagerDutyWebhook(t)).id}` }) },
  // PagerDuty's deliveries carry only its signature: with a valid one any caller is served (200).
  {
    route: 'oncall POST /pagerduty/webhooks/:id',
    allow: ['anonymous', ...USERS, 'ingestKey', 'readKey', 'adminKey', 'otherKey', 'service'],
    request: async ({ t }) => {
      const hook = await pagerDutyWebhook(t);
      const body = JSON.stringify({ event: { event_type: 'incident.priority_updated', data: { type: 'incident', incident_key: 'x' } } });
      return { path: `/pagerduty/webhooks/${hook.id}`, raw: { body, contentType: 'application/json' }, headers: { 'x-pagerduty-signature': await pagerDutySignature(hook.secret, body) } };
    },
  },
  // An organization's Slack app (its signing secret): owners and admins.
  { route: 'oncall PUT /slack-app', allow: OWNERS, request: ({ t }) => ({ path: '/slack-app', body: { organizationId: t.orgId, signingSecret: 'a'.repeat(32) } }) },
  { route: 'oncall GET /slack-app', allow: OWNERS, request: ({ t }) => ({ path: '/slack-app', query: { organizationId: t.orgId } }) },
  {
    route: 'oncall DELETE /slack-app',
    allow: OWNERS,
    ok: 204,
    request: async ({ t }) => {
      await db().query(
        `insert into public.oncall_slack_apps (organization_id, signing_secret_ciphertext) values ($1, 'v1.0123456789abcdef.aaaa.bbbb') on conflict (organization_id) do nothing`,
        [t.orgId],
      );
      return { path: '/slack-app', query: { organizationId: t.orgId } };
    },
  },
  // Slack's requests carry only Slack's signature: with a valid one any caller is served (200).
  {
    route: 'oncall POST /slack/actions/:id',
    allow: ['anonymous', ...USERS, 'ingestKey', 'readKey', 'adminKey', 'otherKey', 'service'],
    request: async ({ t }) => slackRequest(t),
  },
  // The token in the URL is the credential (calendar apps send nothing else): any caller with it is served.
  {
    route: 'oncall GET /feeds/:token/calendar.ics',
    allow: ['anonymous', ...USERS, 'ingestKey', 'readKey', 'adminKey', 'otherKey', 'service'],
    request: async ({ t }) => ({ path: `/feeds/${await oncallFeedToken(t)}/calendar.ics` }),
  },

  // ------------------------------------------------------------------------------------------ orgs
  { route: 'orgs POST /', allow: USERS, ok: 201, request: () => ({ path: '/', body: { name: 'New', slug: `org-${unique()}` } }) },
  { route: 'orgs GET /', allow: USERS, request: () => ({ path: '/' }) },
  { route: 'orgs GET /:orgId', allow: ['owner', 'admin', 'member', 'unassigned', 'viewer'], request: ({ t }) => ({ path: `/${t.orgId}` }) },
  { route: 'orgs PATCH /:orgId', allow: OWNERS, request: ({ t }) => ({ path: `/${t.orgId}`, body: { name: `Renamed ${unique()}` } }) },
  { route: 'orgs DELETE /:orgId', allow: ['owner'], ok: 204, fresh: true, request: ({ t }) => ({ path: `/${t.orgId}` }) },
  { route: 'orgs GET /:orgId/members', allow: ['owner', 'admin', 'member', 'unassigned', 'viewer'], request: ({ t }) => ({ path: `/${t.orgId}/members` }) },
  {
    route: 'orgs PATCH /:orgId/members/:userId',
    allow: OWNERS,
    fresh: true,
    request: ({ t }) => ({ path: `/${t.orgId}/members/${t.people.viewer.id}`, body: { role: 'member' } }),
  },
  {
    route: 'orgs DELETE /:orgId/members/:userId',
    // The target is the viewer: owners and admins remove non-owners, and anyone may leave.
    allow: [...OWNERS, 'viewer'],
    ok: 204,
    fresh: true,
    request: ({ t }) => ({ path: `/${t.orgId}/members/${t.people.viewer.id}` }),
  },
  {
    route: 'orgs POST /:orgId/invitations',
    allow: OWNERS,
    ok: 201,
    request: ({ t }) => ({ path: `/${t.orgId}/invitations`, body: { email: `i-${unique()}@example.test`, role: 'member' } }),
  },
  // Members and viewers may ask; they see no invitations (RLS), and outsiders do not see the organization.
  { route: 'orgs GET /:orgId/invitations', allow: ['owner', 'admin', 'member', 'unassigned', 'viewer'], request: ({ t }) => ({ path: `/${t.orgId}/invitations` }) },
  {
    route: 'orgs POST /:orgId/invitations/:invitationId/revoke',
    allow: OWNERS,
    request: async ({ t }) => {
      const [i] = await db().query<{ id: string }>(
        `insert into public.invitations (organization_id, email, role, token_hash, expires_at) values ($1, $2, 'viewer', encode(sha256(convert_to($2, 'UTF8')), 'hex'), now() + interval '1 day') returning id`,
        [t.orgId, `r-${unique()}@example.test`],
      );
      return { path: `/${t.orgId}/invitations/${i!.id}/revoke` };
    },
  },
  {
    route: 'orgs POST /invitations/accept',
    // The invitation is for the outsider's email: only they can accept it.
    allow: ['outsider'],
    fresh: true,
    request: async ({ t }) => {
      const token = `oai_inv_${unique()}${unique()}`;
      await db().query(
        `insert into public.invitations (organization_id, email, role, token_hash, expires_at) values ($1, $2, 'viewer', encode(sha256(convert_to($3, 'UTF8')), 'hex'), now() + interval '1 day')`,
        [t.orgId, t.people.outsider.email, token],
      );
      return { path: '/invitations/accept', body: { token } };
    },
  },
  { route: 'orgs POST /:orgId/projects', allow: OWNERS, ok: 201, request: ({ t }) => ({ path: `/${t.orgId}/projects`, body: { name: 'C', slug: `p-${unique()}` } }) },
  // The member sees only the projects assigned to them; the unassigned member gets an empty list.
  { route: 'orgs GET /:orgId/projects', allow: ['owner', 'admin', 'member', 'unassigned', 'viewer'], request: ({ t }) => ({ path: `/${t.orgId}/projects` }) },
  { route: 'orgs GET /:orgId/projects/:projectId', allow: ['owner', 'admin', 'member', 'viewer'], request: ({ t }) => ({ path: `/${t.orgId}/projects/${t.projectA}` }) },
  { route: 'orgs PATCH /:orgId/projects/:projectId', allow: WRITERS, request: ({ t }) => ({ path: `/${t.orgId}/projects/${t.projectA}`, body: { name: `A ${unique()}` } }) },
  {
    route: 'orgs DELETE /:orgId/projects/:projectId',
    allow: OWNERS,
    ok: 204,
    request: async ({ t }) => {
      const [p] = await db().query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Doomed', $2) returning id`, [t.orgId, `p-${unique()}`]);
      // Assigned, so the member sees it and is refused for their role, not for not seeing it.
      await db().query('insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3)', [p!.id, t.orgId, t.people.member.id]);
      return { path: `/${t.orgId}/projects/${p!.id}` };
    },
  },
  {
    route: 'orgs GET /:orgId/projects/:projectId/members',
    allow: ['owner', 'admin', 'member', 'viewer'],
    request: ({ t }) => ({ path: `/${t.orgId}/projects/${t.projectA}/members` }),
  },
  {
    route: 'orgs PUT /:orgId/projects/:projectId/members/:userId',
    allow: OWNERS,
    ok: 204,
    request: ({ t }) => ({ path: `/${t.orgId}/projects/${t.projectA}/members/${t.people.unassigned.id}` }),
  },
  {
    route: 'orgs DELETE /:orgId/projects/:projectId/members/:userId',
    allow: OWNERS,
    ok: 204,
    fresh: true,
    request: ({ t }) => ({ path: `/${t.orgId}/projects/${t.projectA}/members/${t.people.member.id}` }),
  },
  { route: 'orgs GET /:orgId/audit-log', allow: OWNERS, request: ({ t }) => ({ path: `/${t.orgId}/audit-log` }) },

  // --------------------------------------------------------------------------------------- billing
  { route: 'billing GET /plans', allow: USERS, request: () => ({ path: '/plans' }) },
  // Plans are contract terms: the operator's (service role) alone.
  {
    route: 'billing PUT /plans/:planId',
    allow: ['service'],
    ok: 201,
    request: ({ t }) => {
      const open = { monthlyLimit: null, included: 0, pricePerMillionCents: 0, policy: 'overage' };
      const limits = { activeSeries: null, members: null, alertRules: null, webhookEndpoints: null, apiRequestsPerMinute: null, retentionDays: 400 };
      return { path: `/plans/m-${unique()}`, body: { name: 'Matrix', organizationId: t.orgId, signals: { metrics: open, logs: open, traces: open }, limits } };
    },
  },
  // Stripe's requests carry only Stripe's signature: with a valid one any caller is served.
  {
    route: 'billing POST /stripe/webhook',
    allow: ['anonymous', ...USERS, 'ingestKey', 'readKey', 'adminKey', 'otherKey', 'service'],
    request: async () => {
      const body = JSON.stringify({ id: `evt_${unique()}`, type: 'invoice.paid', data: { object: { id: 'in_matrix', customer: 'cus_unknown' } } });
      return { path: '/stripe/webhook', raw: { body, contentType: 'application/json' }, headers: { 'stripe-signature': await stripeSignatureHeader(MATRIX_STRIPE_SECRET, body, Math.floor(Date.now() / 1000)) } };
    },
  },
  { route: 'billing GET /:orgId', allow: ['owner'], request: ({ t }) => ({ path: `/${t.orgId}` }) },
  // Enterprise: the cases before this one leave organization A with more alert rules than free allows.
  { route: 'billing PUT /:orgId/plan', allow: ['owner'], request: ({ t }) => ({ path: `/${t.orgId}/plan`, body: { planId: 'enterprise' } }) },
  { route: 'billing PUT /:orgId/details', allow: ['owner'], request: ({ t }) => ({ path: `/${t.orgId}/details`, body: { companyName: `Acme ${unique()}` } }) },
  // Every member asks; RLS shows each the projects they may read (the unassigned member: none).
  { route: 'billing GET /:orgId/usage', allow: ['owner', 'admin', 'member', 'unassigned', 'viewer'], request: ({ t }) => ({ path: `/${t.orgId}/usage` }) },
  {
    route: 'billing GET /:orgId/statements/:month',
    allow: ['owner'],
    request: ({ t }) => ({ path: `/${t.orgId}/statements/${new Date().toISOString().slice(0, 7)}` }),
  },

  // ------------------------------------------------------------------------------------------ cron
  // A short budget: the dispatcher ticks until its budget is spent (most of a minute by default).
  ...FUNCTIONS.filter((f) => f.name.startsWith('cron-')).map((f): RouteCase => ({ route: `${f.name} POST /`, allow: ['service'], request: () => ({ path: '/', body: { budgetMs: 1000 } }) })),
];

/** The config the cases need (export routes answer 501 without an encryption key). */
export const ROUTE_CASES_ENV = { SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), STRIPE_WEBHOOK_SECRET: MATRIX_STRIPE_SECRET };

/** Creates the shared tenant and the fixtures the cases point at; call once per file, in beforeAll. */
export async function setUpRouteCases(testEnv: TestEnv): Promise<MatrixTenant> {
  env = testEnv;
  const t = await createMatrixTenant(env);
  const ingest = await env.request('POST', '/functions/v1/ingest', {
    apiKey: t.keys.ingestKey,
    body: {
      logs: [{ timestamp: NOW, level: 'info', service: 'matrix', message: 'matrix line', trace_id: TRACE, span_id: 'b'.repeat(16) }],
      spans: [{ trace_id: TRACE, span_id: 'b'.repeat(16), name: 'GET /', service: 'matrix', start: NOW, duration: 5 }],
    },
  });
  expect(await ingest.json()).toMatchObject({ accepted: 2, rejected: 0 });
  const search = await env.request('GET', `/functions/v1/logs/search?projectId=${t.projectA}&from=${iso(NOW - HOUR)}&to=${iso(NOW + HOUR)}`, { token: t.people.owner.jwt });
  fixture.logId = (await search.json()).logs[0].id;
  const [series] = await db().query<{ id: string }>(`insert into public.metric_series (project_id, name, type, fingerprint) values ($1, 'matrix.s', 'gauge', 'fp-matrix') returning id`, [t.projectA]);
  const [episode] = await db().query<{ id: string }>(
    `insert into public.anomaly_episodes (project_id, series_id, metric, detector, started_at, peak_score, peak_at, explanation) values ($1, $2, 'matrix.s', 'ewma', now(), 0.9, now(), '{}') returning id`,
    [t.projectA, series!.id],
  );
  fixture.episodeId = episode!.id;
  fixture.destinationId = await destination(t);
  fixture.exportId = await failedExport(t, fixture.destinationId);
  const [schedule] = await db().query<{ id: string }>(
    `insert into public.export_schedules (project_id, organization_id, destination_id, signal, start_day) values ($1, $2, $3, 'spans', current_date) returning id`,
    [t.projectA, t.orgId, fixture.destinationId],
  );
  fixture.scheduleId = schedule!.id;
  return t;
}
