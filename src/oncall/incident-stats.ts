import type { Deps } from '../core/deps.ts';
import { invalid } from '../http/validate.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import type { IncidentStatsQuery } from './schemas.ts';

const DAY = 86_400_000;

/**
 * MTTA and MTTR of a project's incidents opened in a range, per service and for the project: how
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
    const rows = await tx.query<{
      service_id: string | null;
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
    }>(
      `with i as (
         select service_id,
           extract(epoch from (select min(t.at) from public.incident_timeline t where t.incident_id = incidents.id and t.kind = 'acknowledged') - created_at) as tta,
           case when state = 'resolved' then extract(epoch from resolved_at - created_at) end as ttr
         from public.incidents
         where project_id = $1 and created_at >= to_timestamp($2::float8 / 1000.0) and created_at < to_timestamp($3::float8 / 1000.0)
           and merged_into is null and ($4::uuid is null or service_id = $4))
       select i.service_id, s.name, count(*)::int as opened, count(tta)::int as acknowledged, count(ttr)::int as resolved,
         avg(tta)::float8 as mtta, percentile_cont(0.5) within group (order by tta)::float8 as mtta_p50,
         percentile_cont(0.9) within group (order by tta)::float8 as mtta_p90,
         avg(ttr)::float8 as mttr, percentile_cont(0.5) within group (order by ttr)::float8 as mttr_p50,
         percentile_cont(0.9) within group (order by ttr)::float8 as mttr_p90
       from i left join public.oncall_services s on s.id = i.service_id
       group by grouping sets ((i.service_id, s.name), ())
       order by i.service_id nulls first`,
      [projectId, from, to, q.serviceId ?? null],
    );
    const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
    const view = (r: (typeof rows)[number]) => ({
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
    const total = rows.find((r) => r.service_id === null && r.name === null);
    return {
      projectId,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      total: total ? view(total) : view({ service_id: null, name: null, opened: 0, acknowledged: 0, resolved: 0, mtta: null, mtta_p50: null, mtta_p90: null, mttr: null, mttr_p50: null, mttr_p90: null }),
      services: rows.filter((r) => r.service_id !== null).map((r) => ({ serviceId: r.service_id, name: r.name, ...view(r) })),
    };
  });
}
