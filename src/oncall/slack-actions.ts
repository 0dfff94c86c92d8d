import type { Deps } from '../core/deps.ts';
import { AppError, notFound } from '../core/errors.ts';
import { toIso as iso } from '../core/time.ts';
import { createSecretBox, requireEncryptionKey } from '../core/secret-box.ts';
import { asServiceRole, asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { postJson } from '../net/http-delivery.ts';
import { actOnIncident } from './act-on-incident.ts';
import { linkSecret } from './action-links.ts';
import { type LinkAction, verifyActionLink, verifySlackRequest } from './signatures.ts';
import { requireOrgManager } from './views.ts';

/**
 * Slack interactive requests (issue 20 item 5). A page to Slack carries Acknowledge and Resolve
 * buttons (our signed links, action-links.ts). When the message was posted by an organization's
 * Slack app, pressing one also makes Slack POST the interaction to the app's Request URL,
 * `/functions/v1/oncall/slack/actions/<app id>`; that request:
 * 1. is verified with the app's signing secret (Slack's `v0` HMAC of `v0:timestamp:body`, rejected
 *    more than 5 minutes from now: no replay), before the body is parsed;
 * 2. names the incident and the action through the button's signed link (verified as any link);
 * 3. acts as the person who pressed it: the organization member whose notification rules name that
 *    Slack member id (not the person the link was signed for: anyone on the channel may take it);
 * 4. updates the original message through Slack's `response_url` (the buttons replaced by who did
 *    what), through the outbound guard.
 * Answers 200 to every verified request (Slack shows an error otherwise); 401 for any other.
 */
export type SlackDeps = Pick<Deps, 'db' | 'clock' | 'config' | 'outbound' | 'logger'> & { jwtSecret?: string };

const SECRET_PATTERN = /^[0-9a-f]{32}$/i;

interface AppRow {
  id: string;
  organization_id: string;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const toView = (deps: Pick<Deps, 'config'>, r: AppRow) => ({
  id: r.id,
  organizationId: r.organization_id,
  requestUrl: deps.config.publicUrl ? new URL(`/functions/v1/oncall/slack/actions/${r.id}`, deps.config.publicUrl).toString() : null,
  requestPath: `/functions/v1/oncall/slack/actions/${r.id}`,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

/** Sets (or replaces) an organization's Slack app signing secret (owners and admins). */
export async function putSlackApp(deps: Pick<Deps, 'db' | 'config'>, actor: Claims, organizationId: string, signingSecret: string) {
  if (!SECRET_PATTERN.test(signingSecret)) throw invalid('body.signingSecret', "must be the Slack app's signing secret (32 hexadecimal characters, under Basic Information)");
  const box = await createSecretBox(requireEncryptionKey(deps.config, 'Slack apps'));
  const row = await withClaims(deps.db, actor, async (tx) => {
    await requireOrgManager(tx, organizationId);
    const [existing] = await tx.query<{ id: string }>('select id from public.oncall_slack_apps where organization_id = $1', [organizationId]);
    const id = existing?.id ?? crypto.randomUUID();
    const sealed = await box.seal(signingSecret, id);
    const [saved] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<AppRow>(
        `insert into public.oncall_slack_apps (id, organization_id, signing_secret_ciphertext, created_by) values ($1, $2, $3, $4)
         on conflict (organization_id) do update set signing_secret_ciphertext = excluded.signing_secret_ciphertext
         returning id, organization_id, created_by, created_at, updated_at`,
        [id, organizationId, sealed, actor.sub ?? null],
      ),
    );
    return saved!;
  });
  return toView(deps, row);
}

export async function getSlackApp(deps: Pick<Deps, 'db' | 'config'>, actor: Claims, organizationId: string) {
  return withClaims(deps.db, actor, async (tx) => {
    await requireOrgManager(tx, organizationId);
    const [row] = await tx.query<AppRow>('select id, organization_id, created_by, created_at, updated_at from public.oncall_slack_apps where organization_id = $1', [organizationId]);
    return row ? toView(deps, row) : null;
  });
}

export async function deleteSlackApp(deps: Pick<Deps, 'db'>, actor: Claims, organizationId: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await requireOrgManager(tx, organizationId);
    const [gone] = await asServiceRoleWithin(tx, actor, () => tx.query('delete from public.oncall_slack_apps where organization_id = $1 returning id', [organizationId]));
    if (!gone) throw notFound('Slack app');
  });
}

interface BlockActions {
  type: string;
  user?: { id?: string };
  response_url?: string;
  message?: { blocks?: Array<Record<string, unknown>>; text?: string };
  actions?: Array<{ action_id?: string; url?: string; value?: string }>;
}

const ACTION_PATH = /\/functions\/v1\/oncall\/actions\/(ack|resolve)\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
const DONE: Record<LinkAction, string> = { ack: 'acknowledged', resolve: 'resolved' };

/** One interactive request from Slack; returns the status to answer (200 when verified). */
export async function handleSlackAction(deps: SlackDeps, appId: string, headers: { timestamp: string | null; signature: string | null }, rawBody: string): Promise<200 | 401> {
  const now = deps.clock.now().getTime();
  const [app] = /^[0-9a-f-]{36}$/i.test(appId)
    ? await asServiceRole(deps.db, (tx) =>
        tx.query<{ organization_id: string; signing_secret_ciphertext: string }>('select organization_id, signing_secret_ciphertext from public.oncall_slack_apps where id = $1', [appId]),
      )
    : [];
  // An unknown app and a bad signature answer alike: nothing tells whether an id exists.
  const secret = app && deps.config.exports.encryptionKey ? await (await createSecretBox(deps.config.exports.encryptionKey)).open(app.signing_secret_ciphertext, appId).catch(() => null) : null;
  const verified = await verifySlackRequest(secret ?? '0'.repeat(32), headers, rawBody, now);
  if (!app || !secret || !verified.ok) return 401;

  let payload: BlockActions;
  try {
    payload = JSON.parse(new URLSearchParams(rawBody).get('payload') ?? 'null') as BlockActions;
  } catch {
    return 200;
  }
  if (payload?.type !== 'block_actions' || !payload.actions?.length) return 200;
  const pressed = payload.actions.map((a) => ACTION_PATH.exec(a.url ? new URL(a.url, 'http://x').pathname : '')).find((m) => m !== null);
  if (!pressed) return 200;
  const action = pressed[1] as LinkAction;
  const links = await linkSecret(deps);
  const link = links ? await verifyActionLink(links, pressed[2]!, action, now) : { ok: false as const, reason: 'links are not enabled' };
  const slackUser = payload.user?.id ?? '';
  let reply: string;
  let taken = false;
  if (!link.ok) {
    reply = `This button no longer works (${link.reason}); open the incident in ObservAI Hub.`;
  } else {
    const [person] = await asServiceRole(deps.db, (tx) =>
      tx.query<{ user_id: string }>(
        `select m.user_id from public.organization_members m join public.oncall_notification_rules r on r.user_id = m.user_id
         where m.organization_id = $1 and exists (select 1 from jsonb_array_elements(r.document -> 'methods') x where x ->> 'kind' = 'slack' and x ->> 'address' = $2)
         limit 1`,
        [app.organization_id, slackUser],
      ),
    );
    if (!person) {
      reply = `<@${slackUser}> is not linked to anyone in ObservAI Hub: add your Slack member id to your notification rules, then press again.`;
    } else {
      try {
        const incident = await actOnIncident(deps, { role: 'authenticated', sub: person.user_id } satisfies Claims, link.claims.incidentId, { type: action === 'ack' ? 'acknowledge' : 'resolve' });
        taken = true;
        reply = `${action === 'ack' ? ':eyes:' : ':white_check_mark:'} ${DONE[action][0]!.toUpperCase()}${DONE[action].slice(1)} by <@${slackUser}> (the incident is ${incident.state}).`;
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        reply = `Could not ${action === 'ack' ? 'acknowledge' : 'resolve'}: ${err.message}`;
      }
    }
  }
  await updateMessage(deps, payload, reply, taken);
  return 200;
}

/** Replaces the original message: its blocks without the buttons (when the action was taken), and the outcome. */
async function updateMessage(deps: SlackDeps, payload: BlockActions, reply: string, done: boolean): Promise<void> {
  if (!payload.response_url) return;
  const blocks = (payload.message?.blocks ?? []).filter((b) => !(done && b.type === 'actions'));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: reply }] });
  const result = await postJson(
    { outbound: deps.outbound, now: deps.clock.now(), timeoutMs: 2_500 },
    payload.response_url,
    JSON.stringify({ replace_original: true, text: payload.message?.text ?? reply, blocks }),
  );
  if (!result.ok) deps.logger.warn({ error: result.error }, 'updating the Slack message failed');
}
