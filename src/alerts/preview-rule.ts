import { z } from 'zod';
import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { formatDuration } from './durations.ts';
import { INSTANCE_RULES } from './evaluate-alerts.ts';
import { evaluateRule, type Sample } from './evaluate-rule.ts';
import { advanceInstance, type Instance, type InstanceRules, type InstanceState, type Observation, type Transition } from './instances.ts';
import type { Labels } from './model.ts';
import type { EvalRule } from './rule-store.ts';
import { ruleValues } from './rule-views.ts';
import { RuleSpec } from './schemas.ts';

/**
 * POST /alerts/rules/preview: what a rule (as POST /rules takes it, saved or not) would have done over
 * a past range, by the engine's own code: the evaluator's query (evaluateRule) at every multiple of the
 * rule's interval in (from, to], as claimDueRules schedules it, and the instance state machine
 * (advanceInstance) stepped over those times as a fake clock, with the evaluate-alerts job's
 * instance rules, group cap and "absent group = no data" step (evaluate-alerts.ts applyRule). Nothing
 * is written. tests/integration/alert-rule-preview.test.ts runs the real job over the same data and
 * compares.
 */

/** Evaluations one preview may run: a day at the finest interval (1m). */
export const MAX_PREVIEW_STEPS = 1440;
/** Series whose steps are returned (transitions and counts cover every series). */
export const MAX_PREVIEW_SERIES = 50;
/** Evaluations whose queries run at once (each is read-only; the state machine then steps in time order). */
const PARALLEL = 8;
const DAY = 24 * 60 * 60_000;

const Time = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

export const PreviewRule = z
  .strictObject({
    projectId: z.uuid().optional(),
    rule: RuleSpec,
    /** The range's start; default 24 hours before `to`. */
    from: Time.optional(),
    /** The range's end; default now. */
    to: Time.optional(),
  })
  .refine((p) => p.from === undefined || p.to === undefined || p.from < p.to, { message: 'must be before to', path: ['from'] });
export type PreviewRule = z.output<typeof PreviewRule>;

export type PreviewState = InstanceState | 'inactive';

export interface PreviewSeries {
  labels: Labels;
  /** One per step: the evaluated value (null: no value for this group at that step). */
  values: Array<number | null>;
  /** One per step: the instance's state after that evaluation. */
  states: PreviewState[];
}

export interface PreviewTransition extends Omit<Transition, 'at' | 'from' | 'to'> {
  labels: Labels;
  from: PreviewState;
  to: PreviewState;
  at: string;
}

export interface RulePreview {
  from: string;
  to: string;
  interval: string;
  /** Evaluation times (ISO), in order. */
  steps: string[];
  series: PreviewSeries[];
  /** Series beyond MAX_PREVIEW_SERIES left out of `series` (those with transitions come first). */
  seriesOmitted: number;
  transitions: PreviewTransition[];
  summary: {
    evaluations: number;
    /** Distinct series (label sets) the rule evaluated. */
    series: number;
    /** Transitions into firing (from inactive, pending or resolved). */
    fired: number;
    resolved: number;
    /** What a route with no grouping would send: one per firing and one per resolve. */
    notifications: number;
    /** Instances left out by the rule's maxInstances (and groups its query capped), summed over steps. */
    overCap: number;
    /** Series firing or pending after the last step. */
    activeAtEnd: number;
  };
}

const groupKey = (group: Labels) => JSON.stringify(Object.entries(group).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export async function previewRule(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, input: PreviewRule): Promise<RulePreview> {
  const spec = input.rule;
  if (spec.kind === 'anomaly') {
    throw invalid('body.rule.kind', 'anomaly rules cannot be previewed: they fire on the episodes open at evaluation time, which the past does not keep');
  }
  const values = ruleValues(spec, 'body.rule');
  const now = deps.clock.now().getTime();
  const to = input.to ?? now;
  if (to > now) throw invalid('body.to', 'must not be in the future');
  const from = input.from ?? to - DAY;
  if (input.from !== undefined && input.to === undefined && from >= to) throw invalid('body.from', 'must be before to (now)');
  const interval = values.interval_seconds * 1000;
  // (from, to]: a day at 1m is 1440 evaluations, the last one at `to` when it is on the interval.
  const first = Math.floor(from / interval) * interval + interval;
  const count = first > to ? 0 : Math.floor((to - first) / interval) + 1;
  if (count > MAX_PREVIEW_STEPS) {
    throw invalid('body.from', `the range holds ${count} evaluations at the rule's interval (${formatDuration(interval)}); at most ${MAX_PREVIEW_STEPS}: shorten the range or lengthen the interval`);
  }
  if (count === 0) throw invalid('body.from', `the range holds no evaluation at the rule's interval (${formatDuration(interval)})`);

  const project = await withClaims(deps.db, actor, async (tx) => {
    const id = await resolveProject(tx, input.projectId, keyProjectId, 'body.projectId');
    const [p] = await tx.query<{ organization_id: string }>('select organization_id from public.projects where id = $1', [id]);
    return { id, organizationId: p!.organization_id };
  });
  // The rule as claimDueRules reads a stored one (its stored query, durations in milliseconds).
  const rule: EvalRule = {
    id: 'preview',
    projectId: project.id,
    organizationId: project.organizationId,
    key: spec.key,
    name: values.name,
    kind: values.kind,
    query: values.query,
    condition: values.condition,
    severity: values.severity,
    labels: values.labels,
    annotations: values.annotations,
    forMs: values.for_seconds * 1000,
    keepFiringForMs: values.keep_firing_for_seconds * 1000,
    intervalMs: interval,
    delayMs: values.delay_seconds * 1000,
    maxInstances: values.max_instances,
  };
  const steps = Array.from({ length: count }, (_, i) => first + i * interval);
  return simulate(rule, steps, await evaluateSteps(deps, rule, steps));
}

/** The evaluator's query at each step; read-only, so run PARALLEL at a time. */
async function evaluateSteps(deps: Pick<Deps, 'db'>, rule: EvalRule, steps: number[]) {
  const out: Array<{ samples: Sample[]; truncated: number }> = [];
  for (let i = 0; i < steps.length; i += PARALLEL) {
    out.push(...(await Promise.all(steps.slice(i, i + PARALLEL).map((at) => evaluateRule(deps, rule, at)))));
  }
  return out;
}

interface Track {
  group: Labels;
  labels: Labels;
  instance: Instance | null;
  values: Array<number | null>;
  states: PreviewState[];
  transitions: number;
}

/** The evaluate-alerts job's applyRule, step by step, without its writes (pure). */
export function simulate(rule: EvalRule, steps: number[], results: Array<{ samples: Sample[]; truncated: number }>): RulePreview {
  const rules: InstanceRules = { ...INSTANCE_RULES, forMs: rule.forMs, keepFiringForMs: rule.keepFiringForMs };
  const tracks = new Map<string, Track>();
  const transitions: PreviewTransition[] = [];
  let overCap = 0;
  steps.forEach((at, i) => {
    const { samples, truncated } = results[i]!;
    overCap += truncated;
    let active = [...tracks.values()].filter((t) => t.instance && t.instance.state !== 'resolved').length;
    const seen = new Set<string>();
    const step = (key: string, group: Labels, obs: Observation | null) => {
      let track = tracks.get(key);
      if (!track) {
        track = { group, labels: {}, instance: null, values: Array<number | null>(i).fill(null), states: Array<PreviewState>(i).fill('inactive'), transitions: 0 };
        tracks.set(key, track);
      }
      const prev = track.instance;
      const { next, transitions: ts } = advanceInstance(prev, obs, at, rules);
      const labels = { ...group, ...rule.labels, alertname: rule.name, severity: next?.severity ?? prev?.severity ?? rule.severity };
      track.labels = labels;
      for (const tr of ts) transitions.push({ ...tr, labels, at: new Date(tr.at).toISOString() });
      track.transitions += ts.length;
      track.instance = next;
      track.values.push(obs?.value ?? null);
      track.states.push(next?.state ?? 'inactive');
    };
    for (const s of samples) {
      const key = groupKey(s.group);
      seen.add(key);
      if (!tracks.get(key)?.instance && s.obs.severity !== null) {
        if (active >= rule.maxInstances) {
          overCap += 1;
          continue;
        }
        active += 1;
      }
      step(key, s.group, s.obs);
    }
    for (const [key, track] of tracks) {
      if (seen.has(key)) continue;
      if (track.instance) step(key, track.group, null);
      else {
        track.values.push(null);
        track.states.push('inactive');
      }
    }
  });
  // Series that changed first, then by labels: the ones a reader wants to see.
  const all = [...tracks.values()].sort((a, b) => b.transitions - a.transitions || groupKey(a.labels).localeCompare(groupKey(b.labels)));
  const fired = transitions.filter((t) => t.to === 'firing' && t.from !== 'firing').length;
  const resolved = transitions.filter((t) => t.to === 'resolved').length;
  return {
    from: new Date(steps[0]!).toISOString(),
    to: new Date(steps[steps.length - 1]!).toISOString(),
    interval: formatDuration(rule.intervalMs),
    steps: steps.map((t) => new Date(t).toISOString()),
    series: all.slice(0, MAX_PREVIEW_SERIES).map((t) => ({ labels: t.labels, values: t.values, states: t.states })),
    seriesOmitted: Math.max(0, all.length - MAX_PREVIEW_SERIES),
    transitions,
    summary: {
      evaluations: steps.length,
      series: all.length,
      fired,
      resolved,
      notifications: fired + resolved,
      overCap,
      activeAtEnd: all.filter((t) => t.instance && (t.instance.state === 'firing' || t.instance.state === 'pending')).length,
    },
  };
}
