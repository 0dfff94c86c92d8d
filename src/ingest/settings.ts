import type { Clock } from '../core/clock.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Db } from '../db/types.ts';

export interface IngestSettings {
  maxSeries: number;
  requestsPerMinute: number;
  eventsPerMinute: number;
}

export const DEFAULT_INGEST_SETTINGS: IngestSettings = { maxSeries: 10_000, requestsPerMinute: 6_000, eventsPerMinute: 6_000_000 };

/** Per-project limits, read at most once a minute per process (a changed limit applies within a minute). */
export function createSettingsCache(db: Db, clock: Clock, ttlMs = 60_000) {
  const cache = new Map<string, { at: number; value: IngestSettings }>();
  return async (projectId: string): Promise<IngestSettings> => {
    const now = clock.now().getTime();
    const hit = cache.get(projectId);
    if (hit && now - hit.at < ttlMs) return hit.value;
    const [row] = await asServiceRole(db, (tx) =>
      tx.query<{ max_series: number; requests_per_minute: number; events_per_minute: number }>(
        'select max_series, requests_per_minute, events_per_minute from public.project_ingest_settings where project_id = $1',
        [projectId],
      ),
    );
    const value = row
      ? { maxSeries: row.max_series, requestsPerMinute: row.requests_per_minute, eventsPerMinute: row.events_per_minute }
      : DEFAULT_INGEST_SETTINGS;
    if (cache.size > 10_000) cache.clear();
    cache.set(projectId, { at: now, value });
    return value;
  };
}
