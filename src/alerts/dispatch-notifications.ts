import { toIso as iso } from '../core/time.ts';
import { alertLink } from '../core/dashboard-links.ts';
import type { Deps } from '../core/deps.ts';
import type { Job, JobContext, JobSummary } from '../core/job.ts';
import { asServiceRole } from '../db/scoped.ts';
import { deliverDue } from './deliver-notifications.ts';
import { createRecorded, unrecorded } from '../net/delivery-engine.ts';
import type { Recorded } from '../net/delivery-engine.ts';
import { type DispatchAlert, type GroupWrite, lastSequences, loadProjectState, nothingToDispatch, type StoredGroup, type NotificationWrite, type ProjectState, projectsToDispatch, saveDispatch } from './dispatch-store.ts';
import { canonicalLabels } from './fingerprint.ts';
import { advanceGroup, type GroupMember, type GroupState } from './grouping.ts';
import type { InhibitRule } from './inhibition.ts';
import { Matchers, matchesAll } from './matchers.ts';
import type { AlertView, Labels, Notification } from './model.ts';
import { groupKey, groupLabels, isMuted, PolicyDocument, type ResolvedRoute, resolveRoutes, timeIntervalsByName } from './routing.ts';
import { silencedBy, type Silence } from './silences.ts';

/**
 * The dispatch-notifications job (every minute; cron-dispatch-notifications on Supabase): the Alert
 * Dispatcher. Each run ticks until its budget is spent, a few seconds apart, so group_wait and
 * group_interval hold to seconds although schedulers fire once a minute. A tick:
 * 1. per project with alerts that fired, routes every alert through the notification policy
 *    (routing.ts), marks those silenced or inhibited, and advances each group (grouping.ts); a flush
 *    becomes one notification per contact point of the route's receiver, written with the group in
 *    one transaction (dispatch-store.ts): the notification log's unique key makes it exist once;
 * 2. sends the notifications that are due (deliver-notifications.ts).
 * Invariants: see grouping.ts (when to notify, resolved notices) and deliver-notifications.ts (once
 * per notification, retries, isolation between contact points).
 */
const TICK_MS = 5_000;
/** How long a tick waits for the sends of one delivery pass before moving on (they finish in the run). */
const DELIVERY_WAIT_MS = 1_000;

/**
 * Storm cap: notifications one contact point gets per minute. Past it, a flush with firing alerts is
 * folded (not written, never sent; its group goes on as though told) and each tick sends one summary
 * per contact point carrying the folded notifications' alerts (`folded` says how many). Resolved-only notifications are
 * never folded: they close what was opened. PagerDuty contact points are never folded.
 */
export const STORM_CAP_PER_MINUTE = 30;
/** Alerts one notification lists unless its contact point sets maxAlerts; the rest are counted (truncatedAlerts). */
const MAX_ALERTS_PER_NOTIFICATION = 1000;
/** Alerts a storm summary lists; the rest are counted in truncatedAlerts. */
const STORM_SUMMARY_ALERTS = 100;

export const dispatchNotifications: Job = {
  name: 'dispatch-notifications',
  intervalSeconds: 60,
  lockKey: 7_100_021,
  // Ticks all minute (pg_cron starts the next run at the next minute): with the runner's default
  // (48 s) the last 12 s of every minute had no tick.
  defaultBudgetMs: 57_000,
  run: (deps, ctx) => runDispatch(deps, ctx),
};

export type DispatchDeps = Pick<Deps, 'db' | 'logger' | 'clock'> & Partial<Pick<Deps, 'config' | 'outbound' | 'smtp' | 'defer'>>;

export async function runDispatch(deps: DispatchDeps, { budgetMs }: JobContext): Promise<JobSummary> {
  const deadline = performance.now() + budgetMs;
  let ticks = 0;
  let notificationsCreated = 0;
  // What the run's sends recorded, late ones of earlier ticks included (delivery-engine invariant 5).
  const recorded = createRecorded();
  // Sends still running when a tick moves on (a slow receiver); awaited before the run ends.
  const inflight = new Set<Promise<unknown>>();
  try {
    for (;;) {
      const started = performance.now();
      const t = await dispatchTick(deps, { inflight, recorded });
      ticks += 1;
      notificationsCreated += t.created;
      const elapsed = performance.now() - started;
      if (performance.now() + TICK_MS >= deadline) break;
      // Nothing could notify within this run (no rule, alert, group or notification anywhere): end it
      // instead of ticking idle for a minute. An installation that has rules ticks all minute, so a
      // rule that fires mid-minute is grouped and told on time.
      if (inflight.size === 0 && (await asServiceRole(deps.db, (tx) => nothingToDispatch(tx)))) break;
      await deps.clock.sleep(Math.max(0, TICK_MS - elapsed));
    }
  } finally {
    // Sends still running finish on their own and record themselves under their lease (no run claims
    // a contact point a send is leased to): waiting here for a slow receiver would hold the job's
    // lock past the minute, and the next run's ticks with it. Without a place to leave them (tests,
    // one-off calls) the run waits for them.
    const running = Promise.allSettled([...inflight]);
    if (deps.defer) deps.defer(running);
    else await running;
  }
  return { ticks, notificationsCreated, claimed: recorded.claimed, sent: recorded.ok, retried: recorded.retried, failed: recorded.failed, unrecorded: unrecorded(recorded) };
}

/**
 * One tick: group and create notifications for every project, then send what is due. With
 * `inflight` (a dispatcher run), sends still running after a short wait are left to finish there;
 * without it (tests, one-off calls), the tick returns when every send it started has answered.
 */
export async function dispatchTick(
  deps: DispatchDeps,
  opts: { inflight?: Set<Promise<unknown>>; recorded?: Recorded } = {},
): Promise<{ created: number; sent: number; retried: number; failed: number }> {
  const now = deps.clock.now().getTime();
  const projects = await asServiceRole(deps.db, (tx) => projectsToDispatch(tx));
  let created = 0;
  for (const projectId of projects) {
    try {
      created += await dispatchProject(deps, projectId, now);
    } catch (err) {
      // One project's bad state must not stop every other project's notifications.
      deps.logger.error({ err, projectId }, 'dispatching a project failed');
    }
  }
  // Passes until nothing is due (each pass takes a few per contact point, for fairness), within a tick.
  const delivered = { sent: 0, retried: 0, failed: 0 };
  const until = performance.now() + TICK_MS;
  for (;;) {
    const pass = await deliverDue(deps, deps.clock.now().getTime(), { inflight: opts.inflight, waitMs: DELIVERY_WAIT_MS, ...(opts.recorded ? { recorded: opts.recorded } : {}) });
    delivered.sent += pass.sent;
    delivered.retried += pass.retried;
    delivered.failed += pass.failed;
    if (pass.claimed === 0 || performance.now() >= until) break;
  }
  return { created, ...delivered };
}

/** Groups a project's alerts and records the notifications that are due; returns how many were created. */
export async function dispatchProject(deps: Pick<DispatchDeps, 'db' | 'logger' | 'config'>, projectId: string, now: number): Promise<number> {
  return asServiceRole(deps.db, async (tx) => {
    const state = await loadProjectState(tx, projectId, now);
    if (!state) return 0;
    const owner = { projectId, organizationId: state.organizationId };
    const parsed = state.policy === null ? null : PolicyDocument.safeParse(state.policy);
    if (!parsed?.success) {
      // No policy (or one an older version wrote that no longer parses): nothing routes, groups end.
      if (parsed && !parsed.success) deps.logger.error({ projectId, issues: parsed.error.issues }, 'stored notification policy does not parse');
      if (state.groups.length > 0) await saveDispatch(tx, owner, [], state.groups.map((g) => g.groupKey), []);
      return 0;
    }
    const policy = parsed.data;
    const plan = planGroups(state, policy, now);
    const intervals = timeIntervalsByName(policy);
    const writes: GroupWrite[] = [];
    const ended: string[] = [];
    const notifications: NotificationWrite[] = [];
    const previous = new Map(state.groups.map((g) => [g.groupKey, g]));
    const started: GroupWrite[] = [];
    for (const key of new Set([...previous.keys(), ...plan.keys()])) {
      const planned = plan.get(key);
      const prev = previous.get(key) ?? null;
      if (!planned) {
        // Its route is gone (the policy changed) and so are its alerts' reasons to be here.
        ended.push(key);
        continue;
      }
      const { route, labels, members } = planned;
      const step = advanceGroup(prev, members, now, route, isMuted(route, intervals, now));
      if (!step.next) {
        if (prev) ended.push(key);
      } else if (!prev || changed(prev, step.next, route, labels)) {
        // Only what changed is written: most ticks change no group (bench:alerts, 10,000 groups).
        writes.push({ ...step.next, ...(prev ? { id: prev.id } : {}), groupKey: key, routeId: route.id, receiver: route.receiver, groupLabels: labels });
        if (!prev) started.push(writes[writes.length - 1]!);
      }
      if (step.flush) {
        const byFp = new Map(planned.alerts.map((a) => [a.fingerprint, a]));
        const firing = step.flush.firing.map((fp) => byFp.get(fp)!);
        const resolved = step.flush.resolved.map((fp) => byFp.get(fp)!);
        for (const cp of state.contactPoints.filter((c) => c.name === route.receiver)) {
          if (firing.length === 0 && !cp.sendResolved) continue;
          const alerts = [...firing, ...(cp.sendResolved ? resolved : [])];
          const shown = alerts.slice(0, cp.maxAlerts ?? MAX_ALERTS_PER_NOTIFICATION);
          const sent = state.recentByContactPoint.get(cp.id) ?? 0;
          // PagerDuty is never folded: its incidents open and close by the group's dedup_key, and a
          // summary would open one that nothing resolves (PagerDuty throttles storms itself).
          const folded = firing.length > 0 && sent >= STORM_CAP_PER_MINUTE && cp.kind !== 'pagerduty';
          if (!folded) state.recentByContactPoint.set(cp.id, sent + 1);
          notifications.push({
            contactPointId: cp.id,
            seq: step.flush.seq,
            folded,
            payload: notification({
              projectId,
              projectName: state.projectName,
              key,
              receiver: route.receiver,
              groupLabels: labels,
              alerts: shown,
              truncated: alerts.length - shown.length,
              externalUrl: deps.config?.dashboardUrl ?? null,
              now,
            }),
          });
        }
      }
    }
    // A group that starts again (its alert fired again after the group ended) carries on from the
    // sequence its key last used, so its notifications are new rows, not repeats of the old ones.
    // (A new group never flushes in the step that creates it: group_wait comes first.)
    const lastSeq = await lastSequences(tx, projectId, started.map((g) => g.groupKey));
    for (const g of started) g.seq = lastSeq.get(g.groupKey) ?? 0;
    return saveDispatch(tx, owner, writes, ended, [...notifications, ...stormSummaries(notifications, now)]);
  });
}

/** One summary per contact point whose notifications this tick folded: their alerts, counted. */
function stormSummaries(notifications: NotificationWrite[], now: number): NotificationWrite[] {
  const byContact = new Map<string, NotificationWrite[]>();
  for (const n of notifications.filter((x) => x.folded)) byContact.set(n.contactPointId, [...(byContact.get(n.contactPointId) ?? []), n]);
  return [...byContact].map(([contactPointId, folded]) => {
    const first = folded[0]!.payload;
    const seen = new Set<string>();
    const alerts = folded.flatMap((n) => n.payload.alerts).filter((a) => !seen.has(a.fingerprint) && seen.add(a.fingerprint));
    const shown = alerts.slice(0, STORM_SUMMARY_ALERTS);
    return {
      contactPointId,
      // One summary per contact point and second (ticks are 5 s apart), counted from 2026 so that it
      // fits the integer column for decades.
      seq: Math.floor((now - Date.UTC(2026, 0, 1)) / 1000),
      payload: {
        ...first,
        id: crypto.randomUUID(),
        groupKey: `storm:${contactPointId}`,
        status: 'firing',
        groupLabels: {},
        commonLabels: common(alerts.map((a) => a.labels)),
        commonAnnotations: common(alerts.map((a) => a.annotations)),
        alerts: shown,
        truncatedAlerts: alerts.length - shown.length + folded.reduce((n, f) => n + f.payload.truncatedAlerts, 0),
        folded: folded.length,
      },
    };
  });
}

/** Whether a group's stored row differs from what this step made of it. */
function changed(prev: StoredGroup, next: GroupState, route: ResolvedRoute, labels: Labels): boolean {
  return (
    prev.nextFlushAt !== next.nextFlushAt ||
    prev.lastNotifiedAt !== next.lastNotifiedAt ||
    prev.seq !== next.seq ||
    prev.routeId !== route.id ||
    prev.receiver !== route.receiver ||
    prev.notifiedFiring.length !== next.notifiedFiring.length ||
    prev.notifiedFiring.some((fp, i) => fp !== next.notifiedFiring[i]) ||
    canonicalLabels(prev.groupLabels) !== canonicalLabels(labels)
  );
}

interface PlannedGroup {
  route: ResolvedRoute;
  labels: Labels;
  members: GroupMember[];
  alerts: DispatchAlert[];
}

/** Every alert routed to its groups, with whether it is silenced or inhibited now. */
function planGroups(state: ProjectState, policy: PolicyDocument, now: number): Map<string, PlannedGroup> {
  const silences: Silence[] = state.silences.flatMap((s) => {
    const m = Matchers.safeParse(s.matchers);
    return m.success ? [{ id: s.id, matchers: m.data, startsAt: s.startsAt, endsAt: s.endsAt }] : [];
  });
  const firing = state.alerts.filter((a) => a.state === 'firing');
  const inhibited = inhibitionIndex(policy.inhibit_rules, firing.map((a) => a.labels));
  const plan = new Map<string, PlannedGroup>();
  for (const alert of state.alerts) {
    const suppressed = alert.state === 'firing' && (silencedBy(alert.labels, silences, now).length > 0 || inhibited(alert.labels));
    for (const route of resolveRoutes(policy.route, alert.labels)) {
      const key = groupKey(route, alert.labels);
      let g = plan.get(key);
      if (!g) plan.set(key, (g = { route, labels: groupLabels(route, alert.labels), members: [], alerts: [] }));
      g.members.push({ fingerprint: alert.fingerprint, status: alert.state, suppressed });
      g.alerts.push(alert);
    }
  }
  return plan;
}

/**
 * Inhibition (inhibition.ts's semantics) in time linear in the alerts: per rule, the `equal` label
 * values of the firing alerts that match its source, counted apart for those that also match both
 * sides (which cannot inhibit an alert that matches both sides: no alert inhibits itself or its twin).
 */
function inhibitionIndex(rules: readonly InhibitRule[], firing: readonly Labels[]): (target: Labels) => boolean {
  const index = rules.map((r) => {
    const all = new Map<string, number>();
    const notBoth = new Map<string, number>();
    for (const s of firing) {
      if (!matchesAll(r.source_matchers, s)) continue;
      const k = equalKey(r.equal, s);
      all.set(k, (all.get(k) ?? 0) + 1);
      if (!matchesAll(r.target_matchers, s)) notBoth.set(k, (notBoth.get(k) ?? 0) + 1);
    }
    return { r, all, notBoth };
  });
  return (target) =>
    index.some(({ r, all, notBoth }) => {
      if (all.size === 0 || !matchesAll(r.target_matchers, target)) return false;
      const k = equalKey(r.equal, target);
      return ((matchesAll(r.source_matchers, target) ? notBoth : all).get(k) ?? 0) > 0;
    });
}

const equalKey = (names: readonly string[], l: Labels) => JSON.stringify(names.map((n) => (Object.hasOwn(l, n) ? l[n] : undefined) ?? ''));


function alertView(a: DispatchAlert, projectId: string, externalUrl: string | null): AlertView {
  return {
    fingerprint: a.fingerprint,
    status: a.state,
    labels: a.labels,
    annotations: a.annotations,
    // When the condition began (Prometheus' activeAt; an external alert's own startsAt), as Alertmanager shows it.
    startsAt: iso(a.activeAt)!,
    endsAt: a.state === 'resolved' ? iso(a.resolvedAt) : null,
    value: a.value,
    url: a.generatorUrl ?? (externalUrl ? alertLink(externalUrl, projectId, a.fingerprint) : null),
  };
}

/** Labels (or annotations) every alert of the list shares, with the same value. */
function common(maps: Labels[]): Labels {
  if (maps.length === 0) return {};
  const out: Labels = { ...maps[0]! };
  for (const m of maps.slice(1)) for (const k of Object.keys(out)) if (m[k] !== out[k]) delete out[k];
  return out;
}

function notification(p: {
  projectId: string;
  projectName: string;
  key: string;
  receiver: string;
  groupLabels: Labels;
  alerts: DispatchAlert[];
  truncated: number;
  externalUrl: string | null;
  now: number;
}): Notification {
  const alerts = p.alerts.map((a) => alertView(a, p.projectId, p.externalUrl));
  return {
    id: crypto.randomUUID(),
    groupKey: p.key,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: p.receiver,
    groupLabels: p.groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    alerts,
    truncatedAlerts: p.truncated,
    externalUrl: p.externalUrl,
    project: { id: p.projectId, name: p.projectName },
    createdAt: new Date(p.now).toISOString(),
  };
}
