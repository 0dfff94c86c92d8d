import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Aggregation } from './schemas.ts';

interface DefinitionRow {
  organization_id: string;
  name: string;
  type: string;
  unit: string | null;
  description: string | null;
  default_aggregation: Aggregation;
  auto_registered: boolean;
  updated_at: Date;
}
const COLUMNS = 'organization_id, name, type, unit, description, default_aggregation, auto_registered, updated_at';
const view = (r: DefinitionRow) => ({
  organizationId: r.organization_id,
  name: r.name,
  type: r.type,
  unit: r.unit,
  description: r.description,
  defaultAggregation: r.default_aggregation,
  autoRegistered: r.auto_registered,
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
  input: { organizationId: string; name: string; type?: string; unit?: string | null; description?: string | null; defaultAggregation?: Aggregation },
) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    const [org] = await tx.query('select 1 from public.organizations where id = $1', [input.organizationId]);
    if (!org) throw notFound('Organization');
    const [saved] = await tx.query<DefinitionRow>(
      `insert into public.metric_definitions (organization_id, name, type, unit, description, default_aggregation, auto_registered)
       values ($1, $2, coalesce($3, 'gauge'), $4, $5, coalesce($6, 'avg'), false)
       on conflict (organization_id, name) do update set
         type = coalesce($3, public.metric_definitions.type),
         unit = case when $7 then $4 else public.metric_definitions.unit end,
         description = case when $8 then $5 else public.metric_definitions.description end,
         default_aggregation = coalesce($6, public.metric_definitions.default_aggregation),
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
      ],
    );
    if (!saved) throw forbidden('Only owners and admins can define metrics');
    return saved;
  });
  return view(row);
}
