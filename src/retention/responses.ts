import { z } from 'zod';
import { LOG_LEVELS } from './schemas.ts';

/** What the retention routes answer (src/retention/http/routes.ts, under /logs/retention). */

const Time = z.iso.datetime();
const Days = z.number().int().min(1);
const LevelDays = z.object(Object.fromEntries(LOG_LEVELS.map((l) => [l, Days])) as Record<(typeof LOG_LEVELS)[number], typeof Days>);
const RetentionDays = z.object({ levels: LevelDays, spans: Days });

export const LogRetentionResponse = z.object({
  retention: RetentionDays.extend({
    projectId: z.uuid(),
    /** False when the project keeps the defaults. */
    custom: z.boolean(),
    updatedAt: Time.nullable(),
    defaults: RetentionDays,
  }),
});

const Target = z.object({ days: Days, cutoff: Time, rows: z.number().int().min(0) });
const ProjectPreview = z.object({
  projectId: z.uuid(),
  custom: z.boolean(),
  levels: z.object(Object.fromEntries(LOG_LEVELS.map((l) => [l, Target])) as Record<(typeof LOG_LEVELS)[number], typeof Target>),
  spans: Target,
});

/**
 * A project's dry run (users, read keys): what the next run would delete. The service role gets the
 * cleanup job's dry run over every project instead (its summary: partitions, projects, totals).
 */
export const RetentionPreviewResponse = z.object({
  preview: z.union([ProjectPreview.extend({ now: Time }), z.looseObject({ dryRun: z.literal(true), now: Time, complete: z.boolean() })]),
});
