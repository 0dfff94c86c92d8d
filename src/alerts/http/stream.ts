import { Hono } from 'hono';
import { streamCredential } from '../../auth/stream-credential.ts';
import type { Deps } from '../../core/deps.ts';
import { readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { respondWithStream, type StreamSource } from '../../http/sse-stream.ts';
import { createStreamSlots } from '../../http/stream-slots.ts';
import { acceptStreamToken, describeStreamToken, mintStreamToken } from '../../http/stream-token.ts';
import { invalid, parseQuery } from '../../http/validate.ts';
import { ALERT_STREAM_EVENTS } from '../responses.ts';
import { READER } from './callers.ts';
import { type AlertStream, AlertStreamQuery, openAlertStream, TransitionId } from '../stream-alerts.ts';

/** The alert stream as a kind of stream: its name in messages, and its slot sets' prefix. */
const ALERT_STREAM = { name: 'alert stream', plural: 'alert streams', reading: 'alert transitions', prefix: 'alert-stream' };

/** A `transition` event per transition, its id the transition's (EventSource resumes after it), its data the history's view. */
function transitionSource(stream: AlertStream): StreamSource & { readonly projectId: string } {
  return {
    projectId: stream.projectId,
    get lastId() {
      return stream.lastId;
    },
    async poll() {
      const { transitions, end } = await stream.poll();
      return { end, events: transitions.map((t) => ({ event: 'transition', id: t.id, data: JSON.stringify(t) })) };
    },
  };
}

/**
 * GET /alerts/stream: a project's alert transitions as Server-Sent Events (`ready`, `transition`,
 * heartbeats, `end`), as the live log tail streams logs (src/http/sse-stream.ts). Readers: users who
 * see the project, keys with the read scope (their own project by default). Open streams are capped
 * as tails are (LOG_TAIL_MAX_*, counted apart from tails).
 */
export function streamRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const slots = createStreamSlots(deps, { ...ALERT_STREAM, caps: deps.config.logTail });

  app.post('/token', describeStreamToken('alert stream'), mintStreamToken(deps));
  app.get(
    '/',
    describe({ summary: "A project's alert transitions as server-sent events", description: 'Open with a header credential, or `?access_token=` from POST /stream/token (EventSource).', ...READER, query: AlertStreamQuery, responses: { 200: ALERT_STREAM_EVENTS } }),
    acceptStreamToken(deps),
    async (c) => {
      const { claims, keyProjectId } = readerClaims(c);
      const q = parseQuery(c, AlertStreamQuery);
      const header = c.req.header('last-event-id');
      if (header !== undefined && !TransitionId.safeParse(header).success) throw invalid('header.last-event-id', 'must be a transition id');
      // Errors (unknown project, a full cap) are answered before the stream starts.
      const stream = await openAlertStream(deps, claims, keyProjectId, streamCredential(c.get('identity'), claims), { ...q, lastId: header ?? q.lastId });
      return respondWithStream(c, deps, ALERT_STREAM, slots, transitionSource(stream));
    },
  );

  return app;
}
