import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseQuery } from '../../http/validate.ts';
import { cleanupRetention } from '../cleanup-retention.ts';
import { getLogRetention } from '../get-log-retention.ts';
import { previewLogRetention } from '../preview-log-retention.ts';
import { LogRetentionResponse, RetentionPreviewResponse } from '../responses.ts';
import { PutLogRetention, RetentionQuery } from '../schemas.ts';
import { setLogRetention } from '../set-log-retention.ts';

/** How long the service role's global dry run may count before it reports complete: false. */
const GLOBAL_PREVIEW_BUDGET_MS = 50_000;

const READER = { auth: ['user', 'apiKey'], scope: 'read' } as const;

/** Log and span retention settings per project and the dry-run report (mounted at /logs/retention). */
export function logRetentionRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', describe({ summary: "A project's log and span retention (days per level)", ...READER, query: RetentionQuery, responses: { 200: LogRetentionResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ retention: await getLogRetention(deps, claims, keyProjectId, parseQuery(c, RetentionQuery)) });
  });

  app.put('/', describe({ summary: "Set a project's log and span retention (owners and admins)", auth: ['user'], body: PutLogRetention, responses: { 200: LogRetentionResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ retention: await setLogRetention(deps, claims, await parseBody(c, PutLogRetention)) });
  });

  // Users and read keys: one project, under RLS. The service role: the cleanup-retention job's own
  // dry run over every project (what the next run would delete, and which partitions it would drop).
  app.get('/preview', describe({ summary: 'Dry run: what the next retention run would delete', auth: ['user', 'apiKey', 'service'], scope: 'read', query: RetentionQuery, responses: { 200: RetentionPreviewResponse } }), async (c) => {
    if (c.get('identity').kind === 'service') {
      const preview = await cleanupRetention.run(deps, { now: deps.clock.now(), budgetMs: GLOBAL_PREVIEW_BUDGET_MS, dryRun: true });
      return c.json({ preview });
    }
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ preview: await previewLogRetention(deps, claims, keyProjectId, parseQuery(c, RetentionQuery)) });
  });

  return app;
}
