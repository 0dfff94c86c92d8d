import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import type { AppEnv } from '../../http/context.ts';
import { alertmanagerRoutes } from './alertmanager.ts';
import { contactPointRoutes } from './contact-points.ts';
import { policyRoutes } from './policy.ts';
import { previewRoutes } from './preview.ts';
import { ruleRoutes } from './rules.ts';
import { silenceRoutes } from './silences.ts';
import { stateRoutes } from './state.ts';
import { streamRoutes } from './stream.ts';

/**
 * The alerts function: rules (as code too, and their preview over the past), their instances and
 * history, notification policies, contact points, silences, groups and the notification log, the
 * Alertmanager API v2 that Prometheus, Grafana and vmalert send to, and the stream of transitions
 * (Server-Sent Events). Each part keeps its routes in its own file.
 */
export function alertsRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.route('/rules/preview', previewRoutes(deps));
  app.route('/rules', ruleRoutes(deps));
  app.route('/silences', silenceRoutes(deps));
  app.route('/policy', policyRoutes(deps));
  app.route('/contact-points', contactPointRoutes(deps));
  app.route('/api/v2', alertmanagerRoutes(deps));
  app.route('/stream', streamRoutes(deps));
  app.route('/', stateRoutes(deps));
  return app;
}
