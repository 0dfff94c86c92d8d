import type { Deps } from '../core/deps.ts';
import { createSecretBox, type SecretBox } from '../core/secret-box.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import type { Notification } from './model.ts';
import { NOTIFIERS } from './notifiers/index.ts';
import type { ContactKind, DeliveryResult } from './notifiers/types.ts';
import { byQueue, pickFair, runQueues, stopsWhenGone, tally } from '../net/delivery-engine.ts';
import type { Recorded } from '../net/delivery-engine.ts';
import { nextAttemptAt } from '../net/retry-policy.ts';

/**
 * The delivery engine: sends the notification log's due notifications (alert_notifications) through
 * their contact point's notifier, and records every attempt. Invariants:
 * 1. A notification is claimed before it is sent: status 'sending' with a lease, committed, so a
 *    second dispatcher skips it. The answer is recorded after the send; a crash in between leaves the
 *    lease to lapse and the notification is sent again with the same id. That is the one
 *    at-least-once window (at most LEASE_MS wide): receivers deduplicate on the id we send as their
 *    idempotency key (Standard Webhooks' webhook-id, PagerDuty's dedup_key from the group, the
 *    email's Message-ID).
 * 2. Contact points are isolated: each contact point's notifications are sent in order (seq within a
 *    group: a firing notice never overtakes its resolution), different contact points concurrently;
 *    at most PER_CONTACT_POINT of one contact point are claimed per pass, and every request has a
 *    timeout, so a receiver that hangs or fails holds up only itself.
 * 3. Retries follow retry-policy.ts (backoff with jitter, Retry-After honoured); permanent failures
 *    and exhausted retries end as 'failed' with the last error visible through the API; a 410 Gone
 *    disables the contact point (its pending notifications are then dropped, with the reason).
 * 4. A page to a person (src/oncall/escalate-incidents.ts) names its recipient: their address on the
 *    contact point (`to` of an email, `mention` of a Slack message) replaces the contact point's own
 *    before the settings are validated, so a bad address fails like bad settings, never elsewhere.
 */
const PER_CONTACT_POINT = 10;
/** One project's share of a pass: a tenant with many slow receivers cannot take every claim. */
const PER_PROJECT = 50;
const PER_PASS = 200;
const CONCURRENCY = 16;
const SEND_TIMEOUT_MS = 10_000;
/** Outlasts a contact point's whole queue of a pass (each send bounded by its timeout). */
const LEASE_MS = PER_CONTACT_POINT * SEND_TIMEOUT_MS + 30_000;

export type DeliverDeps = Pick<Deps, 'db' | 'logger' | 'clock'> & Partial<Pick<Deps, 'config' | 'outbound' | 'smtp'>>;

interface Claimed {
  id: string;
  attempts: number;
  payload: Notification;
  contactPointId: string;
  name: string;
  kind: ContactKind;
  settings: unknown;
  secretCiphertext: string | null;
  /** Why the contact point is disabled (a 410 Gone, a user), or null while it is enabled. */
  disabled: string | null;
}

interface Outcome {
  id: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  result: DeliveryResult;
  /** The next attempt's time, or null when this was the last one. */
  next: number | null;
  contactPointId: string;
}

export interface DeliverOptions {
  /**
   * Where to leave sends still running after waitMs: the caller awaits them before it ends (a
   * dispatcher run), and ticks on meanwhile, so one slow receiver never holds up the next tick.
   * Without it, deliverDue waits for every send it started.
   */
  inflight?: Set<Promise<unknown>>;
  waitMs?: number;
  /** A job run's totals across its passes (src/net/delivery-engine.ts invariant 5). */
  recorded?: Recorded;
}

export async function deliverDue(deps: DeliverDeps, now: number, opts: DeliverOptions = {}): Promise<{ claimed: number; sent: number; retried: number; failed: number }> {
  const claimed = await asServiceRole(deps.db, (tx) => claim(tx, now));
  if (claimed.length === 0) return { claimed: 0, sent: 0, retried: 0, failed: 0 };
  const key = deps.config?.exports.encryptionKey;
  const box = key ? await createSecretBox(key) : null;
  const outcomes = await runQueues(byQueue(claimed, (c) => c.contactPointId), {
    concurrency: CONCURRENCY,
    attempt: (n) => attempt(deps, box, n),
    stopsQueue: stopsWhenGone,
    // Without waiting for the WAL flush: a record lost in a crash only means the notification is
    // sent again, under the same id, which its receiver deduplicates (invariant 1).
    record: (answered) => asServiceRole(deps.db, (tx) => record(tx, answered), { synchronous_commit: 'off' }),
    inflight: opts.inflight,
    waitMs: opts.waitMs,
    recorded: opts.recorded,
    logger: deps.logger,
  });
  const t = tally(outcomes);
  return { claimed: claimed.length, sent: t.ok, retried: t.retried, failed: t.failed };
}

/**
 * Claims due notifications: pending ones whose time has come, and sending ones whose lease lapsed.
 * Per contact point one pass at a time (none is claimed while another of its notifications is being
 * sent), and per group in order: a notification waiting for a retry is superseded by a later one of
 * its group (dropped, with the reason: the later one tells the group's current state), and none is
 * claimed while an earlier one of its group is being sent, so a firing notice never arrives after
 * its resolution.
 */
async function claim(tx: Queryable, now: number): Promise<Claimed[]> {
  await tx.query(
    `update public.alert_notifications e
     set status = 'dropped', last_error = 'Superseded by a later notification of its group (sent instead)'
     where e.status = 'pending' and e.attempts > 0
       -- A storm summary is never superseded: each lists only what its own tick folded.
       and e.group_key not like 'storm:%'
       and exists (select 1 from public.alert_notifications l
                   where l.contact_point_id = e.contact_point_id and md5(l.group_key) = md5(e.group_key)
                     and l.group_key = e.group_key and l.seq > e.seq)`,
  );
  const candidates = await tx.query<{ id: string; contact_point_id: string; project_id: string }>(
    `select n.id, n.contact_point_id, n.project_id from public.alert_notifications n
     where ((n.status = 'pending' and n.next_attempt_at <= to_timestamp($1::float8 / 1000.0))
            or (n.status = 'sending' and n.lease_until <= to_timestamp($1::float8 / 1000.0)))
       and not exists (select 1 from public.alert_notifications s
                       where s.contact_point_id = n.contact_point_id and s.status = 'sending'
                         and s.lease_until > to_timestamp($1::float8 / 1000.0))
       -- An on-call contact point's notifications are the escalation job's (src/oncall/alert-intake.ts).
       and not exists (select 1 from public.contact_points o where o.id = n.contact_point_id and o.kind = 'oncall')
     order by n.next_attempt_at, n.created_at, n.seq limit $2 for update of n skip locked`,
    [now, PER_PASS * 4],
  );
  const ids = pickFair(candidates, (c) => ({ queue: c.contact_point_id, tenant: c.project_id }), {
    perQueue: PER_CONTACT_POINT,
    perTenant: PER_PROJECT,
    total: PER_PASS,
  }).map((c) => c.id);
  if (ids.length === 0) return [];
  const rows = await tx.query<{
    id: string;
    attempts: number;
    payload: Notification;
    contact_point_id: string;
    name: string;
    kind: ContactKind;
    settings: unknown;
    secret_ciphertext: string | null;
    disabled_at: Date | null;
    disabled_reason: string | null;
    created_at: Date;
    seq: number;
  }>(
    `update public.alert_notifications n
     set status = 'sending', attempts = n.attempts + 1, lease_until = to_timestamp(($2::float8 + ${LEASE_MS}) / 1000.0)
     from public.contact_points cp
     where n.id = any($1::uuid[]) and cp.id = n.contact_point_id
     returning n.id, n.attempts, n.payload, n.contact_point_id, cp.name, cp.kind, cp.settings || coalesce(n.recipient, '{}'::jsonb) as settings, cp.secret_ciphertext, cp.disabled_at, cp.disabled_reason,
       n.created_at, n.seq`,
    [ids, now],
  );
  return rows
    .sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime() || a.seq - b.seq)
    .map((r) => ({
      id: r.id,
      attempts: r.attempts,
      payload: r.payload,
      contactPointId: r.contact_point_id,
      name: r.name,
      kind: r.kind,
      settings: r.settings,
      secretCiphertext: r.secret_ciphertext,
      disabled: r.disabled_at === null ? null : (r.disabled_reason ?? 'disabled'),
    }));
}

const failure = (error: string): DeliveryResult => ({ ok: false, retryable: false, status: null, retryAfterMs: null, error });

/** One attempt of one notification; never throws. */
async function attempt(deps: DeliverDeps, box: SecretBox | null, n: Claimed): Promise<Outcome> {
  const startedAt = deps.clock.now().getTime();
  const t0 = performance.now();
  const result = await send(deps, box, n, new Date(startedAt)).catch((err): DeliveryResult => {
    deps.logger.error({ err, notification: n.id }, 'notifier threw');
    return { ok: false, retryable: true, status: null, retryAfterMs: null, error: 'The notification could not be sent (internal error)' };
  });
  const durationMs = Math.round(performance.now() - t0);
  const next = nextAttemptAt(n.attempts, result, startedAt + durationMs, Math.random);
  return { id: n.id, attempt: n.attempts, startedAt, durationMs, result, next, contactPointId: n.contactPointId };
}

async function send(deps: DeliverDeps, box: SecretBox | null, n: Claimed, now: Date): Promise<DeliveryResult> {
  if (n.disabled !== null) return failure(`The contact point is disabled (${n.disabled}); enable it to send again`);
  const notifier = NOTIFIERS[n.kind];
  const settings = notifier.settings.safeParse(n.settings);
  if (!settings.success) return failure(`The contact point's settings are invalid: ${settings.error.issues[0]?.message ?? 'unknown'}`);
  let secret: string | null = null;
  if (n.secretCiphertext !== null) {
    if (!box) return failure('SECRET_ENCRYPTION_KEY is not set on this server: the contact point\'s secret cannot be opened');
    try {
      secret = await box.open(n.secretCiphertext, n.contactPointId);
    } catch (err) {
      return failure(`The contact point's secret cannot be opened: ${(err as Error).message}`);
    }
  }
  if (!deps.outbound) throw new Error('delivering notifications needs deps.outbound (the outbound guard)');
  return notifier.send(n.payload, { id: n.contactPointId, name: n.name, kind: n.kind, settings: settings.data, secret }, {
    outbound: deps.outbound,
    smtp: deps.smtp,
    now,
    attempt: n.attempts,
    timeoutMs: SEND_TIMEOUT_MS,
  });
}

/** Every attempt's answer, in one transaction: the notification's status and an attempt row each. */
async function record(tx: Queryable, outcomes: Outcome[]): Promise<void> {
  const rows = outcomes.map((o) => ({
    id: o.id,
    attempt: o.attempt,
    started_at: o.startedAt,
    duration_ms: o.durationMs,
    ok: o.result.ok,
    status_code: o.result.status,
    error: o.result.ok ? null : o.result.error,
    status: o.result.ok ? 'sent' : o.next !== null ? 'pending' : 'failed',
    next_attempt_at: o.next,
  }));
  await tx.query(
    `with x as (
       select * from jsonb_to_recordset($1::text::jsonb) as x(id uuid, attempt int, started_at float8, duration_ms int, ok boolean,
         status_code int, error text, status text, next_attempt_at float8)
     ), updated as (
       update public.alert_notifications n
       set status = x.status, lease_until = null, last_status = x.status_code, last_error = x.error,
           sent_at = case when x.ok then to_timestamp((x.started_at + x.duration_ms) / 1000.0) else n.sent_at end,
           next_attempt_at = case when x.next_attempt_at is null then n.next_attempt_at else to_timestamp(x.next_attempt_at / 1000.0) end
       -- Only the claim that made this attempt records it: a sender whose lease lapsed and was claimed
       -- again (attempts moved on) records nothing.
       from x where n.id = x.id and n.status = 'sending' and n.attempts = x.attempt
       returning n.id, n.project_id, n.organization_id
     )
     insert into public.alert_notification_attempts (notification_id, project_id, organization_id, attempt, started_at, duration_ms,
       ok, status_code, error)
     select x.id, u.project_id, u.organization_id, x.attempt, to_timestamp(x.started_at / 1000.0), x.duration_ms, x.ok, x.status_code, x.error
     from x join updated u on u.id = x.id`,
    [JSON.stringify(rows)],
  );
  const gone = outcomes.filter((o) => !o.result.ok && o.result.disable);
  if (gone.length > 0) {
    const ids = [...new Set(gone.map((o) => o.contactPointId))];
    await tx.query(
      `update public.contact_points set disabled_at = now(), disabled_reason = 'The receiver answered 410 Gone' where id = any($1::uuid[]) and disabled_at is null`,
      [ids],
    );
    await tx.query(
      `update public.alert_notifications set status = 'dropped', last_error = 'The contact point was disabled: its receiver answered 410 Gone'
       where contact_point_id = any($1::uuid[]) and status = 'pending'`,
      [ids],
    );
  }
}
