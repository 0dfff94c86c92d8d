import { toIso as iso } from '../core/time.ts';
import type { Deps } from '../core/deps.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { resolveOptionalProject } from '../orgs/lookup.ts';
import { type Matcher, MatcherError, matchesAll, parseMatchers } from './matchers.ts';
import type { InstanceRow as StoredRow } from './instance-store.ts';
import { microsParam } from '../http/page-cursor.ts';
import type { InstancesQuery } from './schemas.ts';

interface InstanceRow extends Omit<StoredRow, 'last_true_at' | 'changes_at'> {
  project_id: string;
  us: string;
}


const toInstanceView = (r: InstanceRow) => ({
  fingerprint: r.fingerprint,
  projectId: r.project_id,
  ruleId: r.rule_id,
  source: r.source,
  labels: r.labels,
  annotations: r.annotations,
  state: r.state,
  severity: r.severity,
  value: r.value,
  threshold: r.threshold,
  reason: r.reason,
  activeAt: iso(r.active_at),
  firedAt: iso(r.fired_at),
  resolvedAt: iso(r.resolved_at),
  lastEvalAt: iso(r.last_eval_at),
  endsAt: iso(r.ends_at),
  flapping: r.flapping,
  generatorUrl: r.generator_url,
});

/** Rows read per query while regex matchers filter (they run here, as Alertmanager's RE2 semantics do; not in SQL). */
const SCAN_BATCH = 1000;

function matchersOf(filter: string | undefined): Matcher[] {
  try {
    return filter === undefined ? [] : parseMatchers(filter);
  } catch (err) {
    if (err instanceof MatcherError) throw invalid('query.filter', err.message);
    throw err;
  }
}

/**
 * Current alerts (pending, firing, recently resolved), newest first, filtered by Alertmanager matcher
 * text. Equality matchers narrow the query in SQL (a missing label is "", as Alertmanager reads it);
 * every matcher is then checked here, reading further batches until the page is full.
 */
export async function listInstances(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: InstancesQuery) {
  const matchers = matchersOf(q.filter);
  const hasRegex = matchers.some((m) => m.op === '=~' || m.op === '!~');
  const out: InstanceRow[] = [];
  await withClaims(
    deps.db,
    actor,
    async (tx) => {
      const projectId = await resolveOptionalProject(tx, q.projectId, keyProjectId);
      const params: unknown[] = [projectId, q.state ?? null, q.ruleId ?? null];
      const where = ['($1::uuid is null or project_id = $1)', '($2::text is null or state = $2)', '($3::uuid is null or rule_id = $3)'];
      for (const m of matchers.filter((x) => x.op === '=' || x.op === '!=')) {
        params.push(m.name, m.value);
        where.push(`coalesce(labels ->> $${params.length - 1}, '') ${m.op === '=' ? '=' : '<>'} $${params.length}`);
      }
      const batch = hasRegex ? SCAN_BATCH : q.limit;
      let after: { us: string; id: string } | undefined;
      for (;;) {
        const p = [...params, batch];
        const keyset = after ? `and (active_at, id) < (${microsParam(`$${p.push(after.us)}`)}, $${p.push(after.id)}::uuid)` : '';
        const rows = await tx.query<InstanceRow>(
          `select id, project_id, fingerprint, rule_id, source, labels, annotations, state, severity, value, threshold, reason, active_at,
             fired_at, resolved_at, last_eval_at, ends_at, flapping, generator_url, (extract(epoch from active_at) * 1000000)::int8::text as us
           from public.alert_instances where ${where.join(' and ')} ${keyset}
           order by active_at desc, id desc limit $${params.length + 1}`,
          p,
        );
        for (const r of rows) if (out.length < q.limit && matchesAll(matchers, r.labels)) out.push(r);
        const last = rows[rows.length - 1];
        if (out.length >= q.limit || rows.length < batch || !last) return;
        after = { us: last.us, id: last.id };
      }
    },
    INTERACTIVE_READ,
  );
  return out.map(toInstanceView);
}
