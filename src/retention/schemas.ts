import { z } from 'zod';

/** Log levels, as stored in public.logs.level ('trace' is the log level, not spans). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Days kept per log level and for spans. */
export interface LogRetentionDays {
  levels: Record<LogLevel, number>;
  spans: number;
}

/** The allowed range of every retention setting, in days (the table's CHECK constraints agree). */
export const RETENTION_DAYS_RANGE = { min: 1, max: 400 } as const;

const Days = z
  .number()
  .int('must be a whole number of days')
  .min(RETENTION_DAYS_RANGE.min, `must be at least ${RETENTION_DAYS_RANGE.min} day`)
  .max(RETENTION_DAYS_RANGE.max, `must be at most ${RETENTION_DAYS_RANGE.max} days`);

export const RetentionQuery = z.strictObject({ projectId: z.uuid().optional() });

/** Sets some or all of a project's retention; what is left out keeps its current value (or the default). */
export const PutLogRetention = z
  .strictObject({
    projectId: z.uuid(),
    levels: z
      .strictObject({
        trace: Days.optional(),
        debug: Days.optional(),
        info: Days.optional(),
        warn: Days.optional(),
        error: Days.optional(),
        fatal: Days.optional(),
      })
      .optional(),
    spans: Days.optional(),
  })
  .refine((v) => v.spans !== undefined || Object.values(v.levels ?? {}).some((d) => d !== undefined), {
    message: 'send at least one of levels.<level> or spans',
    path: ['levels'],
  });
export type PutLogRetention = z.output<typeof PutLogRetention>;
