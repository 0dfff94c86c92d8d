/**
 * An on-call service of ObservAI Hub itself (issue 20, ADR 0011): a route that sends to this contact
 * point opens an incident on the service (or adds to / resolves the open one) instead of calling out.
 * Its notifications stay on the notification log like every other kind, so grouping, silences,
 * inhibition and the log's exactly-once creation apply unchanged; the escalate-incidents job
 * (src/oncall/alert-intake.ts) takes them from the log and applies each in the same transaction
 * that marks it sent. The delivery engine never claims them, so `send` is reached only by a caller
 * that skipped that rule, and answers so rather than pretending to deliver.
 */
import { z } from 'zod';
import type { Notifier } from './types.ts';

export const OncallSettings = z.strictObject({
  /** The on-call service (of the contact point's project) whose incidents the notifications open. */
  serviceId: z.uuid(),
});
export type OncallSettings = z.output<typeof OncallSettings>;

export const oncallNotifier: Notifier<OncallSettings> = {
  kind: 'oncall',
  settings: OncallSettings,
  secret: { required: false, describe: 'An on-call contact point has no secret', schema: z.string().max(0, 'an on-call contact point takes no secret') },
  async send() {
    return { ok: false, retryable: false, status: null, retryAfterMs: null, error: 'On-call contact points are applied by the escalate-incidents job, not sent' };
  },
};
