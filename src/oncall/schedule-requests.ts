import { z } from 'zod';
import { Schedule } from './schedule-schemas.ts';

/**
 * The schedule API's requests (zod): schedules, who is on call, shifts, overrides, swaps and feeds.
 * A schedule document is schedule-schemas.ts' Schedule without `id` and `name` (the row's own), so
 * every rule of the core (zones, layers, windows, overrides inside a layer) answers a 400 naming the
 * field, e.g. `body.schedule.layers.0.versions.0.zone`.
 */

/** Bounds of the schedule API (documented in docs/API.md and docs/oncall.md). */
export const SCHEDULE_API_LIMITS = {
  schedulesPerOrganization: 200,
  /** GET /schedules/:id/shifts: at most this many days between from and to. */
  shiftsRangeDays: 366,
  /** Active (unrevoked) feeds a person may hold in one organization. */
  feedsPerUser: 50,
  /** The iCal feed's window around now. */
  feedPastDays: 30,
  feedFutureDays: 180,
} as const;

const DAY = 86_400_000;

const Name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

/** The id and name the core requires while a document is validated alone; stored rows use their own columns (schedule-store.ts parseStored). */
const DOC_ID = 'schedule';
const DOC_NAME = 'schedule';

export interface ValidDocument {
  /** As sent, zone made canonical: what is stored. */
  input: Record<string, unknown>;
  parsed: Schedule;
}

/** Validates a document (as sent, or as stored plus an edit); issues keep their paths. */
export function checkDocument(doc: Record<string, unknown>): { ok: true; value: ValidDocument } | { ok: false; issues: Array<{ path: PropertyKey[]; message: string }> } {
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const key of ['id', 'name']) {
    if (key in doc) issues.push({ path: [key], message: `is the schedule's own, not part of its document${key === 'name' ? ' (send name beside schedule)' : ''}` });
  }
  if (issues.length > 0) return { ok: false, issues };
  const result = Schedule.safeParse({ ...doc, id: DOC_ID, name: DOC_NAME });
  if (!result.success) return { ok: false, issues: result.error.issues.map((i) => ({ path: i.path, message: i.message })) };
  return { ok: true, value: { input: { ...doc, zone: result.data.zone }, parsed: result.data } };
}

export const ScheduleDocument = z.record(z.string(), z.unknown()).transform((doc, ctx): ValidDocument => {
  const checked = checkDocument(doc);
  if (checked.ok) return checked.value;
  for (const i of checked.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  return z.NEVER;
});

export const CreateSchedule = z.strictObject({ organizationId: z.uuid(), name: Name, schedule: ScheduleDocument });
export type CreateSchedule = z.output<typeof CreateSchedule>;

export const UpdateSchedule = z.strictObject({
  name: Name.optional(),
  /** Replaces the document; without `overrides` the stored overrides are kept. */
  schedule: ScheduleDocument.optional(),
  /** The version the edit was made from: a 409 if the schedule changed since (optional). */
  version: z.number().int().min(1).optional(),
});
export type UpdateSchedule = z.output<typeof UpdateSchedule>;

export const SchedulesQuery = z.object({ organizationId: z.uuid() });

const Instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 instant with a zone, like 2026-03-08T09:00:00Z' }).transform(Date.parse);

export const OnCallQuery = z.object({ at: Instant.optional() });

export const ShiftsQuery = z
  .object({ from: Instant.optional(), to: Instant.optional() })
  .superRefine((q, ctx) => {
    if (q.from !== undefined && q.to !== undefined) {
      if (q.to <= q.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
      else if (q.to - q.from > SCHEDULE_API_LIMITS.shiftsRangeDays * DAY) {
        ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${SCHEDULE_API_LIMITS.shiftsRangeDays} days after from` });
      }
    }
  });
export type ShiftsQuery = z.output<typeof ShiftsQuery>;

/** A stretch of someone's time: an override to add, or a shift to swap. */
const Stretch = z
  .strictObject({ userId: z.uuid(), start: Instant, end: Instant })
  .refine((s) => s.end > s.start, { path: ['end'], message: 'must be after start' });
export type Stretch = z.output<typeof Stretch>;

export const AddOverride = Stretch;

/** Two shifts of the final schedule: each person takes the other's. */
export const AddSwap = z.strictObject({ shifts: z.tuple([Stretch, Stretch]) });
export type AddSwap = z.output<typeof AddSwap>;

export const OverrideParams = z.object({ id: z.uuid(), overrideId: z.string().regex(/^[0-9a-f]{16}$/, 'is not an override id') });

export const CreateUserFeed = z.strictObject({ organizationId: z.uuid() });

export const FeedsQuery = z.object({ organizationId: z.uuid().optional() });
