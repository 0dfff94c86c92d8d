import { deliverDue } from '../alerts/deliver-notifications.ts';
import { createRecorded, unrecorded } from '../net/delivery-engine.ts';
import type { Recorded } from '../net/delivery-engine.ts';
import type { Deps } from '../core/deps.ts';
import type { Job, JobContext, JobSummary } from '../core/job.ts';
import { asServiceRole } from '../db/scoped.ts';
import { actionLinks } from './action-links.ts';
import { intakeAlertNotifications } from './alert-intake.ts';
import { applyMaintenance } from './maintenance.ts';
import type { Queryable } from '../db/types.ts';
import type { EscalationTarget, Recipient } from './escalation.ts';
import { tickIncident } from './incidents.ts';
import { capNotifications, EMPTY_RATE_STATE, type RateState } from './notification-rules.ts';
import type { Page } from './escalation.ts';
import { type Carrier, type Carriers, type IncidentInfo, pageNotification, type PlannedNotification, planPersonPage, rulesOrDefault } from './page-plan.ts';
import {
  advancePersonPages,
  appendTimelines,
  carriersOf,
  claimDueIncidents,
  claimDuePersonPages,
  insertNotifications,
  loadReach,
  lockRateStates,
  type PageNotificationRow,
  type PersonPageRow,
  saveRateStates,
  scheduleIdsOf,
  stopStalePersonPages,
  takeResolvedPages,
  type TickWrite,
  type TimelineItem,
  writeTicks,
} from './page-store.ts';
import { onCallUsers } from './schedule-store.ts';
import { type IncidentRow, toCore, withoutPaging } from './views.ts';

/**
 * The escalate-incidents job (every minute; cron-escalate-incidents on Supabase), ticking every few
 * seconds all minute as the alert dispatcher does. A pass:
 * 1. claims the incidents whose timers are due (`next_wake_at <= now`, locked, skip locked), resolves
 *    their policies' targets (organization members, contact points of the incident's project, who
 *    is on call for a schedule now) and runs the incident core's tick (escalation.ts decides every
 *    page); writes each step only where the incident is still at the version the step was computed
 *    from, with its timeline and its pages (page-store.ts), and a page of a contact point becomes its
 *    notification on the notification log;
 * 2. for people's pages with a rule due, while the incident is still triggered in the page's cycle,
 *    makes the notifications their rules call for (page-plan.ts), within the per-person cap
 *    (notification-rules.ts capNotifications: the excess is folded into one summary);
 * 3. sends what it made at once through the delivery engine (deliver-notifications.ts; retries are
 *    the dispatcher's, from the same log).
 * Invariants: a page exists once (its key); a step computed before an acknowledgement committed
 * pages nobody (the version guard, and the row lock the acknowledgement waits on); an
 * acknowledgement stops every later level and every later personal rule; the job survives restarts
 * because everything it knows is in the rows.
 */
const TICK_MS = 5_000;
/** Incidents one pass steps (a storm of 10,000 takes a few passes of one run, bench:oncall). */
const INCIDENTS_PER_PASS = 5_000;
const STEP_WORKERS = 2;
const PEOPLE_PAGES_PER_PASS = 5_000;
const RESOLUTIONS_PER_PASS = 2_000;
/** How long a pass waits for the sends it started before ticking on (they finish in the run). */
const DELIVERY_WAIT_MS = 1_000;

export const escalateIncidents: Job = {
  name: 'escalate-incidents',
  intervalSeconds: 60,
  lockKey: 7_100_041,
  defaultBudgetMs: 57_000,
  run: (deps, ctx) => runEscalation(deps, ctx),
};

export type EscalateDeps = Pick<Deps, 'db' | 'logger' | 'clock'> & Partial<Pick<Deps, 'config' | 'outbound' | 'smtp' | 'defer'>> & { jwtSecret?: string };

export interface EscalationPass {
  /** Incidents held or released as their service's maintenance windows started or ended. */
  maintenance: number;
  /** Notifications of on-call contact points applied to incidents (or failed: their service is gone). */
  intake: number;
  /** Incidents stepped (written), and those whose step was dropped (changed meanwhile). */
  stepped: number;
  stale: number;
  pages: number;
  notifications: number;
  undeliverable: number;
  folded: number;
  sent: number;
  failed: number;
}

export async function runEscalation(deps: EscalateDeps, { budgetMs }: JobContext): Promise<JobSummary> {
  const deadline = performance.now() + budgetMs;
  const summary = { passes: 0, intake: 0, stepped: 0, pages: 0, notifications: 0, undeliverable: 0, folded: 0 };
  // What the run's sends recorded, late ones of earlier passes included (delivery-engine invariant 5).
  const recorded = createRecorded();
  const inflight = new Set<Promise<unknown>>();
  try {
    for (;;) {
      const started = performance.now();
      const pass = await escalateDue(deps, { inflight, recorded });
      summary.passes += 1;
      summary.intake += pass.intake;
      summary.stepped += pass.stepped;
      summary.pages += pass.pages;
      summary.notifications += pass.notifications;
      summary.undeliverable += pass.undeliverable;
      summary.folded += pass.folded;
      if (performance.now() + TICK_MS >= deadline) break;
      // Nothing open anywhere: nothing can come due within this run (a new incident's first step is
      // due at once, and the next run starts within the minute).
      if (inflight.size === 0 && (await asServiceRole(deps.db, (tx) => nothingOpen(tx)))) break;
      // A full pass may have left more due: go again at once.
      if (pass.stepped + pass.stale < INCIDENTS_PER_PASS && pass.intake === 0) await deps.clock.sleep(Math.max(0, TICK_MS - (performance.now() - started)));
    }
  } finally {
    const running = Promise.allSettled([...inflight]);
    if (deps.defer) deps.defer(running);
    else await running;
  }
  return { ...summary, claimed: recorded.claimed, sent: recorded.ok, retried: recorded.retried, failed: recorded.failed, unrecorded: unrecorded(recorded) };
}

async function nothingOpen(tx: Queryable): Promise<boolean> {
  const [row] = await tx.query<{ idle: boolean }>(
    `select not (exists (select 1 from public.incidents where state <> 'resolved' and next_wake_at is not null)
      or exists (select 1 from public.incident_pages where next_rule_at is not null)
      or exists (select 1 from public.incidents where resolve_notice and state = 'resolved')
      or exists (select 1 from public.incidents where held and state <> 'resolved')
      or exists (select 1 from public.alert_notifications n join public.contact_points cp on cp.id = n.contact_point_id
                 where cp.kind = 'oncall' and n.status = 'pending')) as idle`,
  );
  return row?.idle ?? false;
}

/** One pass at the job's clock: steps, people's rules, then sends what they made. */
export async function escalateDue(deps: EscalateDeps, opts: { inflight?: Set<Promise<unknown>>; recorded?: Recorded } = {}): Promise<EscalationPass> {
  const now = deps.clock.now().getTime();
  const dashboardUrl = deps.config?.dashboardUrl ?? null;
  // Alert groups sent to on-call contact points first, then maintenance windows that started or
  // ended: what they open or release is stepped in this pass.
  const intake = await asServiceRole(deps.db, (tx) => intakeAlertNotifications(tx, now));
  const maintenance = await asServiceRole(deps.db, (tx) => applyMaintenance(tx, now));
  // STEP_WORKERS transactions side by side, each claiming its own share (skip locked): a storm's
  // writes are row inserts, which one backend does one at a time.
  const links = (incidentId: string, userId: string) => actionLinks(deps, incidentId, userId, now);
  const parts = await Promise.all(
    Array.from({ length: STEP_WORKERS }, () => asServiceRole(deps.db, (tx) => stepIncidents(tx, now, dashboardUrl, INCIDENTS_PER_PASS / STEP_WORKERS, links))),
  );
  const steps = parts.reduce((a, b) => ({
    stepped: a.stepped + b.stepped,
    stale: a.stale + b.stale,
    pages: a.pages + b.pages,
    notifications: a.notifications + b.notifications,
    undeliverable: a.undeliverable + b.undeliverable,
    folded: a.folded + b.folded,
  }));
  const people = await asServiceRole(deps.db, (tx) => notifyPeople(tx, now, dashboardUrl, links));
  const resolved = await asServiceRole(deps.db, (tx) => tellResolutions(tx, now, dashboardUrl));
  const made = steps.notifications + people.notifications + resolved;
  let sent = 0;
  let failed = 0;
  if (made > 0 && deps.outbound) {
    const d = await deliverDue(deps, now, { inflight: opts.inflight, waitMs: DELIVERY_WAIT_MS, ...(opts.recorded ? { recorded: opts.recorded } : {}) });
    sent = d.sent;
    failed = d.failed;
  }
  return {
    stepped: steps.stepped,
    stale: steps.stale,
    pages: steps.pages,
    intake: intake.applied + intake.failed,
    maintenance,
    notifications: made,
    undeliverable: steps.undeliverable + people.undeliverable,
    folded: steps.folded + people.folded,
    sent,
    failed,
  };
}

async function stepIncidents(tx: Queryable, now: number, dashboardUrl: string | null, limit: number, links: Links) {
  const rows = await claimDueIncidents(tx, now, limit);
  if (rows.length === 0) return { stepped: 0, stale: 0, pages: 0, notifications: 0, undeliverable: 0, folded: 0 };
  const onCall = await onCallUsers(tx, scheduleIdsOf(rows), now);
  const reach = await loadReach(tx, rows, Object.values(onCall).flat());
  const ticks: TickWrite[] = rows.map((row) => {
    const member = (id: string) => reach.members.has(`${row.organization_id}/${id}`);
    const resolve = (t: EscalationTarget): Recipient[] => {
      if (t.type === 'user') return member(t.id) ? [{ type: 'user', id: t.id }] : [];
      if (t.type === 'schedule') return (onCall[t.id] ?? []).filter(member).map((id) => ({ type: 'user' as const, id }));
      const cp = reach.contactPoints.get(t.id);
      return cp && cp.projectId === row.project_id ? [{ type: 'contact_point', id: t.id }] : [];
    };
    const step = tickIncident(toCore(row), now, resolve);
    return { row, step: row.policy === null ? withoutPaging(step) : step };
  });
  const service = (row: IncidentRow) => reach.services.get(row.service_id) ?? { name: 'service', carriers: NO_CARRIERS };
  const info = (row: IncidentRow): IncidentInfo => ({
    id: row.id,
    title: row.title,
    severity: row.severity,
    urgency: row.urgency,
    serviceName: service(row).name,
    project: { id: row.project_id, name: reach.projects.get(row.project_id) ?? row.project_id },
    openedAt: new Date(row.created_at).getTime(),
    details: row.details,
  });
  // A person's rules due at once (an email at once, PagerDuty's default) are planned with the page and
  // made in this transaction; the later ones are the people's pass's (notifyPeople), from the page row.
  const plans = new Map<string, PersonPlan>();
  const planFor = (row: IncidentRow, page: Page): PersonPlan => {
    const person = reach.people.get(page.recipient.id);
    const rules = rulesOrDefault(person?.rules ?? null, person?.email ?? null);
    const plan = planPersonPage(rules, page.urgency, page.at, now, new Set(), service(row).carriers);
    const planned = { rulesMissing: rules === null, due: plan.due, nextAt: plan.nextAt };
    plans.set(page.key, planned);
    return planned;
  };
  const result = await writeTicks(tx, ticks, {
    notify: (pages) =>
      pages.map(({ row, page }): PageNotificationRow => {
        const cp = reach.contactPoints.get(page.recipient.id)!;
        const id = crypto.randomUUID();
        return {
          id,
          projectId: row.project_id,
          organizationId: row.organization_id,
          incidentId: row.id,
          contactPointId: page.recipient.id,
          groupKey: `page:${page.key}`,
          receiver: cp.name,
          payload: pageNotification({ id, incident: info(row), page, receiver: cp.name, createdAt: now, dashboardUrl }),
          recipient: null,
          at: now,
        };
      }),
    plan: (row, page) => {
      const p = planFor(row, page);
      return { done: p.due.map((d) => d.ruleKey), nextAt: p.nextAt };
    },
  });
  const paged = result.people.map(({ row, page }): PlannedPage => ({
    page: { page_key: page.key, recipient_id: page.recipient.id, cycle: page.cycle, round: page.round, level: page.level },
    incident: info(row),
    organizationId: row.organization_id,
    ...plans.get(page.key)!,
  }));
  const people = await notifyPlanned(tx, paged, now, dashboardUrl, links);
  await appendTimelines(tx, [...result.timeline, ...people.timeline]);
  await people.commit();
  return {
    stepped: result.written.size,
    stale: rows.length - result.written.size,
    pages: result.pages,
    notifications: result.notifications + people.notifications,
    undeliverable: people.undeliverable,
    folded: people.folded,
  };
}

type Links = (incidentId: string, userId: string) => Promise<Array<{ label: string; url: string }>>;

const NO_CARRIERS: Carriers = { email: null, slack: null, sms: null, voice: null, webhook: null };

/** What a person's rules call for on one page now: the notifications due (each with its carrier, or why none) and when the next is due. */
interface PersonPlan {
  rulesMissing: boolean;
  due: PlannedNotification[];
  nextAt: number | null;
}

/** A person's page with its plan and what its notifications show. */
interface PlannedPage extends PersonPlan {
  page: Pick<PersonPageRow, 'page_key' | 'recipient_id' | 'cycle' | 'round' | 'level'>;
  incident: IncidentInfo;
  organizationId: string;
}

/** People's pages with a later rule now due (the first ones are made with the page, stepIncidents). */
async function notifyPeople(tx: Queryable, now: number, dashboardUrl: string | null, links: Links) {
  await stopStalePersonPages(tx, now);
  const pages = await claimDuePersonPages(tx, now, PEOPLE_PAGES_PER_PASS);
  if (pages.length === 0) return { notifications: 0, undeliverable: 0, folded: 0 };
  const planned = pages.map((page): PlannedPage => {
    const rules = rulesOrDefault(page.document, page.email);
    const plan = planPersonPage(rules, page.urgency, new Date(page.paged_at).getTime(), now, new Set(page.rules_done), carriersOf(page));
    return { page, incident: joinedInfo(page), organizationId: page.organization_id, rulesMissing: rules === null, ...plan };
  });
  const made = await notifyPlanned(tx, planned, now, dashboardUrl, links);
  await appendTimelines(tx, made.timeline);
  await advancePersonPages(tx, pages.map((page, i) => ({ id: page.id, done: planned[i]!.due.map((d) => d.ruleKey), nextAt: planned[i]!.nextAt })));
  await made.commit();
  return { notifications: made.notifications, undeliverable: made.undeliverable, folded: made.folded };
}

/**
 * Makes the notifications people's due rules call for, within each person's cap (the excess folded
 * into one summary): inserts them, and returns the timeline entries for the caller to append and
 * `commit`, which saves the cap states. The states are locked only when someone has something to
 * send, as late as the caller's transaction allows (two step workers paging the same person take
 * turns from here to their commit).
 */
async function notifyPlanned(tx: Queryable, planned: readonly PlannedPage[], now: number, dashboardUrl: string | null, links: Links) {
  const timeline: TimelineItem[] = [];
  let undeliverable = 0;
  let folded = 0;
  type Candidate = { incidentId: string; p: PlannedPage; ruleKey: string; kind: string; carrier: Carrier; recipient: Record<string, unknown> };
  const byPerson = new Map<string, Candidate[]>();
  for (const p of planned) {
    const incident = { id: p.incident.id, organization_id: p.organizationId, project_id: p.incident.project.id };
    const userId = p.page.recipient_id;
    if (p.rulesMissing) {
      undeliverable += 1;
      timeline.push({ row: incident, entry: { kind: 'notify_failed', at: now, by: null, userId, reason: 'no notification rules and no email address' } });
    }
    for (const d of p.due) {
      if ('reason' in d.via) {
        undeliverable += 1;
        timeline.push({ row: incident, entry: { kind: 'notify_failed', at: now, by: null, userId, method: d.method.kind, rule: d.ruleKey, reason: d.via.reason } });
      } else {
        const list = byPerson.get(userId) ?? [];
        list.push({ incidentId: p.incident.id, p, ruleKey: d.ruleKey, kind: d.method.kind, carrier: d.via.carrier, recipient: d.via.recipient });
        byPerson.set(userId, list);
      }
    }
  }
  const states = await lockRateStates(tx, [...byPerson.keys()]);
  const newStates = new Map<string, RateState>();
  const rows: PageNotificationRow[] = [];
  const row = (c: Candidate, id: string, groupKey: string, payload: PageNotificationRow['payload']): PageNotificationRow => ({
    id,
    projectId: c.p.incident.project.id,
    organizationId: c.p.organizationId,
    incidentId: c.incidentId,
    contactPointId: c.carrier.id,
    groupKey,
    receiver: c.carrier.name,
    payload,
    recipient: c.recipient,
    at: now,
  });
  for (const [userId, candidates] of byPerson) {
    const capped = capNotifications(states.get(userId) ?? EMPTY_RATE_STATE, candidates, now);
    newStates.set(userId, capped.state);
    const sending = new Set(capped.send);
    for (const c of candidates) {
      const incident = { id: c.incidentId, organization_id: c.p.organizationId, project_id: c.p.incident.project.id };
      if (!sending.has(c)) {
        folded += 1;
        timeline.push({ row: incident, entry: { kind: 'notify_folded', at: now, by: null, userId, method: c.kind, rule: c.ruleKey } });
        continue;
      }
      const id = crypto.randomUUID();
      const payload = pageNotification({ id, incident: c.p.incident, page: c.p.page, receiver: c.carrier.name, createdAt: now, dashboardUrl });
      rows.push(row(c, id, `page:${c.p.page.page_key}/${c.ruleKey}`, { ...payload, actions: await links(c.incidentId, userId) }));
      timeline.push({ row: incident, entry: { kind: 'person_notified', at: now, by: null, userId, method: c.kind, rule: c.ruleKey, contactPointId: c.carrier.id } });
    }
    if (capped.summary) {
      // The summary goes where this person's first candidate went (the same carrier and address).
      const c = candidates[0]!;
      const id = crypto.randomUUID();
      const payload = pageNotification({ id, incident: c.p.incident, page: c.p.page, receiver: c.carrier.name, createdAt: now, dashboardUrl });
      const title = `${capped.summary.folded} more notification${capped.summary.folded === 1 ? '' : 's'} held back (at most 10 per 15 minutes)`;
      payload.alerts = [{ ...payload.alerts[0]!, fingerprint: `summary:${userId}:${now}`, labels: { alertname: title, incidents: String(capped.summary.incidentIds.length) }, annotations: { summary: title, description: `Incidents: ${capped.summary.incidentIds.join(', ')}` } }];
      payload.commonLabels = payload.alerts[0]!.labels;
      payload.commonAnnotations = payload.alerts[0]!.annotations;
      payload.groupKey = `person-summary:${userId}`;
      payload.folded = capped.summary.folded;
      rows.push(row(c, id, `person-summary:${userId}/${now}`, payload));
    }
  }
  const notifications = await insertNotifications(tx, rows);
  return { notifications, undeliverable, folded, timeline, commit: () => saveRateStates(tx, newStates, now) };
}

/** Tells each contact point paged for an incident now resolved that it is (once; never if it sends no resolved notices). */
async function tellResolutions(tx: Queryable, now: number, dashboardUrl: string | null): Promise<number> {
  const rows = await takeResolvedPages(tx, RESOLUTIONS_PER_PASS);
  const notices = rows
    .filter((r) => r.send_resolved)
    .map((r): PageNotificationRow => {
      const id = crypto.randomUUID();
      const incident = joinedInfo(r);
      const payload = pageNotification({ id, incident, page: { level: 1, round: 0, cycle: 1 }, receiver: r.contact_point_name, createdAt: now, dashboardUrl });
      const endsAt = new Date(r.resolved_at).toISOString();
      payload.status = 'resolved';
      payload.alerts = payload.alerts.map((a) => ({ ...a, status: 'resolved', endsAt, annotations: { ...a.annotations, description: `Incident on ${r.service_name} resolved.` } }));
      payload.commonAnnotations = payload.alerts[0]!.annotations;
      return {
        id,
        projectId: r.project_id,
        organizationId: r.organization_id,
        incidentId: r.incident_id,
        contactPointId: r.contact_point_id,
        groupKey: `page-resolved:${r.incident_id}`,
        receiver: r.contact_point_name,
        payload,
        recipient: null,
        at: now,
      };
    });
  return insertNotifications(tx, notices);
}

/** The incident as a notification shows it, from a row that joined its project and service. */
function joinedInfo(r: Pick<PersonPageRow, 'incident_id' | 'title' | 'severity' | 'urgency' | 'service_name' | 'project_id' | 'project_name' | 'opened_at' | 'details'>): IncidentInfo {
  return {
    id: r.incident_id,
    title: r.title,
    severity: r.severity,
    urgency: r.urgency,
    serviceName: r.service_name,
    project: { id: r.project_id, name: r.project_name },
    openedAt: new Date(r.opened_at).getTime(),
    details: r.details,
  };
}
