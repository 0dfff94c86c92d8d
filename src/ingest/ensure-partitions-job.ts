import type { Job } from '../core/job.ts';
import { ensurePartitions } from '../db/partitions.ts';

const DAY = 86_400_000;

/**
 * Keeps daily partitions of the raw telemetry tables ready: from the oldest accepted timestamp
 * (7 days back, plus one) to three days ahead, so ingest never waits on DDL. The write path still
 * creates a missing day on demand if this job has not run.
 */
export const ensurePartitionsJob: Job = {
  name: 'ensure-partitions',
  intervalSeconds: 3600,
  lockKey: 7_100_004,
  async run(deps, { now }) {
    const created = await ensurePartitions(deps.db, now.getTime() - 8 * DAY, now.getTime() + 3 * DAY);
    return { created };
  },
};
