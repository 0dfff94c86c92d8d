import { z } from 'zod';
import { durationSchema } from './durations.ts';
import { InhibitRule, MAX_INHIBIT_RULES } from './inhibition.ts';
import { LabelName, type Matcher, Matchers, formatMatcher, matchesAll, quoteValue } from './matchers.ts';
import type { Labels } from './model.ts';
import { type TimeInterval, TimeIntervals, isActiveAt } from './time-intervals.ts';

export { InhibitRule };

/**
 * Notification policies, Alertmanager's routing tree: which receiver gets an alert, grouped by
 * which labels, on which timers. Pure: parse a policy document, resolve an alert's labels to the
 * routes it goes to, name its group. The dispatcher keeps the groups and timers.
 *
 * Invariants (Alertmanager's dispatch/route.go, except where noted):
 * - an alert enters at the root, which matches everything; a route matches when all its matchers
 *   do, and then its children are tried depth-first in order: the first matching child wins and
 *   ends the search on that level, unless it has `continue: true`, in which case later siblings
 *   are tried too; a route none of whose children match is itself the result. So resolveRoutes
 *   returns at least the root, every route at most once, in tree order;
 * - a route inherits the receiver, group_by and timers it leaves unset from its parent, the root
 *   from Alertmanager's defaults (group_wait 30s, group_interval 5m, repeat_interval 4h, group_by
 *   []); mute_time_intervals / active_time_intervals are the route's own, not inherited, as in
 *   Alertmanager (route.go sets them from the route alone), so an imported tree mutes what it did;
 * - group_by `['...']` groups by every label (no aggregation); `...` with other labels is refused;
 * - ids are paths of child indexes ('0', '0.2', '0.2.1'): stable while the tree's shape is, and
 *   distinct between routes even when two routes have the same matchers (Alertmanager's route key
 *   is not, so two such routes would share groups there);
 * - the root has a receiver, no matchers and no mute/active intervals (Alertmanager's rules); the
 *   tree is at most 10 levels deep and 200 routes, checked before the tree is walked, so a
 *   hostile document cannot make parsing recurse without bound.
 */

export const DEFAULT_GROUP_WAIT_MS = 30_000;
export const DEFAULT_GROUP_INTERVAL_MS = 300_000;
export const DEFAULT_REPEAT_INTERVAL_MS = 4 * 3_600_000;
export const MAX_ROUTE_DEPTH = 10;
export const MAX_ROUTES = 200;

/** A route as the document holds it, parsed: durations in ms, matchers compiled. */
export interface Route {
  receiver?: string;
  matchers: Matcher[];
  group_by?: string[];
  continue: boolean;
  group_wait?: number;
  group_interval?: number;
  repeat_interval?: number;
  mute_time_intervals?: string[];
  active_time_intervals?: string[];
  routes: Route[];
}

/** What a matching route says to do with an alert: every field inherited and defaulted. */
export interface ResolvedRoute {
  /** Child indexes from the root: '0', '0.2', '0.2.1'. */
  id: string;
  /** Alertmanager's route key: the matchers of each route on the path, `{}/{team="db"}`. */
  key: string;
  receiver: string;
  groupBy: string[] | 'all';
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  muteTimeIntervals: string[];
  activeTimeIntervals: string[];
}

// ---------------------------------------------------------------------------------------------
// Schemas.

const GroupBy = z
  .array(z.string())
  .max(64)
  .superRefine((names, ctx) => {
    if (names.includes('...') && names.length > 1) {
      ctx.addIssue({ code: 'custom', message: "'...' (group by every label) must be the only entry" });
      return;
    }
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (n !== '...' && !LabelName.safeParse(n).success) ctx.addIssue({ code: 'custom', path: [i], message: `'${n}' is not a label name` });
      else if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [i], message: `'${n}' is listed twice` });
      seen.add(n);
    });
  });

const IntervalNames = z.array(z.string().trim().min(1).max(100)).max(20);

const RouteNode: z.ZodType<Route> = z.lazy(() =>
  z.strictObject({
    receiver: z.string().trim().min(1).max(200).optional(),
    matchers: Matchers.default([]),
    group_by: GroupBy.optional(),
    continue: z.boolean().default(false),
    group_wait: durationSchema().optional(),
    // Alertmanager refuses zero intervals: they would notify in a loop.
    group_interval: durationSchema({ min: '1ms' }).optional(),
    repeat_interval: durationSchema({ min: '1ms' }).optional(),
    mute_time_intervals: IntervalNames.optional(),
    active_time_intervals: IntervalNames.optional(),
    routes: z.array(RouteNode).default([]),
  }),
);

/** Checks depth and size on the raw input, without recursion, before zod walks it. */
function checkTreeShape(raw: unknown, ctx: z.RefinementCtx): void {
  const stack: Array<{ node: unknown; path: Array<string | number>; depth: number }> = [{ node: raw, path: [], depth: 1 }];
  let count = 0;
  while (stack.length > 0) {
    const { node, path, depth } = stack.pop()!;
    if (++count > MAX_ROUTES) {
      ctx.addIssue({ code: 'custom', message: `a policy may have at most ${MAX_ROUTES} routes` });
      return;
    }
    if (depth > MAX_ROUTE_DEPTH) {
      ctx.addIssue({ code: 'custom', path, message: `routes may nest at most ${MAX_ROUTE_DEPTH} levels deep` });
      return;
    }
    const kids = typeof node === 'object' && node !== null ? (node as { routes?: unknown }).routes : undefined;
    if (!Array.isArray(kids)) continue;
    if (kids.length > MAX_ROUTES) {
      ctx.addIssue({ code: 'custom', path: [...path, 'routes'], message: `a policy may have at most ${MAX_ROUTES} routes` });
      return;
    }
    kids.forEach((k, i) => stack.push({ node: k, path: [...path, 'routes', i], depth: depth + 1 }));
  }
}

/** The root of a routing tree. */
export const Route = z
  .unknown()
  .superRefine(checkTreeShape)
  .pipe(RouteNode)
  .superRefine((root, ctx) => {
    if (!root.receiver) ctx.addIssue({ code: 'custom', path: ['receiver'], message: 'the root route needs a receiver: alerts no other route takes go there' });
    if (root.matchers.length > 0) ctx.addIssue({ code: 'custom', path: ['matchers'], message: 'the root route takes every alert, so it has no matchers' });
    for (const field of ['mute_time_intervals', 'active_time_intervals'] as const) {
      if (root[field]?.length) ctx.addIssue({ code: 'custom', path: [field], message: 'the root route cannot be muted (Alertmanager rule); set it on a child route' });
    }
  });

/** Calls visit on every route with its path in the document (['routes', 0, 'routes', 2]). */
function walk(route: Route, visit: (r: Route, path: Array<string | number>) => void, path: Array<string | number> = []): void {
  visit(route, path);
  route.routes.forEach((child, i) => walk(child, visit, [...path, 'routes', i]));
}

export const PolicyDocument = z
  .strictObject({
    route: Route,
    inhibit_rules: z.array(InhibitRule).max(MAX_INHIBIT_RULES).default([]),
    time_intervals: TimeIntervals.default([]),
  })
  .superRefine(
    (doc, ctx) => {
      const defined = new Set(doc.time_intervals.map((t) => t.name));
      walk(doc.route, (r, path) => {
        for (const field of ['mute_time_intervals', 'active_time_intervals'] as const) {
          r[field]?.forEach((name, i) => {
            if (!defined.has(name)) ctx.addIssue({ code: 'custom', path: ['route', ...path, field, i], message: `no time interval named '${name}' in time_intervals` });
          });
        }
      });
    },
    // zod runs refinements after non-fatal issues too, on a value that may still be the raw input
    // (a tree refused for its depth): cross-check only a document that parsed.
    { when: (payload) => payload.issues.length === 0 },
  );
export type PolicyDocument = z.output<typeof PolicyDocument>;

/** Every receiver the tree names, for the caller to check against its contact points. */
export function receiversOf(doc: PolicyDocument): Set<string> {
  const out = new Set<string>();
  walk(doc.route, (r) => {
    if (r.receiver) out.add(r.receiver);
  });
  return out;
}

export function timeIntervalsByName(doc: PolicyDocument): Map<string, TimeInterval> {
  return new Map(doc.time_intervals.map((t) => [t.name, t]));
}

// ---------------------------------------------------------------------------------------------
// Resolution.

const ROOT_DEFAULTS: Omit<ResolvedRoute, 'id' | 'key'> = {
  receiver: '',
  groupBy: [],
  groupWaitMs: DEFAULT_GROUP_WAIT_MS,
  groupIntervalMs: DEFAULT_GROUP_INTERVAL_MS,
  repeatIntervalMs: DEFAULT_REPEAT_INTERVAL_MS,
  muteTimeIntervals: [],
  activeTimeIntervals: [],
};

/** Alertmanager's Matchers.String(): sorted, so reordering a route's matchers keeps its key. */
function matchersKey(ms: readonly Matcher[]): string {
  const sorted = [...ms].sort((a, b) => cmp(a.name, b.name) || cmp(a.op, b.op) || cmp(a.value, b.value));
  return `{${sorted.map(formatMatcher).join(',')}}`;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function inherit(parent: ResolvedRoute, r: Route, id: string, key: string): ResolvedRoute {
  return {
    id,
    key,
    receiver: r.receiver ?? parent.receiver,
    groupBy: r.group_by === undefined ? parent.groupBy : r.group_by[0] === '...' ? 'all' : r.group_by,
    groupWaitMs: r.group_wait ?? parent.groupWaitMs,
    groupIntervalMs: r.group_interval ?? parent.groupIntervalMs,
    repeatIntervalMs: r.repeat_interval ?? parent.repeatIntervalMs,
    // Not inherited, as in Alertmanager (dispatch/route.go sets them from the route's own config):
    // an imported Alertmanager tree mutes exactly what it muted there.
    muteTimeIntervals: r.mute_time_intervals ?? [],
    activeTimeIntervals: r.active_time_intervals ?? [],
  };
}

/** The routes an alert with these labels goes to (at least one: the root catches the rest). */
export function resolveRoutes(root: Route, labels: Labels): ResolvedRoute[] {
  const out: ResolvedRoute[] = [];
  const visit = (r: Route, parent: ResolvedRoute, id: string, parentKey: string | null): boolean => {
    if (!matchesAll(r.matchers, labels)) return false;
    const key = parentKey === null ? matchersKey(r.matchers) : `${parentKey}/${matchersKey(r.matchers)}`;
    const self = inherit(parent, r, id, key);
    let matched = false;
    for (let i = 0; i < r.routes.length; i++) {
      const child = r.routes[i]!;
      if (visit(child, self, `${id}.${i}`, key)) {
        matched = true;
        if (!child.continue) break;
      }
    }
    if (!matched) out.push(self);
    return true;
  };
  visit(root, { id: '', key: '', ...ROOT_DEFAULTS }, '0', null);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Groups.

/**
 * The labels that name an alert's group on this route: those group_by lists that the alert has,
 * or all of them for `...`. An empty value counts as absent (Prometheus: an empty label is none).
 */
export function groupLabels(route: ResolvedRoute, labels: Labels): Labels {
  const names = route.groupBy === 'all' ? Object.keys(labels) : route.groupBy;
  const out: Labels = {};
  for (const n of [...names].sort(cmp)) {
    const v = Object.hasOwn(labels, n) ? labels[n] : undefined; // never an inherited member (`constructor`)
    if (v !== undefined && v !== '') out[n] = v;
  }
  return out;
}

/** `{a="x", b="y"}`, sorted by name: Alertmanager's LabelSet.String(). */
export function formatLabels(labels: Labels): string {
  return `{${Object.keys(labels)
    .sort(cmp)
    .map((n) => `${n}=${quoteValue(labels[n]!)}`)
    .join(', ')}}`;
}

/**
 * The group's identity, readable and deterministic: route key, route id, group labels, e.g.
 * `{}/{team="db"}#0.1:{env="prod"}`. Values are quoted and escaped, so distinct groups never
 * share a key. Note it can exceed PagerDuty's 255-character dedup_key: hash it there.
 */
export function groupKey(route: ResolvedRoute, labels: Labels): string {
  return `${route.key}#${route.id}:${formatLabels(groupLabels(route, labels))}`;
}

// ---------------------------------------------------------------------------------------------
// Muting by time.

/**
 * True when notifications of this route are held at nowMs: inside any of its mute intervals, or
 * outside all of its active intervals when it has some. A name missing from the map (which
 * PolicyDocument refuses) never mutes: an extra page is better than a lost one.
 */
export function isMuted(route: ResolvedRoute, intervalsByName: ReadonlyMap<string, TimeInterval>, nowMs: number): boolean {
  const active = (name: string) => {
    const ti = intervalsByName.get(name);
    return ti !== undefined && isActiveAt(ti, nowMs);
  };
  if (route.muteTimeIntervals.some(active)) return true;
  const known = route.activeTimeIntervals.filter((n) => intervalsByName.has(n));
  return known.length > 0 && !known.some(active);
}
