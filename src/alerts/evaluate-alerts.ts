import { z } from 'zod';
import type { Deps } from '../core/deps.ts';
import type { Job, JobContext, JobSummary } from '../core/job.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { evaluateRule, type QueryMemo, type RuleResult } from './evaluate-rule.ts';
import { ruleInstanceFingerprint } from './fingerprint.ts';
import { loadRuleInstances, loadRulesInstances, pruneResolved, resolveOrphans, saveInstances, type InstanceWrite, type StoredInstance, type TransitionWrite } from './instance-store.ts';
import { advanceInstance, DEFAULT_INSTANCE_RULES, type InstanceRules } from './instances.ts';
import type { Labels } from './model.ts';
import { claimDueRules, type EvalRule, recordEvaluation } from './rule-store.ts';
import { LabelSet } from './schemas.ts';
import { compileTemplate, renderTemplate, TemplateMap } from './templates.ts';

/**
 * The evaluate-alerts job (every minute; cron-evaluate-alerts on Supabase). Invariants:
 * 1. A rule is evaluated once per interval: claiming it moves next_eval_at on in the claiming
 *    statement, so two evaluators never take the same rule for the same interval.
 * 2. A rule's query runs outside any write transaction; its instances are then advanced by the pure
 *    state machine (instances.ts) and written with their transitions in one transaction holding the
 *    rule's instance rows: an instance and its history never disagree.
 * 3. A failing query leaves the rule's instances as they were (no false resolve because a database
 *    hiccup looked like "no data") and records the error as the rule's health.
 * 4. A rule holds at most maxInstances instances that are not resolved; groups beyond the cap get none
 *    and are counted (instances_over_cap), never silently dropped.
 * 5. Instances nothing evaluates any more (a deleted rule's, external alerts whose lease passed) are
 *    resolved here, and resolved instances are pruned after RESOLVED_RETENTION unless a notification
 *    group still owes their resolved notice.
 */
const RULES_PER_CLAIM = 50;

const RuleExtras = z.object({ labels: LabelSet, annotations: TemplateMap });

export const INSTANCE_RULES: InstanceRules = DEFAULT_INSTANCE_RULES;

export const evaluateAlerts: Job = {
  name: 'evaluate-alerts',
  intervalSeconds: 60,
  lockKey: 7_100_020,
  run: (deps, ctx) => runEvaluation(deps, ctx),
};

export async function runEvaluation(deps: Pick<Deps, 'db' | 'logger' | 'clock'>, { now, budgetMs }: JobContext): Promise<JobSummary> {
  const deadline = performance.now() + budgetMs;
  const summary = { rules: 0, failed: 0, transitions: 0, overCap: 0, orphansResolved: 0, pruned: 0 };
  const memo: QueryMemo = new Map();
  for (let first = true; first || performance.now() < deadline; first = false) {
    const t = deps.clock.now().getTime();
    const rules = await asServiceRole(deps.db, (tx) => claimDueRules(tx, t, RULES_PER_CLAIM));
    // Queries first, rule by rule (a failing one fails only its rule); then the batch's writes in
    // one transaction (bench:alerts: a transaction per rule was a third of a run in begin, commit
    // and the claims prelude).
    const prepared: Prepared[] = [];
    for (const rule of rules) {
      const started = performance.now();
      const at = deps.clock.now().getTime();
      try {
        prepared.push(await prepare(deps, rule, at, started, memo));
      } catch (err) {
        await recordFailure(deps, rule, at, started, err);
        summary.failed += 1;
      }
    }
    summary.rules += rules.length;
    for (const outcome of await applyBatch(deps, prepared)) {
      if (outcome.error) summary.failed += 1;
      summary.transitions += outcome.transitions;
      summary.overCap += outcome.overCap;
    }
    if (rules.length < RULES_PER_CLAIM) break;
  }
  const t = deps.clock.now().getTime();
  await asServiceRole(deps.db, async (tx) => {
    summary.orphansResolved = await resolveOrphans(tx, t);
    summary.pruned = await pruneResolved(tx, t, INSTANCE_RULES.resolvedRetentionMs);
  });
  void now;
  return summary;
}

/** A rule evaluated and ready to be stored: its samples with their fingerprints, its compiled templates. */
interface Prepared {
  rule: EvalRule;
  at: number;
  started: number;
  result: RuleResult;
  samples: Array<RuleResult['samples'][number] & { fingerprint: string }>;
  templates: Array<readonly [string, ReturnType<typeof compileTemplate>]>;
}

type Outcome = { error: string | null; transitions: number; overCap: number };

/**
 * A rule's failure (its query, a template or label that a direct write put in its row and the API
 * would have refused, its write) is recorded as that rule's health; the run goes on with the next
 * rule: no rule, and no tenant, can stop the others' evaluation.
 */
async function recordFailure(deps: Pick<Deps, 'db' | 'logger'>, rule: EvalRule, at: number, started: number, err: unknown): Promise<Outcome> {
  const error = err instanceof Error ? err.message : String(err);
  deps.logger.warn({ err, rule: rule.id }, 'alert rule evaluation failed');
  await asServiceRole(deps.db, (tx) => recordEvaluation(tx, rule.id, { at, ms: performance.now() - started, error, overCap: 0 })).catch(
    (err2: unknown) => deps.logger.error({ err: err2, rule: rule.id }, 'could not record a failed alert rule evaluation'),
  );
  return { error, transitions: 0, overCap: 0 };
}

async function prepare(deps: Pick<Deps, 'db'>, rule: EvalRule, at: number, started: number, memo: QueryMemo): Promise<Prepared> {
  // The row's labels and annotations are checked again here: the API validates them, but a user may
  // also write the row directly (its columns are granted), and nothing unchecked reaches a template.
  const checked = RuleExtras.safeParse({ labels: rule.labels, annotations: rule.annotations });
  if (!checked.success) throw new Error(`the rule's ${checked.error.issues[0]?.path.join('.') ?? 'labels'} ${checked.error.issues[0]?.message ?? 'are invalid'}`);
  const result = await evaluateRule(deps, rule, at, memo);
  const templates = Object.entries(rule.annotations).map(([name, text]) => [name, compileTemplate(text)] as const);
  const samples = await Promise.all(result.samples.map(async (s) => ({ ...s, fingerprint: await ruleInstanceFingerprint(rule.id, s.group) })));
  return { rule, at, started, result, samples, templates };
}

/** The batch's writes in one transaction; if that fails, each rule alone, so only the failing one fails. */
async function applyBatch(deps: Pick<Deps, 'db' | 'logger'>, prepared: Prepared[]): Promise<Outcome[]> {
  if (prepared.length === 0) return [];
  try {
    return await asServiceRole(deps.db, async (tx) => {
      const instances = await loadRulesInstances(tx, prepared.map((p) => p.rule.id));
      const out: Outcome[] = [];
      for (const p of prepared) out.push(await applyRule(tx, p, instances.get(p.rule.id) ?? []));
      return out;
    });
  } catch (err) {
    deps.logger.warn({ err }, 'an alert rule batch could not be written; writing its rules one by one');
    const out: Outcome[] = [];
    for (const p of prepared) {
      try {
        out.push(await asServiceRole(deps.db, async (tx) => applyRule(tx, p, await loadRuleInstances(tx, p.rule.id))));
      } catch (err2) {
        out.push(await recordFailure(deps, p.rule, p.at, p.started, err2));
      }
    }
    return out;
  }
}

/** Advances a rule's instances by its samples (the state machine) and writes them with its history and health. */
async function applyRule(tx: Queryable, p: Prepared, stored: StoredInstance[]): Promise<Outcome> {
  const { rule, at, result, samples, templates } = p;
  const rules: InstanceRules = { ...INSTANCE_RULES, forMs: rule.forMs, keepFiringForMs: rule.keepFiringForMs };
  const previous = new Map(stored.map((i) => [i.fingerprint, i]));
  const writes: InstanceWrite[] = [];
  const deletes: string[] = [];
  const transitions: TransitionWrite[] = [];
  let active = stored.filter((i) => i.state !== 'resolved').length;
  let overCap = result.truncated;
  const seen = new Set<string>();
  const step = (fp: string, group: Labels, obs: Parameters<typeof advanceInstance>[1]) => {
    const prev = previous.get(fp) ?? null;
    const { next, transitions: ts } = advanceInstance(prev, obs, at, rules);
    const labels = { ...group, ...rule.labels, alertname: rule.name, severity: next?.severity ?? prev?.severity ?? rule.severity };
    for (const tr of ts) transitions.push({ ...tr, fingerprint: fp, labels });
    if (!next) {
      // A resolved instance past its retention is left to pruneResolved, which keeps it while a
      // notification group still owes its resolved notice (a long group_interval, a mute).
      if (prev && prev.state !== 'resolved') deletes.push(fp);
      return;
    }
    if (prev && next === prev) return; // ignored step (time went backwards)
    const vars = { labels, value: next.value, severity: next.severity, rule: rule.name };
    const annotations = Object.fromEntries(templates.map(([name, t]) => [name, renderTemplate(t, vars)]));
    writes.push({ ...next, fingerprint: fp, labels, annotations, threshold: obs?.threshold ?? prev?.threshold ?? null, reason: obs?.reason ?? 'no data for this group' });
  };
  for (const s of samples) {
    seen.add(s.fingerprint);
    const prev = previous.get(s.fingerprint);
    if (!prev && s.obs.severity !== null) {
      if (active >= rule.maxInstances) {
        overCap += 1;
        continue;
      }
      active += 1;
    }
    step(s.fingerprint, s.group, s.obs);
  }
  for (const [fp, prev] of previous) {
    if (seen.has(fp)) continue;
    const group = Object.fromEntries(Object.entries(prev.labels).filter(([k]) => k !== 'alertname' && k !== 'severity' && !(k in rule.labels)));
    step(fp, group, null);
  }
  await saveInstances(tx, { projectId: rule.projectId, organizationId: rule.organizationId, ruleId: rule.id, source: 'rule' }, writes, deletes, transitions);
  await recordEvaluation(tx, rule.id, { at, ms: performance.now() - p.started, error: null, overCap });
  return { error: null, transitions: transitions.length, overCap };
}
