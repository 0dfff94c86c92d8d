import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { sha256Hex } from '../core/ids.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import type { EscalationPolicy, Urgency } from './escalation.ts';
import { applyEvent, type IncidentStep, openIncident, reopenIncident, routeEvent } from './incidents.ts';
import { inMaintenance } from './maintenance.ts';
import { type Accepted, decidePagerDutyEvent, type InvalidEvent, type PagerDutyEvent, pagerDutyGroupKey, parsePagerDutyEvent } from './pagerduty-events.ts';
import { appendTimeline, INCIDENT_COLUMNS, type IncidentRow, lockIncidentKey, RECORD_ONLY, toCore, withoutPaging, writeStep } from './views.ts';

/** PagerDuty's own limit on the Events API v2: events a minute per routing key. */
export const EVENTS_PER_MINUTE = 120;

/** Over the limit: 429, retried by senders after Retry-After (PagerDuty's clients retry a 429). */
export interface Throttled {
  status: 429;
  body: { status: 'throttle event'; message: string };
  headers: Record<string, string>;
}

/**
 * One fixed minute window per routing key (by its hash), counted before the database is touched, so
 * a flood costs one cache command an event. When the cache is down the event passes (accepted
 * events are never refused for lack of Redis), as ingest's limits do.
 */
async function throttle(deps: Pick<Deps, 'cache' | 'logger' | 'clock'>, hash: string): Promise<Throttled | null> {
  const now = deps.clock.now().getTime();
  let count: number;
  try {
    [count = 0] = await deps.cache.incrCounters([{ key: `oai:rl:pd:${hash.slice(0, 32)}:${Math.floor(now / 60_000)}`, by: 1 }], 120_000);
  } catch (err) {
    deps.logger.warn({ err }, 'rate limiter unavailable: event let through');
    return null;
  }
  if (count <= EVENTS_PER_MINUTE) return null;
  const retryAfter = String(60 - Math.floor((now % 60_000) / 1000));
  return {
    status: 429,
    body: { status: 'throttle event', message: `More than ${EVENTS_PER_MINUTE} events a minute for this routing key; retry after ${retryAfter} s` },
    headers: { 'retry-after': retryAfter },
  };
}

/** What PagerDuty answers for a routing key it does not know: the same 400 as any invalid event, naming nothing else. */
export const UNKNOWN_ROUTING_KEY: InvalidEvent = { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid routing key'] } };

export interface ServiceForEvents {
  id: string;
  organization_id: string;
  project_id: string;
  escalation_policy_id: string | null;
  urgency: 'high' | 'low' | 'severity';
  reopen_window_seconds: number;
}

/** The payload's context kept on the incident (what PagerDuty shows as the alert's details). */
function eventDetails(e: PagerDutyEvent): Record<string, unknown> {
  const p = e.payload;
  const out: Record<string, unknown> = {};
  if (p) {
    out.source = p.source;
    for (const k of ['component', 'group', 'class', 'timestamp', 'custom_details'] as const) if (p[k] !== undefined) out[k] = p[k];
  }
  for (const k of ['client', 'client_url', 'links', 'images'] as const) if (e[k] !== undefined) out[k] = e[k];
  return out;
}

/**
 * One PagerDuty Events API v2 event (POST /v2/enqueue): the routing key in the body is the
 * credential (looked up by its sha256; an unknown key is PagerDuty's 400, the same for every
 * tenant). In one transaction, serialised per (service, dedup key): pagerduty-events.ts decides
 * (PagerDuty's dedup rules) and incidents.ts applies it (routeEvent for a trigger with nothing open:
 * open, or reopen within the service's reopen window; applyEvent for the open incident), writing the
 * incident and its timeline. Answers exactly as PagerDuty does: 202 with the dedup key, also when
 * the event is dropped (acknowledge or resolve of a key with no open incident).
 */
export async function enqueueEvent(deps: Pick<Deps, 'db' | 'clock' | 'cache' | 'logger'>, raw: string): Promise<Accepted | InvalidEvent | Throttled> {
  const parsed = parsePagerDutyEvent(raw);
  if (!parsed.ok) return parsed.response;
  const event = parsed.event;
  const hash = await sha256Hex(event.routing_key);
  const throttled = await throttle(deps, hash);
  if (throttled) return throttled;
  // The escalation job steps incidents without the key's lock (under its version guard): an event
  // whose incident it changed between our read and our write is applied once more to what it wrote,
  // so a sender is not told 409 (PagerDuty's clients do not retry one).
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyOnce(deps, event, hash);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT') || attempt >= 3) throw err;
    }
  }
}

async function applyOnce(deps: Pick<Deps, 'db' | 'clock'>, event: PagerDutyEvent, hash: string): Promise<Accepted | InvalidEvent> {
  return asServiceRole(deps.db, async (tx) => {
    const [service] = await tx.query<ServiceForEvents>(
      'select id, organization_id, project_id, escalation_policy_id, urgency, reopen_window_seconds from public.oncall_services where integration_key_hash = $1',
      [hash],
    );
    if (!service) return UNKNOWN_ROUTING_KEY;
    const generated = crypto.randomUUID();
    const dedupKey = event.dedup_key ?? generated;
    const groupKey = pagerDutyGroupKey(service.id, dedupKey);
    // One event at a time per (service, dedup key): the open-incident lookup and the write agree.
    await lockIncidentKey(tx, service.id, groupKey);
    const open = event.dedup_key === undefined ? undefined : await findOpen(tx, service.id, groupKey);
    const { decision, response } = decidePagerDutyEvent(event, open ? { incidentId: open.id, status: open.state as 'triggered' | 'acknowledged' } : null, generated);
    const now = deps.clock.now().getTime();
    const by = `service:${service.id}`;
    const alert = event.payload?.summary ?? dedupKey;
    const apply = async (row: IncidentRow, step: IncidentStep): Promise<boolean> => {
      if (step.rejected !== null || step.timeline.length === 0) return false;
      // The API's verbs take the same lock, so the version cannot have moved since the read; the
      // compare-and-set stays as the guard (the escalation job will not take the lock).
      const written = await writeStep(tx, row, row.policy === null ? withoutPaging(step) : step);
      if (!written) throw new AppError('CONFLICT', 'The incident changed while this event was applied; send it again');
      return true;
    };
    switch (decision.kind) {
      case 'drop':
        break;
      case 'alert_added':
        await apply(open!, applyEvent(toCore(open!), { type: 'alert_added', alert }, now));
        break;
      case 'acknowledge':
        await apply(open!, applyEvent(toCore(open!), { type: 'acknowledge', by }, now));
        break;
      case 'resolve':
        await apply(open!, applyEvent(toCore(open!), { type: 'resolve', by }, now));
        break;
      case 'open': {
        const last = await findLastResolved(tx, service.id, groupKey);
        const route = routeEvent(null, last ? toCore(last) : null, { type: 'fired', alert }, now, service.reopen_window_seconds * 1000);
        if (route.action === 'reopen' && last) {
          if (await apply(last, reopenIncident(toCore(last), now, await inMaintenance(tx, service.id, now)))) await appendTimeline(tx, last, [{ kind: 'alert_added', at: now, by: null, alert }]);
          break;
        }
        // The last one was merged into another that is still open: the event goes there.
        if (route.action === 'follow' && (await followMerged(tx, route.incidentId, alert, now))) break;
        const urgency: Urgency = service.urgency === 'severity' ? decision.urgency : service.urgency;
        await openNewIncident(tx, service, { groupKey, dedupKey: decision.dedupKey, title: decision.title, urgency, alert, severity: event.payload!.severity, details: eventDetails(event), now });
        break;
      }
    }
    return response;
  });
}

export async function findOpen(tx: Queryable, serviceId: string, groupKey: string): Promise<IncidentRow | undefined> {
  const [row] = await tx.query<IncidentRow>(
    `select ${INCIDENT_COLUMNS} from public.incidents where service_id = $1 and md5(group_key) = md5($2) and group_key = $2 and state <> 'resolved'`,
    [serviceId, groupKey],
  );
  return row;
}

export async function findLastResolved(tx: Queryable, serviceId: string, groupKey: string): Promise<IncidentRow | undefined> {
  const [row] = await tx.query<IncidentRow>(
    `select ${INCIDENT_COLUMNS} from public.incidents where service_id = $1 and md5(group_key) = md5($2) and group_key = $2 and state = 'resolved'
     order by resolved_at desc nulls last limit 1`,
    [serviceId, groupKey],
  );
  return row;
}

/** Opens an incident with the service's escalation policy snapshotted (none: recorded, nobody paged). */
export async function openNewIncident(
  tx: Queryable,
  service: ServiceForEvents,
  o: { groupKey: string; dedupKey: string | null; title: string; urgency: Urgency; alert: string; severity: string | null; details: Record<string, unknown>; now: number },
): Promise<void> {
  const [policy] = service.escalation_policy_id
    ? await tx.query<{ document: EscalationPolicy }>('select document from public.escalation_policies where id = $1', [service.escalation_policy_id])
    : [];
  const id = crypto.randomUUID();
  let step = openIncident(
    { id, policyId: service.escalation_policy_id ?? '', groupKey: o.groupKey, title: o.title, urgency: o.urgency, policy: policy?.document ?? RECORD_ONLY, alert: o.alert },
    o.now,
    await inMaintenance(tx, service.id, o.now),
  );
  if (!policy) step = withoutPaging(step);
  const i = step.incident;
  const [row] = await tx.query<IncidentRow>(
    `insert into public.incidents (id, organization_id, project_id, service_id, group_key, dedup_key, title, severity, details, urgency, state,
       version, held, escalation_policy_id, policy, escalation, next_wake_at, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10, $11, $12, $13, $14, $15::text::jsonb, $16::text::jsonb, $17, $18, $18)
     returning ${INCIDENT_COLUMNS}`,
    [
      id,
      service.organization_id,
      service.project_id,
      service.id,
      o.groupKey,
      o.dedupKey,
      o.title,
      o.severity,
      JSON.stringify(o.details),
      i.urgency,
      i.status,
      i.version,
      i.held,
      policy ? service.escalation_policy_id : null,
      policy ? JSON.stringify(policy.document) : null,
      JSON.stringify(i.escalation),
      step.wakeAt === null ? null : new Date(step.wakeAt).toISOString(),
      new Date(o.now).toISOString(),
    ],
  );
  await appendTimeline(tx, row!, step.timeline);
}

/**
 * An alert for the key of an incident merged into another: recorded on that one while it is open
 * (true), else nothing (false: the caller opens a new incident). Only a timeline row, so no version
 * moves and no key lock is needed beyond the caller's.
 */
export async function followMerged(tx: Queryable, incidentId: string, alert: string, now: number): Promise<boolean> {
  const [into] = await tx.query<IncidentRow>(`select ${INCIDENT_COLUMNS} from public.incidents where id = $1 and state <> 'resolved'`, [incidentId]);
  if (!into) return false;
  await appendTimeline(tx, into, [{ kind: 'alert_added', at: now, by: null, alert }]);
  return true;
}
