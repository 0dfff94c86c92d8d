import { z } from 'zod';
import { RunStatus, Signal } from './schemas.ts';

/** What the export routes answer (src/exports/http/routes.ts, under /logs/exports); secrets never. */

const Time = z.iso.datetime();
const Filter = z.record(z.string(), z.unknown());

export const ExportDestination = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    organizationId: z.uuid(),
    name: z.string(),
    endpoint: z.string().nullable(),
    region: z.string(),
    bucket: z.string(),
    prefix: z.string(),
    forcePathStyle: z.boolean(),
    accessKeyId: z.string(),
    verifiedAt: Time.nullable(),
    createdBy: z.uuid().nullable(),
    createdAt: Time,
  })
  .meta({ id: 'ExportDestination' });

export const ExportRun = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    destinationId: z.uuid(),
    scheduleId: z.uuid().nullable(),
    signal: Signal,
    from: Time,
    to: Time,
    filter: Filter,
    rowsPerFile: z.number().int(),
    status: RunStatus,
    rows: z.number().int().min(0),
    bytes: z.number().int().min(0),
    /** Object keys written so far. */
    files: z.array(z.string()),
    progress: z.object({ day: z.string(), nextPart: z.number().int() }).nullable(),
    attempts: z.number().int().min(0),
    error: z.string().nullable(),
    nextAttemptAt: Time.nullable(),
    requestedBy: z.uuid().nullable(),
    createdAt: Time,
    startedAt: Time.nullable(),
    finishedAt: Time.nullable(),
  })
  .meta({ id: 'ExportRun' });

export const ExportSchedule = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    destinationId: z.uuid(),
    signal: Signal,
    filter: Filter,
    rowsPerFile: z.number().int(),
    enabled: z.boolean(),
    startDay: z.iso.date(),
    lastScheduledDay: z.iso.date().nullable(),
    createdBy: z.uuid().nullable(),
    createdAt: Time,
    updatedAt: Time,
  })
  .meta({ id: 'ExportSchedule' });

export const DestinationResponse = z.object({ destination: ExportDestination });
export const DestinationsResponse = z.object({ destinations: z.array(ExportDestination) });
export const ScheduleResponse = z.object({ schedule: ExportSchedule });
export const SchedulesResponse = z.object({ schedules: z.array(ExportSchedule) });
export const ExportResponse = z.object({ export: ExportRun });
export const ExportsResponse = z.object({ exports: z.array(ExportRun) });
