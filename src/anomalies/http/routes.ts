import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { meterQuery } from '../../billing/meter-query.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { getEpisode } from '../get-episode.ts';
import { giveFeedback } from '../give-feedback.ts';
import { listConfigs } from '../list-configs.ts';
import { listEpisodes } from '../list-episodes.ts';
import { listIncidents } from '../list-incidents.ts';
import { putConfig } from '../put-config.ts';
import { ConfigResponse, ConfigsResponse, EpisodeResponse, EpisodesResponse, FeedbackResponse, IncidentsResponse } from '../responses.ts';
import { ConfigsQuery, EpisodeParams, EpisodesQuery, Feedback, IncidentsQuery, PutConfig } from '../schemas.ts';

const READER = { auth: ['user', 'apiKey'], scope: 'read' } as const;

/**
 * The anomalies function: incidents, episodes (with their series snippet), feedback and per-metric
 * detector configuration. Reads: users (RLS) or keys with read scope; writes: users, RLS decides.
 */
export function anomaliesRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/incidents', describe({ summary: 'Anomaly incidents: episodes that started together', ...READER, query: IncidentsQuery, responses: { 200: IncidentsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const query = parseQuery(c, IncidentsQuery);
    const incidents = await listIncidents(deps, claims, keyProjectId, query);
    await meterQuery(deps, c, 'anomalies', query.projectId ?? keyProjectId, incidents.length);
    return c.json({ incidents });
  });

  app.get('/episodes', describe({ summary: 'Anomaly episodes, newest first', ...READER, query: EpisodesQuery, responses: { 200: EpisodesResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const query = parseQuery(c, EpisodesQuery);
    const episodes = await listEpisodes(deps, claims, keyProjectId, query);
    await meterQuery(deps, c, 'anomalies', query.projectId ?? keyProjectId, episodes.length);
    return c.json({ episodes });
  });

  app.get('/episodes/:id', describe({ summary: 'One episode with its band and series snippet', ...READER, params: EpisodeParams, responses: { 200: EpisodeResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    const { id } = parseParams(c, EpisodeParams);
    const episode = await getEpisode(deps, claims, id);
    await meterQuery(deps, c, 'anomalies', episode.projectId, 1);
    return c.json({ episode });
  });

  app.post('/episodes/:id/feedback', describe({ summary: 'Mark an episode as not an anomaly (tunes the detector)', auth: ['user'], params: EpisodeParams, body: Feedback, responses: { 200: FeedbackResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, EpisodeParams);
    const { kind } = await parseBody(c, Feedback);
    return c.json({ episode: await giveFeedback(deps, claims, id, kind) });
  });

  app.get('/configs', describe({ summary: 'Per-metric detector configurations', ...READER, query: ConfigsQuery, responses: { 200: ConfigsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ configs: await listConfigs(deps, claims, keyProjectId, parseQuery(c, ConfigsQuery)) });
  });

  app.put('/configs', describe({ summary: 'Create or change the detector configuration of a metric', auth: ['user'], body: PutConfig, responses: { 200: ConfigResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ config: await putConfig(deps, claims, await parseBody(c, PutConfig)) });
  });

  return app;
}
