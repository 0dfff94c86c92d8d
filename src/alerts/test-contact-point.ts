import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { createSecretBox, requireEncryptionKey } from '../core/secret-box.ts';
import { asServiceRole, type Claims, withClaims } from '../db/scoped.ts';
import { findContactPoint } from './contact-point-views.ts';
import type { Notification } from './model.ts';
import { type DeliveryResult, NOTIFIERS, type SmtpSender } from './notifiers/index.ts';

/** Failures of our own making, not the receiver's: permanent, and safe to show. */
const notSent = (error: string): DeliveryResult => ({ ok: false, retryable: false, status: null, retryAfterMs: null, error });

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * A synthetic firing notification with one alert, `alertname=TestAlert`, that says it is a test.
 * Its id (the receiver's idempotency key: webhook-id, the email's Message-ID) and group key are new
 * every time, so a receiver that deduplicates shows each test, and PagerDuty opens a fresh incident
 * rather than folding it into a real alert's.
 */
export function testNotification(cp: { id: string; name: string }, project: { id: string; name: string }, now: Date): Notification {
  const id = `test_${hex(crypto.getRandomValues(new Uint8Array(16)))}`;
  const labels = { alertname: 'TestAlert', severity: 'info', test: 'true' };
  const annotations = {
    summary: 'Test notification from ObservAI Hub',
    description: `A test sent to contact point '${cp.name}' to check that it works. No alert is firing; nothing needs to be done.`,
  };
  return {
    id,
    groupKey: `test:${cp.id}:${id}`,
    status: 'firing',
    receiver: cp.name,
    groupLabels: { alertname: 'TestAlert' },
    commonLabels: labels,
    commonAnnotations: annotations,
    alerts: [
      { fingerprint: id.slice(5, 21), status: 'firing', labels, annotations, startsAt: now.toISOString(), endsAt: null, value: null, url: null },
    ],
    truncatedAlerts: 0,
    externalUrl: null,
    project,
    createdAt: now.toISOString(),
  };
}

/**
 * Sends a test notification through the contact point's notifier, now, once (owners and admins: it
 * makes the server call the contact point's URL). Whatever the receiver does, the answer is the
 * DeliveryResult: a failure is data to show, not an error of this request. A destination the
 * outbound guard refuses gets the same generic message as one that does not answer, so this
 * cannot be used to map private networks. Not recorded in the notification log: no alert was sent.
 */
export async function testContactPoint(deps: Pick<Deps, 'db' | 'config' | 'outbound' | 'clock' | 'logger'> & { smtp?: SmtpSender }, actor: Claims, id: string): Promise<DeliveryResult> {
  const { cp, project } = await withClaims(deps.db, actor, async (tx) => {
    const cp = await findContactPoint(tx, id);
    if (!cp.may_manage) throw forbidden('Only owners and admins can test contact points');
    const [project] = await tx.query<{ id: string; name: string }>('select id, name from public.projects where id = $1', [cp.project_id]);
    return { cp, project: project! };
  });
  // The caller's permission is settled above; only the service role reads the settings and the sealed secret.
  const [stored] = await asServiceRole(deps.db, (tx) =>
    tx.query<{ settings: unknown; secret_ciphertext: string | null }>('select settings, secret_ciphertext from public.contact_points where id = $1', [cp.id]),
  );
  if (cp.kind === 'oncall') {
    return notSent('An on-call contact point opens incidents rather than sending: send its service a test event (POST /oncall/v2/enqueue) instead');
  }
  const notifier = NOTIFIERS[cp.kind];
  const settings = notifier.settings.safeParse(stored?.settings);
  if (!settings.success) return notSent("The contact point's settings are no longer valid: set them again");
  let secret: string | null = null;
  if (stored?.secret_ciphertext) {
    const box = await createSecretBox(requireEncryptionKey(deps.config, 'Contact points'));
    try {
      secret = await box.open(stored.secret_ciphertext, cp.id);
    } catch (err) {
      // The box's messages name the problem (another key, an altered value), never the secret.
      return notSent(`The contact point's secret cannot be opened: ${(err as Error).message}`);
    }
  }
  const now = deps.clock.now();
  const notification = testNotification(cp, project, now);
  try {
    return await notifier.send(notification, { id: cp.id, name: cp.name, kind: cp.kind, settings: settings.data, secret }, {
      outbound: deps.outbound,
      ...(deps.smtp ? { smtp: deps.smtp } : {}),
      now,
      attempt: 1,
      timeoutMs: 10_000,
    });
  } catch (err) {
    // A notifier reports failures as results; a throw is our bug: logged in full, answered generically.
    deps.logger.error({ err, contactPointId: cp.id, kind: cp.kind }, 'test notification failed unexpectedly');
    return notSent('The test notification could not be sent because of an error on our side');
  }
}
