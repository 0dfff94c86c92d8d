import { z } from 'zod';

/** What the anomalies function answers (src/anomalies/http/routes.ts); the OpenAPI document is built from these. */

const Time = z.iso.datetime();

export const AnomalyIncident = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    /** Episodes that started together on related series share it. */
    correlationKey: z.string(),
    startedAt: Time,
    endedAt: Time.nullable(),
    status: z.string(),
    memberCount: z.number().int().min(0),
  })
  .meta({ id: 'AnomalyIncident' });

/** Why the detector flagged the series (detector-specific fields besides these). */
const Explanation = z.looseObject({
  detector: z.string(),
  expected: z.number().nullable(),
  lower: z.number().nullable(),
  upper: z.number().nullable(),
  observed: z.number().nullable(),
});

export const AnomalyEpisode = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    seriesId: z.string(),
    metric: z.string(),
    tags: z.record(z.string(), z.string()),
    detector: z.string(),
    startedAt: Time,
    endedAt: Time.nullable(),
    status: z.string(),
    peakScore: z.number(),
    peakAt: Time,
    explanation: Explanation,
    feedback: z.string().nullable(),
    incidentId: z.uuid().nullable(),
  })
  .meta({ id: 'AnomalyEpisode' });

/** One episode with its band and the series around it ([epoch ms, avg, min, max] per minute). */
export const EpisodeDetail = AnomalyEpisode.extend({
  band: z.object({ expected: z.number().nullable(), lower: z.number().nullable(), upper: z.number().nullable(), observed: z.number().nullable() }),
  series: z.object({ resolution: z.literal('1m'), points: z.array(z.tuple([z.number(), z.number().nullable(), z.number().nullable(), z.number().nullable()])) }),
});

export const DetectorConfig = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    metric: z.string(),
    filter: z.record(z.string(), z.string()),
    config: z.record(z.string(), z.unknown()),
    enabled: z.boolean(),
    updatedAt: Time,
  })
  .meta({ id: 'DetectorConfig' });

export const IncidentsResponse = z.object({ incidents: z.array(AnomalyIncident) });
export const EpisodesResponse = z.object({ episodes: z.array(AnomalyEpisode) });
export const EpisodeResponse = z.object({ episode: EpisodeDetail });
export const FeedbackResponse = z.object({ episode: AnomalyEpisode });
export const ConfigsResponse = z.object({ configs: z.array(DetectorConfig) });
export const ConfigResponse = z.object({ config: DetectorConfig });
