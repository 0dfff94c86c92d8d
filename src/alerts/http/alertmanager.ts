import { Hono } from 'hono';
import { authorize } from '../../auth/authenticate.ts';
import type { Deps } from '../../core/deps.ts';
import { AppError } from '../../core/errors.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody } from '../../http/validate.ts';
import { z } from 'zod';
import { type ReceivedAlert } from '../external-alerts.ts';
import { MAX_EXTERNAL_ALERTS, RESOLVE_TIMEOUT_MS, receiveAlerts } from '../receive-alerts.ts';
import { MAX_POSTED_ALERTS, PostableAlert } from '../schemas.ts';
import { ALERTMANAGER_ACCEPTED } from '../responses.ts';

/**
 * The Alertmanager API v2's receiving end, so Prometheus (`alerting.alertmanagers[]` with
 * `path_prefix: /functions/v1/alerts` and `authorization.credentials: <ingest key>`), Grafana and
 * vmalert send their alerts here. Authenticated by a project API key with the ingest scope, sent as
 * `Authorization: Bearer <key>`; alerts land in the key's project.
 * As Alertmanager does, the valid alerts of a batch are stored even when others are invalid; the
 * answer is then 400 naming each invalid one. This is a deliberate exception to "a 4xx writes
 * nothing": Prometheus re-sends its whole batch every evaluation, and refusing every alert for one
 * bad label would silence all of them; the message says how many were stored.
 */
export function alertmanagerRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Each alert is parsed with PostableAlert apart (the valid ones are stored); the document says so.
  const PostedAlerts = z.array(z.unknown()).max(MAX_POSTED_ALERTS, `at most ${MAX_POSTED_ALERTS} alerts per request`);
  const PostedAlertsDoc = z.array(PostableAlert).max(MAX_POSTED_ALERTS);
  app.post(
    '/alerts',
    describe({
      summary: 'Alertmanager API v2: receive alerts (Prometheus, Grafana, vmalert)',
      description:
        'An ingest-scoped project API key as `Authorization: Bearer <key>`. The valid alerts of a batch are stored even when others are invalid; the answer is then a 400 naming each invalid one and saying how many were stored.',
      auth: ['apiKey'],
      scope: 'ingest',
      body: PostedAlertsDoc,
      responses: { 200: ALERTMANAGER_ACCEPTED },
    }),
    async (c) => {
      const key = authorize(c.get('identity'), ['apiKey'], 'ingest');
      const body = await parseBody(c, PostedAlerts);
      const now = deps.clock.now().getTime();
      const valid: ReceivedAlert[] = [];
      const details: Array<{ field: string; message: string }> = [];
      body.forEach((raw, i) => {
        const parsed = PostableAlert.safeParse(raw);
        if (!parsed.success) {
          for (const issue of parsed.error.issues) details.push({ field: ['body', i, ...issue.path.map(String)].join('.'), message: issue.message });
          return;
        }
        const a = parsed.data;
        const startsAt = a.startsAt ?? (a.endsAt !== undefined && a.endsAt < now ? a.endsAt : now);
        valid.push({
          labels: a.labels,
          annotations: a.annotations,
          startsAt,
          endsAt: a.endsAt ?? now + RESOLVE_TIMEOUT_MS,
          generatorUrl: a.generatorURL ?? null,
        });
      });
      const stored = valid.length > 0 ? await receiveAlerts(deps, { projectId: key.projectId, organizationId: key.organizationId }, valid) : null;
      if (stored && stored.refused > 0) {
        details.push({ field: 'body', message: `${stored.refused} new alerts refused: the project holds at most ${MAX_EXTERNAL_ALERTS} alerts received through this API` });
      }
      if (details.length > 0) {
        const kept = valid.length - (stored?.refused ?? 0);
        throw new AppError('VALIDATION_FAILED', `${details[0]!.field}: ${details[0]!.message} (${kept} valid alerts were stored)`, { details });
      }
      return c.body(null, 200);
    },
  );

  return app;
}
