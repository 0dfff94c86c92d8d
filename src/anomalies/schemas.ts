import { z } from 'zod';
import { DetectorConfig } from './detectors/index.ts';

const Time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const Status = z.enum(['open', 'closed']);

export const IncidentsQuery = z.strictObject({
  projectId: z.uuid().optional(),
  status: Status.optional(),
  from: Time.optional(),
  to: Time.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type IncidentsQuery = z.output<typeof IncidentsQuery>;

export const EpisodesQuery = z.strictObject({
  projectId: z.uuid().optional(),
  metric: z.string().min(1).max(200).optional(),
  status: Status.optional(),
  incidentId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type EpisodesQuery = z.output<typeof EpisodesQuery>;

export const EpisodeParams = z.object({ id: z.uuid() });

export const Feedback = z.strictObject({ kind: z.literal('not_anomaly') });

export const ConfigsQuery = z.strictObject({ projectId: z.uuid().optional(), metric: z.string().min(1).max(200).optional() });

/** One per-metric configuration: the detector settings (strict DetectorConfig) and a tag filter. */
export const PutConfig = z.strictObject({
  projectId: z.uuid(),
  metric: z.string().min(1).max(200),
  /** Series whose tags contain all of these; {} = every series of the metric. */
  filter: z.record(z.string().min(1).max(100), z.string().max(1000)).default({}),
  config: DetectorConfig.prefault({}),
  enabled: z.boolean().default(true),
});
export type PutConfig = z.output<typeof PutConfig>;
