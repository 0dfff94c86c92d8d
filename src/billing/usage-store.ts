import type { Queryable } from '../db/types.ts';
import type { UsageSignal } from './quota.ts';

export interface UsageRow {
  key: string | null;
  signal: UsageSignal;
  events: number;
  bytes: number;
  requests: number;
}

const GROUP_COLUMNS = { project: 'project_id::text', apiKey: 'api_key_id::text', day: "to_char(day, 'YYYY-MM-DD')", signal: 'null::text' } as const;

/** Metered usage of the organization in [from, to] (days, inclusive) grouped by `groupBy` and signal, as the caller's RLS allows. */
export async function usageRows(tx: Queryable, orgId: string, from: string, to: string, groupBy: keyof typeof GROUP_COLUMNS, signal: UsageSignal | null): Promise<UsageRow[]> {
  const rows = await tx.query<{ key: string | null; signal: UsageSignal; events: number; bytes: number; requests: number }>(
    `select ${GROUP_COLUMNS[groupBy]} as key, signal, sum(events)::float8 as events, sum(bytes)::float8 as bytes, sum(requests)::float8 as requests
     from public.usage_daily
     where organization_id = $1 and day between $2::date and $3::date and ($4::text is null or signal = $4)
     group by 1, signal order by 1 nulls first, signal`,
    [orgId, from, to, signal],
  );
  return rows;
}

/** The peak of active series per project over the days [from, to]. */
export async function peakSeries(tx: Queryable, orgId: string, from: string, to: string): Promise<Array<{ projectId: string; activeSeries: number }>> {
  const rows = await tx.query<{ project_id: string; peak: number }>(
    `select project_id, max(active_series)::int as peak from public.usage_series_daily
     where organization_id = $1 and day between $2::date and $3::date group by project_id order by project_id`,
    [orgId, from, to],
  );
  return rows.map((r) => ({ projectId: r.project_id, activeSeries: r.peak }));
}
