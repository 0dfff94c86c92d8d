import { toMs as ms } from '../core/time.ts';
import type { Queryable } from '../db/types.ts';
import type { Instance, Transition } from './instances.ts';
import type { Labels, Severity } from './model.ts';

/**
 * The SQL of alert instances and their history (alert_instances, alert_transitions). The state
 * machine (instances.ts) decides; this file loads and stores what it decided, in bulk: a rule's
 * instances are read and written with one statement each, whatever their number.
 */

export interface StoredInstance extends Instance {
  id: string;
  fingerprint: string;
  ruleId: string | null;
  source: 'rule' | 'external';
  labels: Labels;
  annotations: Labels;
  threshold: number | null;
  reason: string | null;
  endsAt: number | null;
  generatorUrl: string | null;
}

export interface InstanceWrite extends Instance {
  fingerprint: string;
  labels: Labels;
  annotations: Labels;
  threshold: number | null;
  reason: string | null;
  endsAt?: number | null;
  generatorUrl?: string | null;
}

export interface TransitionWrite extends Transition {
  fingerprint: string;
  labels: Labels;
}

/** An alert_instances row as INSTANCE_COLUMNS reads it. */
export interface InstanceRow {
  id: string;
  fingerprint: string;
  rule_id: string | null;
  source: 'rule' | 'external';
  labels: Labels;
  annotations: Labels;
  state: Instance['state'];
  severity: Severity;
  value: number | null;
  threshold: number | null;
  reason: string | null;
  active_at: Date;
  fired_at: Date | null;
  resolved_at: Date | null;
  last_true_at: Date | null;
  last_eval_at: Date;
  ends_at: Date | null;
  generator_url: string | null;
  flapping: boolean;
  changes_at: Date[];
}


export const INSTANCE_COLUMNS = `id, fingerprint, rule_id, source, labels, annotations, state, severity, value, threshold, reason,
  active_at, fired_at, resolved_at, last_true_at, last_eval_at, ends_at, generator_url, flapping, changes_at`;

export function fromRow(r: InstanceRow): StoredInstance {
  return {
    id: r.id,
    fingerprint: r.fingerprint,
    ruleId: r.rule_id,
    source: r.source,
    labels: r.labels,
    annotations: r.annotations,
    state: r.state,
    severity: r.severity,
    value: r.value === null ? null : Number(r.value),
    threshold: r.threshold === null ? null : Number(r.threshold),
    reason: r.reason,
    activeAt: ms(r.active_at)!,
    firedAt: ms(r.fired_at),
    resolvedAt: ms(r.resolved_at),
    lastTrueAt: ms(r.last_true_at),
    lastEvalAt: ms(r.last_eval_at)!,
    endsAt: ms(r.ends_at),
    generatorUrl: r.generator_url,
    flapping: r.flapping,
    changesAt: (r.changes_at ?? []).map((d) => new Date(d).getTime()),
  };
}

/** A rule's instances, locked until the transaction ends (two evaluators never interleave on one rule). */
export async function loadRuleInstances(tx: Queryable, ruleId: string): Promise<StoredInstance[]> {
  const rows = await tx.query<InstanceRow>(`select ${INSTANCE_COLUMNS} from public.alert_instances where rule_id = $1 for update`, [ruleId]);
  return rows.map(fromRow);
}

/** The instances of several rules, by rule id, locked until the transaction ends. */
export async function loadRulesInstances(tx: Queryable, ruleIds: string[]): Promise<Map<string, StoredInstance[]>> {
  const out = new Map<string, StoredInstance[]>();
  if (ruleIds.length === 0) return out;
  const rows = await tx.query<InstanceRow>(`select ${INSTANCE_COLUMNS} from public.alert_instances where rule_id = any($1::uuid[]) for update`, [ruleIds]);
  for (const r of rows) {
    const i = fromRow(r);
    const list = out.get(i.ruleId!);
    if (list) list.push(i);
    else out.set(i.ruleId!, [i]);
  }
  return out;
}

/** External alerts of a project by fingerprint, locked. */
export async function loadExternalInstances(tx: Queryable, projectId: string, fingerprints: string[]): Promise<StoredInstance[]> {
  if (fingerprints.length === 0) return [];
  const rows = await tx.query<InstanceRow>(
    `select ${INSTANCE_COLUMNS} from public.alert_instances where project_id = $1 and fingerprint = any($2::text[]) for update`,
    [projectId, fingerprints],
  );
  return rows.map(fromRow);
}

const tsFrom = (col: string) => `case when x.${col} is null then null else to_timestamp(x.${col} / 1000.0) end`;

/**
 * Writes the instances the state machine returned (insert or update by fingerprint), deletes the ones
 * it dropped, and appends the transitions: the caller's transaction makes the three one change.
 */
export async function saveInstances(
  tx: Queryable,
  owner: { projectId: string; organizationId: string; ruleId: string | null; source: 'rule' | 'external' },
  writes: InstanceWrite[],
  deletes: string[],
  transitions: TransitionWrite[],
): Promise<void> {
  if (writes.length > 0) {
    const rows = writes.map((w) => ({
      fingerprint: w.fingerprint,
      labels: w.labels,
      annotations: w.annotations,
      state: w.state,
      severity: w.severity,
      value: finiteOrNull(w.value),
      threshold: finiteOrNull(w.threshold),
      reason: w.reason,
      active_at: w.activeAt,
      fired_at: w.firedAt,
      resolved_at: w.resolvedAt,
      last_true_at: w.lastTrueAt,
      last_eval_at: w.lastEvalAt,
      ends_at: w.endsAt ?? null,
      generator_url: w.generatorUrl ?? null,
      flapping: w.flapping,
      changes_at: w.changesAt,
    }));
    await tx.query(
      `insert into public.alert_instances (project_id, organization_id, rule_id, source, fingerprint, labels, annotations, state,
         severity, value, threshold, reason, active_at, fired_at, resolved_at, last_true_at, last_eval_at, ends_at, generator_url,
         flapping, changes_at)
       select $1, $2, $3, $4, x.fingerprint, x.labels, x.annotations, x.state, x.severity, x.value, x.threshold, x.reason,
         ${tsFrom('active_at')}, ${tsFrom('fired_at')}, ${tsFrom('resolved_at')}, ${tsFrom('last_true_at')}, ${tsFrom('last_eval_at')},
         ${tsFrom('ends_at')}, x.generator_url, x.flapping,
         array(select to_timestamp(v::float8 / 1000.0) from jsonb_array_elements_text(x.changes_at) v)
       from jsonb_to_recordset($5::text::jsonb) as x(fingerprint text, labels jsonb, annotations jsonb, state text, severity text,
         value float8, threshold float8, reason text, active_at float8, fired_at float8, resolved_at float8, last_true_at float8,
         last_eval_at float8, ends_at float8, generator_url text, flapping boolean, changes_at jsonb)
       on conflict (project_id, fingerprint) do update set
         rule_id = excluded.rule_id, labels = excluded.labels, annotations = excluded.annotations, state = excluded.state,
         severity = excluded.severity, value = excluded.value, threshold = excluded.threshold, reason = excluded.reason,
         active_at = excluded.active_at, fired_at = excluded.fired_at, resolved_at = excluded.resolved_at,
         last_true_at = excluded.last_true_at, last_eval_at = excluded.last_eval_at, ends_at = excluded.ends_at,
         generator_url = excluded.generator_url, flapping = excluded.flapping, changes_at = excluded.changes_at`,
      [owner.projectId, owner.organizationId, owner.ruleId, owner.source, JSON.stringify(rows)],
    );
  }
  if (deletes.length > 0) {
    await tx.query(`delete from public.alert_instances where project_id = $1 and fingerprint = any($2::text[])`, [owner.projectId, deletes]);
  }
  if (transitions.length > 0) {
    const rows = transitions.map((t) => ({
      fingerprint: t.fingerprint,
      labels: t.labels,
      from_state: t.from,
      to_state: t.to,
      severity: t.severity,
      value: finiteOrNull(t.value),
      threshold: finiteOrNull(t.threshold),
      reason: t.reason,
      at: t.at,
    }));
    await tx.query(
      `insert into public.alert_transitions (project_id, organization_id, rule_id, fingerprint, labels, from_state, to_state, severity,
         value, threshold, reason, at)
       select $1, $2, $3, x.fingerprint, x.labels, x.from_state, x.to_state, x.severity, x.value, x.threshold, x.reason,
         to_timestamp(x.at / 1000.0)
       from jsonb_to_recordset($4::text::jsonb) as x(fingerprint text, labels jsonb, from_state text, to_state text, severity text,
         value float8, threshold float8, reason text, at float8)`,
      [owner.projectId, owner.organizationId, owner.ruleId, JSON.stringify(rows)],
    );
  }
}

/** JSON has no NaN or Infinity: such values are stored as null (no value). */
const finiteOrNull = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);

/**
 * Instances that no evaluation will advance any more: a deleted or disabled rule's, and external
 * alerts whose lease (ends_at) passed. Both resolve now, with a transition each; the next dispatcher
 * tick tells whoever was told they fired.
 */
export async function resolveOrphans(tx: Queryable, now: number): Promise<number> {
  const rows = await tx.query<{ n: string | number }>(
    `with orphan as (
       select i.id, i.state as old_state,
         case when i.source = 'external' then 'the sender stopped renewing it (endsAt passed)'
              when i.rule_id is null then 'its rule was deleted' else 'its rule was disabled' end as why
       from public.alert_instances i left join public.alert_rules r on r.id = i.rule_id
       where i.state in ('pending', 'firing')
         and ((i.source = 'rule' and (i.rule_id is null or not r.enabled))
              or (i.source = 'external' and i.ends_at <= to_timestamp($1::float8 / 1000.0)))
       for update of i
     ), fired as (
       -- A firing orphan resolves (at its lease's end for an external alert) ...
       update public.alert_instances i
       set state = 'resolved', last_eval_at = to_timestamp($1::float8 / 1000.0),
           resolved_at = case when i.source = 'external' then least(i.ends_at, to_timestamp($1::float8 / 1000.0)) else to_timestamp($1::float8 / 1000.0) end,
           reason = o.why
       from orphan o where i.id = o.id and o.old_state = 'firing'
       returning i.project_id, i.organization_id, i.rule_id, i.fingerprint, i.labels, i.severity, i.value, i.threshold, i.reason,
         i.resolved_at as at, 'firing'::text as from_state, 'resolved'::text as to_state
     ), pending as (
       -- ... and a pending one is gone: it never fired, so no one was told of it.
       delete from public.alert_instances i using orphan o where i.id = o.id and o.old_state = 'pending'
       returning i.project_id, i.organization_id, i.rule_id, i.fingerprint, i.labels, i.severity, i.value, i.threshold,
         o.why as reason, to_timestamp($1::float8 / 1000.0) as at, 'pending'::text as from_state, 'inactive'::text as to_state
     ), history as (
       insert into public.alert_transitions (project_id, organization_id, rule_id, fingerprint, labels, from_state, to_state, severity,
         value, threshold, reason, at)
       select project_id, organization_id, rule_id, fingerprint, labels, from_state, to_state, severity, value, threshold, reason, at
       from (select * from fired union all select * from pending) t
       returning 1
     )
     select count(*) as n from history`,
    [now],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Drops resolved instances older than the retention, except those a notification group still owes a
 * resolved notice: the dispatcher must be able to describe them.
 */
export async function pruneResolved(tx: Queryable, now: number, retentionMs: number): Promise<number> {
  const rows = await tx.query<{ id: string }>(
    `delete from public.alert_instances i
     where i.state = 'resolved' and i.resolved_at <= to_timestamp(($1::float8 - $2::float8) / 1000.0)
       and not exists (select 1 from public.alert_groups g where g.project_id = i.project_id and i.fingerprint = any(g.notified_firing))
     returning i.id`,
    [now, retentionMs],
  );
  return rows.length;
}
