import type { Deps } from '../core/deps.ts';
import { invalid } from '../http/validate.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import type { IncidentStatsQuery } from './schemas.ts';

const DAY = 86_400_000;

/**
 * MTTA and MTTR of a project's incidents opened in a range, per service, per escalation policy
 * (the team that answers: policies are how a team's rota is written here), per responder (who
 * acknowledged first) and for the project: how
 * many opened, were acknowledged and resolved, and the mean, median and 90th percentile of the time
 * to acknowledge (opened -> the first acknowledgement in its timeline, which a later unacknowledge or
 * ack timeout does not undo; incidents resolved without one do not count) and
 * to resolve (opened -> resolved), in seconds. Incidents merged into another are left out (they
 * were never separately worked on); still-open ones count as opened only. RLS decides what the
 * caller reads (a project they cannot see is a 404).
 */
export async function incidentStats(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, q: IncidentStatsQuery) {
  const to = q.to ? Date.parse(q.to) : deps.clock.now().getTime();
  const from = q.from ? Date.parse(q.from) : to - 30 * DAY;
  if (to - from > 366 * DAY) throw invalid('query.from', 'the range is at most 366 days');
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    type Row = {
      dim: 'service' | 'policy' | 'responder' | 'total';
      key: string | null;
      name: string | null;
      opened: number;
      acknowledged: number;
      resolved: number;
      mtta: number | null;
      mtta_p50: number | null;
      mtta_p90: number | null;
      mttr: number | null;
      mttr_p50: number | null;
      mttr_p90: number | null;
    };
    // One scan, four groupings: per service, per escalation policy (the team that answers it), per
    // responder (who acknowledged first) and the project's total.
    const rows = await tx.query<Row>(
      `with i as (
         select service_id, escalation_policy_id, ack.actor as responder,
           extract(epoch from ack.at - created_at) as tta,
           case when state = 'resolved' then extract(epoch from resolved_at - created_at) end as ttr
         from public.incidents
         left join lateral (
           select t.at, t.actor from public.incident_timeline t
           where t.incident_id = incidents.id and t.kind = 'acknowledged' order by t.at, t.id limit 1) ack on true
         where project_id = $1 and created_at >= to_timestamp($2::float8 / 1000.0) and created_at < to_timestamp($3::float8 / 1000.0)
           and merged_into is null and ($4::uuid is null or service_id = $4)),
       g as (
         select case when grouping(service_id) = 0 then 'service' when grouping(escalation_policy_id) = 0 then 'policy'
                     when grouping(responder) = 0 then 'responder' else 'total' end as dim,
           coalesce(service_id::text, escalation_policy_id::text, responder) as key,
           count(*)::int as opened, count(tta)::int as acknowledged, count(ttr)::int as resolved,
           avg(tta)::float8 as mtta, percentile_cont(0.5) within group (order by tta)::float8 as mtta_p50,
           percentile_cont(0.9) within group (order by tta)::float8 as mtta_p90,
           avg(ttr)::float8 as mttr, percentile_cont(0.5) within group (order by ttr)::float8 as mttr_p50,
           percentile_cont(0.9) within group (order by ttr)::float8 as mttr_p90
         from i
         group by grouping sets ((service_id), (escalation_policy_id), (responder), ()))
       select g.*, coalesce(s.name, p.name) as name
       from g
       left join public.oncall_services s on g.dim = 'service' and s.id::text = g.key
       left join public.escalation_policies p on g.dim = 'policy' and p.id::text = g.key
       where g.key is not null or g.dim = 'total'
       order by g.dim, g.key`,
      [projectId, from, to, q.serviceId ?? null],
    );
    const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
    const view = (r: Row) => ({
      opened: r.opened,
      acknowledged: r.acknowledged,
      resolved: r.resolved,
      mttaSeconds: round(r.mtta),
      mttaP50Seconds: round(r.mtta_p50),
      mttaP90Seconds: round(r.mtta_p90),
      mttrSeconds: round(r.mttr),
      mttrP50Seconds: round(r.mttr_p50),
      mttrP90Seconds: round(r.mttr_p90),
    });
    const of = (dim: Row['dim']) => rows.filter((r) => r.dim === dim);
    const total = of('total')[0];
    return {
      projectId,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      total: total ? view(total) : view({ dim: 'total', key: null, name: null, opened: 0, acknowledged: 0, resolved: 0, mtta: null, mtta_p50: null, mtta_p90: null, mttr: null, mttr_p50: null, mttr_p90: null }),
      services: of('service').map((r) => ({ serviceId: r.key, name: r.name, ...view(r) })),
      // Incidents opened without a policy are in no team's figures (the service's and the total only).
      policies: of('policy').map((r) => ({ escalationPolicyId: r.key, name: r.name, ...view(r) })),
      // Who acknowledged first: a user id, or `service:<id>` when an inbound event (PagerDuty, Slack) did.
      responders: of('responder').map((r) => ({ acknowledgedBy: r.key, ...view(r) })),
    };
  });
}
