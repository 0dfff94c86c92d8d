import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { METRIC_RETENTION_DAYS, type RollupResolution } from './metric-retention.ts';
import type { Aggregation } from './schemas.ts';

interface DefinitionRow {
  organization_id: string;
  name: string;
  type: string;
  unit: string | null;
  description: string | null;
  default_aggregation: Aggregation;
  auto_registered: boolean;
  retention_days: Partial<Record<RollupResolution, number>>;
  updated_at: Date;
}
const COLUMNS = 'organization_id, name, type, unit, description, default_aggregation, auto_registered, retention_days, updated_at';
const RESOLUTIONS: RollupResolution[] = ['1m', '5m', '1h', '1d'];
const view = (r: DefinitionRow) => ({
  organizationId: r.organization_id,
  name: r.name,
  type: r.type,
  unit: r.unit,
  description: r.description,
  defaultAggregation: r.default_aggregation,
  autoRegistered: r.auto_registered,
  /** Days each rollup resolution is kept: the metric's own setting, else the default. */
  retention: Object.fromEntries(RESOLUTIONS.map((res) => [res, r.retention_days?.[res] ?? METRIC_RETENTION_DAYS[res]])) as Record<RollupResolution, number>,
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** An organization's metric definitions (members read; RLS hides other organizations: empty). */
export async function listMetricDefinitions(deps: Pick<Deps, 'db'>, actor: Claims, organizationId: string, prefix?: string) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const [org] = await tx.query('select 1 from public.organizations where id = $1', [organizationId]);
    if (!org) throw notFound('Organization');
    return tx.query<DefinitionRow>(
      `select ${COLUMNS} from public.metric_definitions where organization_id = $1 and ($2::text is null or starts_with(name, $2)) order by name limit 1000`,
      [organizationId, prefix ?? null],
    );
  });
  return rows.map(view);
}

/** Creates or edits a definition (owners and admins); an edited definition is no longer "auto registered". */
export async function putMetricDefinition(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  input: {
    organizationId: string;
    name: string;
    type?: string;
    unit?: string | null;
    description?: string | null;
    defaultAggregation?: Aggregation;
    retention?: Partial<Record<RollupResolution, number>> | null;
  },
) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    const [org] = await tx.query('select 1 from public.organizations where id = $1', [input.organizationId]);
    if (!org) throw notFound('Organization');
    const [saved] = await tx.query<DefinitionRow>(
      `insert into public.metric_definitions (organization_id, name, type, unit, description, default_aggregation, auto_registered, retention_days)
       values ($1, $2, coalesce($3, 'gauge'), $4, $5, coalesce($6, 'avg'), false, coalesce($9::text::jsonb, '{}'))
       on conflict (organization_id, name) do update set
         type = coalesce($3, public.metric_definitions.type),
         unit = case when $7 then $4 else public.metric_definitions.unit end,
         description = case when $8 then $5 else public.metric_definitions.description end,
         default_aggregation = coalesce($6, public.metric_definitions.default_aggregation),
         -- Given resolutions replace their setting; null resets every resolution to the default.
         retention_days = case when $10 then '{}'::jsonb else public.metric_definitions.retention_days || coalesce($9::text::jsonb, '{}') end,
         auto_registered = false
       returning ${COLUMNS}`,
      [
        input.organizationId,
        input.name,
        input.type ?? null,
        input.unit ?? null,
        input.description ?? null,
        input.defaultAggregation ?? null,
        input.unit !== undefined,
        input.description !== undefined,
        input.retention ? JSON.stringify(input.retention) : null,
        input.retention === null,
      ],
    );
    if (!saved) throw forbidden('Only owners and admins can define metrics');
    return saved;
  });
  return view(row);
}
