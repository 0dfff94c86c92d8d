import type { Deps } from '../core/deps.ts';
import type { Job, JobContext, JobSummary } from '../core/job.ts';
import { createSecretBox, type SecretBox } from '../core/secret-box.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import type { DeliveryResult } from '../net/delivery.ts';
import { byQueue, createRecorded, pickFair, runQueues, stopsWhenGone, tally, unrecorded } from '../net/delivery-engine.ts';
import type { Recorded } from '../net/delivery-engine.ts';
import { excerpt, postForAnswer } from '../net/http-delivery.ts';
import { nextAttemptAt, WEBHOOK_RETRY } from '../net/retry-policy.ts';
import { standardWebhookHeaders } from '../net/standard-webhooks.ts';

/**
 * The deliver-webhooks job: sends the webhook messages that are due (webhook_messages, made by the
 * outbox's fan-out trigger) per Standard Webhooks v1, and records every attempt. Invariants:
 * 1. Claimed before sent (status 'sending' with a lease, committed), recorded after: a crash in
 *    between leaves the lease to lapse and the message is sent again with the same webhook-id (its
 *    event's id), which receivers deduplicate. That is the one at-least-once window.
 * 2. Endpoints are isolated (src/net/delivery-engine.ts): the claim takes at most PER_ENDPOINT of
 *    each endpoint's due messages (read per endpoint, so one endpoint's backlog or retries never
 *    crowd another's new messages out of a pass), none for an endpoint while a pass is still sending
 *    to it; one worker per endpoint's queue with LANES requests in flight; every request bounded by
 *    SEND_TIMEOUT_MS; a pass returns after a short wait leaving slow sends running, and so does a run
 *    at its end (they record themselves under their lease), so one slow endpoint never delays
 *    another. Ordering between messages is not guaranteed.
 * 3. Retries per WEBHOOK_RETRY (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, jittered;
 *    Retry-After honoured); permanent failures and exhausted retries end 'failed', replayable.
 * 4. An endpoint that answers 410 Gone is disabled at once; one whose attempts have failed without a
 *    success for 5 days is disabled too. Both write an audit row and a webhook.endpoint.disabled
 *    event (migration triggers). A user's `enabled: true` clears it.
 * 5. A message is due at its next_attempt_at by the later of the job's clock and the database's: a
 *    new one (stamped now() by the fan-out) at once whatever the job's clock says, retries and
 *    replays when the job's clock reaches them (the two clocks are one in production).
 */
const PER_ENDPOINT = 20;
/** One organization's share of a pass, before the rest goes to whoever has more due. */
const PER_ORG = 250;
const PER_PASS = 1000;
const CONCURRENCY = 100;
/** Requests one endpoint has in flight at once: a slow receiver (1-2 s an answer) still keeps up. */
const LANES = 4;
export const SEND_TIMEOUT_MS = 15_000;
/** Outlasts an endpoint's whole queue of a pass (one lane's worth of timeouts), its rate limit's spacing included. */
const LEASE_MS = PER_ENDPOINT * SEND_TIMEOUT_MS + 60_000;
/** Polls all minute: pg_cron starts the next run at the next minute. */
const RUN_BUDGET_MS = 57_000;
/** How long a pass waits for its sends before the run polls again (slow ones finish in the run). */
const PASS_WAIT_MS = 250;
/** Between polls when nothing was due. */
const POLL_MS = 250;
export const FAILING_DISABLE_MS = 5 * 24 * 3600_000;
/** The part of a receiver's answer kept with an attempt. */
const RESPONSE_CHARS = 1024;
/** When each rate-limited endpoint may next be sent to, across passes (per process: passes of one run share it). */
const nextStart = new Map<string, number>();

export type DeliverWebhooksDeps = Pick<Deps, 'db' | 'logger' | 'clock'> & Partial<Pick<Deps, 'config' | 'outbound' | 'defer'>>;

export const deliverWebhooks: Job = {
  name: 'deliver-webhooks',
  intervalSeconds: 60,
  lockKey: 7_100_031,
  defaultBudgetMs: RUN_BUDGET_MS,
  run: (deps, ctx) => runDeliverWebhooks(deps, ctx),
};

/**
 * A run: passes until its budget is spent. Its summary counts what the run's sends recorded
 * (src/net/delivery-engine.ts invariant 5), slow sends that finished during a later pass included;
 * `unrecorded` are sends still running when the run reported (they finish and record themselves
 * after it) or whose record failed (sent again when their lease lapses); `claimed` is what its passes
 * claimed (the rest of it was still queued behind a slow send when the run ended).
 */
export async function runDeliverWebhooks(deps: DeliverWebhooksDeps, { budgetMs }: JobContext): Promise<JobSummary> {
  const deadline = performance.now() + budgetMs;
  let passes = 0;
  const recorded = createRecorded();
  const inflight = new Set<Promise<unknown>>();
  try {
    for (;;) {
      const pass = await deliverDueWebhooks(deps, deps.clock.now().getTime(), { inflight, waitMs: PASS_WAIT_MS, recorded });
      passes += 1;
      if (performance.now() + POLL_MS >= deadline) break;
      if (pass.claimed === 0) {
        // Nothing can arrive (no enabled endpoint, nothing pending): end the run instead of polling
        // for a minute. An installation with endpoints polls all minute, so events go out at once.
        if (inflight.size === 0 && (await asServiceRole(deps.db, (tx) => nothingToDeliver(tx)))) break;
        // Real time, like the budget: pacing, not the data's clock.
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  } finally {
    // Sends still running finish on their own and record themselves (their messages are leased, and
    // no run claims an endpoint a send is leased to): waiting for a slow receiver here would hold the
    // job's lock past the minute, and the next run, and every other endpoint's messages, with it.
    // Without a place to leave them (tests, one-off calls) the run waits for them.
    const running = Promise.allSettled([...inflight]);
    if (deps.defer) deps.defer(running);
    else await running;
  }
  return { passes, claimed: recorded.claimed, delivered: recorded.ok, retried: recorded.retried, failed: recorded.failed, unrecorded: unrecorded(recorded) };
}

interface Claimed {
  id: string;
  attempts: number;
  scheduleFrom: number;
  eventId: string;
  /** A test-send: tried once, never retried (one request can not become eight). */
  test: boolean;
  endpointId: string;
  organizationId: string;
  body: string;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  disabled: string | null;
  ratePerSecond: number | null;
  /** The endpoint was failing when claimed (a success then clears it). */
  failing: boolean;
}

interface Outcome {
  id: string;
  endpointId: string;
  failing: boolean;
  attempt: number;
  startedAt: number;
  durationMs: number;
  result: DeliveryResult;
  responseBody: string | null;
  next: number | null;
}

/** `inflight` and `waitMs`: see src/net/delivery-engine.ts invariant 4; `recorded`: a run's totals (invariant 5). */
export interface SendOptions {
  inflight?: Set<Promise<unknown>>;
  waitMs?: number;
  recorded?: Recorded;
}

/** What a pass's sends answered within its wait (a run's totals are in its `recorded`). */
export interface PassResult {
  claimed: number;
  delivered: number;
  retried: number;
  failed: number;
}

/** One pass: claims what is due (fairly) and sends it; see the invariants above. */
export async function deliverDueWebhooks(
  deps: DeliverWebhooksDeps,
  now: number,
  opts: SendOptions = {},
): Promise<PassResult> {
  const claimed = await asServiceRole(deps.db, async (tx) => {
    // Per endpoint, through webhook_messages_endpoint_due_idx: each endpoint's oldest due messages,
    // pending or with a lapsed lease, of the endpoints no pass is sending to.
    // Every organization's first PER_ORG come first, before the pass's limit: otherwise one
    // organization's older backlog would fill the candidates and another's new message wait for it
    // (pickFair then gives the rest of the pass to whoever has more).
    const candidates = await tx.query<{ id: string; endpoint_id: string; organization_id: string }>(
      `select id, endpoint_id, organization_id from (
         select m.id, m.endpoint_id, m.organization_id, m.next_attempt_at, m.created_at,
           row_number() over (partition by m.organization_id order by m.next_attempt_at, m.created_at) as nth
         from public.webhook_endpoints e
         cross join lateral (
           select m.id, m.endpoint_id, m.organization_id, m.next_attempt_at, m.created_at from public.webhook_messages m
           where m.endpoint_id = e.id and m.status in ('pending', 'sending')
             and m.next_attempt_at <= greatest(to_timestamp($1::float8 / 1000.0), now())
             and (m.status = 'pending' or m.lease_until <= to_timestamp($1::float8 / 1000.0))
           order by m.next_attempt_at, m.created_at limit $3 for update of m skip locked) m
         where not exists (select 1 from public.webhook_messages s
                           where s.endpoint_id = e.id and s.status = 'sending' and s.lease_until > to_timestamp($1::float8 / 1000.0))
       ) due
       order by nth > $4, next_attempt_at, created_at limit $2`,
      [now, PER_PASS * 2, PER_ENDPOINT, PER_ORG],
    );
    const picked = pickFair(candidates, (c) => ({ queue: c.endpoint_id, tenant: c.organization_id }), {
      perQueue: PER_ENDPOINT,
      perTenant: PER_ORG,
      total: PER_PASS,
    });
    return markSending(tx, picked.map((c) => c.id), now);
  });
  return send(deps, claimed, opts);
}

/**
 * Sends these messages now, whatever their due time (a test-send): the pending ones among them are
 * claimed and sent; the answers are recorded like the job's.
 */
export async function deliverMessagesNow(deps: DeliverWebhooksDeps, messageIds: string[]): Promise<Array<{ messageId: string; result: DeliveryResult }>> {
  const now = deps.clock.now().getTime();
  const claimed = await asServiceRole(deps.db, async (tx) => {
    const rows = await tx.query<{ id: string }>(
      `select id from public.webhook_messages where id = any($1::uuid[]) and status = 'pending' for update skip locked`,
      [messageIds],
    );
    return markSending(tx, rows.map((r) => r.id), now);
  });
  const outcomes: Outcome[] = [];
  await send(deps, claimed, {}, outcomes);
  return outcomes.map((o) => ({ messageId: o.id, result: o.result }));
}

async function markSending(tx: Queryable, ids: string[], now: number): Promise<Claimed[]> {
  if (ids.length === 0) return [];
  const rows = await tx.query<{
    id: string;
    attempts: number;
    schedule_from: number;
    event_id: string;
    event_type: string;
    endpoint_id: string;
    organization_id: string;
    body: string;
    url: string;
    secret_ciphertext: string;
    previous_secret_ciphertext: string | null;
    previous_secret_expires_at: Date | null;
    disabled_at: Date | null;
    disabled_reason: string | null;
    rate_limit_per_second: number | null;
    failing: boolean;
  }>(
    `update public.webhook_messages m
     set status = 'sending', attempts = m.attempts + 1, lease_until = to_timestamp(($2::float8 + ${LEASE_MS}) / 1000.0)
     from public.webhook_endpoints ep, public.webhook_events ev
     where m.id = any($1::uuid[]) and ep.id = m.endpoint_id and ev.id = m.event_id
     returning m.id, m.attempts, m.schedule_from, m.event_id, m.event_type, m.endpoint_id, m.organization_id, ev.payload::text as body, ep.url,
       ep.secret_ciphertext, ep.previous_secret_ciphertext, ep.previous_secret_expires_at, ep.disabled_at, ep.disabled_reason,
       ep.rate_limit_per_second, ep.failing_since is not null as failing`,
    [ids, now],
  );
  return rows.map((r) => ({
    id: r.id,
    attempts: r.attempts,
    scheduleFrom: r.schedule_from,
    eventId: r.event_id,
    test: r.event_type === 'webhook.test',
    endpointId: r.endpoint_id,
    organizationId: r.organization_id,
    body: r.body,
    url: r.url,
    secret: r.secret_ciphertext,
    previousSecret: r.previous_secret_ciphertext,
    previousSecretExpiresAt: r.previous_secret_expires_at === null ? null : new Date(r.previous_secret_expires_at).getTime(),
    disabled: r.disabled_at === null ? null : (r.disabled_reason ?? 'disabled'),
    ratePerSecond: r.rate_limit_per_second,
    failing: r.failing,
  }));
}

async function send(deps: DeliverWebhooksDeps, claimed: Claimed[], opts: SendOptions, into?: Outcome[]): Promise<PassResult> {
  if (claimed.length === 0) return { claimed: 0, delivered: 0, retried: 0, failed: 0 };
  const key = deps.config?.exports.encryptionKey;
  const box = key ? await createSecretBox(key) : null;
  // An operator's OUTBOUND_ALLOW_PRIVATE lets tenants reach private addresses; what those answer is
  // not for tenants to read (ADR 0005), so only an error word of it is kept.
  const keepBodies = (deps.config?.outbound.allowPrivate.length ?? 0) === 0;
  const outcomes = await runQueues(byQueue(claimed, (c) => c.endpointId), {
    concurrency: CONCURRENCY,
    lanes: LANES,
    attempt: async (m) => {
      // An endpoint's own rate limit: its sends spaced by 1/rate seconds (each lane takes the next
      // free slot before it waits, so lanes never share one).
      if (m.ratePerSecond !== null) {
        const at = Math.max(performance.now(), nextStart.get(m.endpointId) ?? 0);
        nextStart.set(m.endpointId, at + 1000 / m.ratePerSecond);
        const wait = at - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const outcome = await attempt(deps, box, m, keepBodies);
      into?.push(outcome);
      return outcome;
    },
    stopsQueue: stopsWhenGone,
    // Without waiting for the WAL flush: a record lost in a crash means a re-send under the same
    // webhook-id, which receivers deduplicate (invariant 1).
    record: (answered) => asServiceRole(deps.db, (tx) => record(tx, answered), { synchronous_commit: 'off' }),
    inflight: opts.inflight,
    waitMs: opts.waitMs,
    recorded: opts.recorded,
    logger: deps.logger,
  });
  const t = tally(outcomes);
  return { claimed: claimed.length, delivered: t.ok, retried: t.retried, failed: t.failed };
}

const notSent = (error: string): DeliveryResult => ({ ok: false, retryable: false, status: null, retryAfterMs: null, error });

/**
 * A receiver's answer as it can be stored: its first RESPONSE_CHARS code points (never half a
 * surrogate pair), control characters but tab and line breaks replaced (Postgres text holds no NUL).
 */
function storableText(text: string): string | null {
  // eslint-disable-next-line no-control-regex
  const kept = Array.from(text).slice(0, RESPONSE_CHARS).join('').replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '\uFFFD');
  return kept === '' ? null : kept;
}

/** The webhook-id of an event's messages: `msg_` and the event id's 32 hex digits. */
export const webhookId = (eventId: string) => `msg_${eventId.replaceAll('-', '')}`;

async function attempt(deps: DeliverWebhooksDeps, box: SecretBox | null, m: Claimed, keepBodies: boolean): Promise<Outcome> {
  const startedAt = deps.clock.now().getTime();
  const t0 = performance.now();
  let responseBody: string | null = null;
  let result: DeliveryResult;
  try {
    const answer = await post(deps, box, m, new Date(startedAt));
    result = answer.result;
    if (answer.text !== null) responseBody = storableText(keepBodies ? answer.text : excerpt(answer.text));
  } catch (err) {
    deps.logger.error({ err, message: m.id }, 'webhook delivery threw');
    result = { ok: false, retryable: true, status: null, retryAfterMs: null, error: 'The message could not be sent (internal error)' };
  }
  const durationMs = Math.round(performance.now() - t0);
  const next = m.test ? null : nextAttemptAt(m.attempts - m.scheduleFrom, result, startedAt + durationMs, Math.random, WEBHOOK_RETRY);
  return { id: m.id, endpointId: m.endpointId, failing: m.failing, attempt: m.attempts, startedAt, durationMs, result, responseBody, next };
}

async function post(deps: DeliverWebhooksDeps, box: SecretBox | null, m: Claimed, now: Date): Promise<{ result: DeliveryResult; text: string | null }> {
  if (m.disabled !== null) return { result: notSent(`The endpoint is disabled (${m.disabled}); enable it and replay`), text: null };
  if (!box) return { result: notSent("SECRET_ENCRYPTION_KEY is not set on this server: the endpoint's secret cannot be opened"), text: null };
  if (!deps.outbound) throw new Error('delivering webhooks needs deps.outbound (the outbound guard)');
  const secrets: string[] = [];
  try {
    secrets.push(await box.open(m.secret, m.endpointId));
    if (m.previousSecret !== null && m.previousSecretExpiresAt !== null && m.previousSecretExpiresAt > now.getTime()) {
      secrets.push(await box.open(m.previousSecret, m.endpointId));
    }
  } catch (err) {
    return { result: notSent(`The endpoint's secret cannot be opened: ${(err as Error).message}`), text: null };
  }
  const headers = await standardWebhookHeaders(secrets, webhookId(m.eventId), Math.floor(now.getTime() / 1000), m.body);
  return postForAnswer({ outbound: deps.outbound, now, timeoutMs: SEND_TIMEOUT_MS }, m.url, m.body, {
    'user-agent': 'ObservAI-Hub-Webhooks/1',
    ...headers,
  });
}

/** One endpoint's answers of a pass, in one transaction: messages, attempt rows, the endpoint's health. */
async function record(tx: Queryable, outcomes: Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const rows = outcomes.map((o) => ({
    id: o.id,
    attempt: o.attempt,
    started_at: o.startedAt,
    duration_ms: o.durationMs,
    ok: o.result.ok,
    status_code: o.result.status,
    error: o.result.ok ? null : o.result.error,
    response_body: o.responseBody,
    status: o.result.ok ? 'delivered' : o.next !== null ? 'pending' : 'failed',
    next_attempt_at: o.next,
  }));
  await tx.query(
    `with x as (
       select * from jsonb_to_recordset($1::text::jsonb) as x(id uuid, attempt int, started_at float8, duration_ms int, ok boolean,
         status_code int, error text, response_body text, status text, next_attempt_at float8)
     ), updated as (
       update public.webhook_messages m
       set status = x.status, lease_until = null, last_status = x.status_code, last_error = x.error,
           delivered_at = case when x.ok then to_timestamp((x.started_at + x.duration_ms) / 1000.0) else m.delivered_at end,
           next_attempt_at = case when x.next_attempt_at is null then m.next_attempt_at else to_timestamp(x.next_attempt_at / 1000.0) end
       -- Only the claim that made this attempt records it (a lapsed lease claimed again moved attempts on).
       from x where m.id = x.id and m.status = 'sending' and m.attempts = x.attempt
       returning m.id, m.endpoint_id, m.organization_id
     )
     insert into public.webhook_attempts (message_id, endpoint_id, organization_id, attempt, started_at, duration_ms, ok, status_code,
       error, response_body)
     select x.id, u.endpoint_id, u.organization_id, x.attempt, to_timestamp(x.started_at / 1000.0), x.duration_ms, x.ok, x.status_code,
       x.error, x.response_body
     from x join updated u on u.id = x.id`,
    [JSON.stringify(rows)],
  );
  // The endpoint's health: a success clears failing_since; failures start it, and 5 days of them
  // (or one 410 Gone) disable the endpoint.
  const endpointId = outcomes[0]!.endpointId;
  const delivered = outcomes.some((o) => o.result.ok);
  const gone = outcomes.some((o) => !o.result.ok && o.result.disable);
  const firstFailure = Math.min(...outcomes.filter((o) => !o.result.ok).map((o) => o.startedAt));
  const last = Math.max(...outcomes.map((o) => o.startedAt + o.durationMs));
  let disabled: string | null = null;
  if (gone) {
    [{ disabled = null } = {}] = await tx.query<{ disabled: string }>(
      `update public.webhook_endpoints set disabled_at = to_timestamp($2::float8 / 1000.0), disabled_reason = 'The receiver answered 410 Gone'
       where id = $1 and disabled_at is null returning disabled_reason as disabled`,
      [endpointId, last],
    );
  } else if (delivered) {
    // Only when it was failing: most records are a healthy endpoint's, with nothing to clear.
    if (outcomes[0]!.failing) await tx.query('update public.webhook_endpoints set failing_since = null where id = $1 and failing_since is not null', [endpointId]);
  } else if (Number.isFinite(firstFailure)) {
    [{ disabled = null } = {}] = await tx.query<{ disabled: string }>(
      `update public.webhook_endpoints
       set failing_since = coalesce(failing_since, to_timestamp($2::float8 / 1000.0)),
           disabled_at = case when coalesce(failing_since, to_timestamp($2::float8 / 1000.0)) <= to_timestamp(($3::float8 - $4::float8) / 1000.0)
                              then to_timestamp($3::float8 / 1000.0) end,
           disabled_reason = case when coalesce(failing_since, to_timestamp($2::float8 / 1000.0)) <= to_timestamp(($3::float8 - $4::float8) / 1000.0)
                                  then 'Every attempt failed for 5 days' end
       where id = $1 and disabled_at is null
       returning disabled_reason as disabled`,
      [endpointId, firstFailure, last, FAILING_DISABLE_MS],
    );
  }
  if (disabled) {
    // What waits for a disabled endpoint ends failed, unsent, and is replayable once it is enabled
    // again (POST /webhooks/endpoints/:id/recover).
    await tx.query(
      `update public.webhook_messages set status = 'failed', lease_until = null, last_error = $2
       where endpoint_id = $1 and status in ('pending', 'sending')`,
      [endpointId, `Not sent: the endpoint was disabled (${disabled})`],
    );
  }
}

/** True when no endpoint is enabled and no message is waiting anywhere. */
async function nothingToDeliver(tx: Queryable): Promise<boolean> {
  const [row] = await tx.query<{ idle: boolean }>(
    `select not (exists (select 1 from public.webhook_endpoints where disabled_at is null)
      or exists (select 1 from public.webhook_messages where status in ('pending', 'sending'))) as idle`,
  );
  return row?.idle ?? false;
}
