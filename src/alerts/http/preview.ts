import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody } from '../../http/validate.ts';
import { PreviewRule, previewRule } from '../preview-rule.ts';
import { RulePreviewResponse } from '../responses.ts';
import { READER } from './callers.ts';

/**
 * POST /alerts/rules/preview: what a rule would have done over a past range (default the last 24 h),
 * by the evaluator's own query and state machine; nothing is written. Readers may call it, as they
 * may read the rules and the data it queries.
 */
export function previewRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post(
    '/',
    describe({
      summary: 'Preview a rule: what it would have fired over a past range',
      description: "The rule as POST /rules takes it (saved or not), evaluated at each multiple of its interval in (from, to] (default the last 24 h; at most 1440 evaluations) with the evaluator's query and instance state machine. Nothing is written. Anomaly rules cannot be previewed.",
      ...READER,
      body: PreviewRule,
      responses: { 200: RulePreviewResponse },
    }),
    async (c) => {
      const { claims, keyProjectId } = readerClaims(c);
      return c.json({ preview: await previewRule(deps, claims, keyProjectId, await parseBody(c, PreviewRule)) });
    },
  );
  return app;
}
