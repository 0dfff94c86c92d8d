import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { toIso as iso } from '../core/time.ts';
import { createSecretBox, requireEncryptionKey } from '../core/secret-box.ts';
import { asServiceRole, asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { applyEvent, type IncidentEvent } from './incidents.ts';
import { verifyPagerDutyWebhook } from './signatures.ts';
import { findIncident, lockIncidentKey, requireOrgManager, toCore, withoutPaging, writeStep } from './views.ts';

/**
 * PagerDuty webhooks v3 inbound (issue 20 item 5): when we page a PagerDuty contact point, its
 * incident's key is ours (`incident:<id>`, the notification's groupKey as dedup_key). A webhook
 * subscription of that PagerDuty account posting to `/functions/v1/oncall/pagerduty/webhooks/<id>`
 * brings its acknowledgements and resolutions back: the body is verified with the subscription's
 * signing secret (X-PagerDuty-Signature, `v1=` HMAC-SHA256 of the raw body, any of several while
 * PagerDuty rotates) before it is parsed; `incident.acknowledged`, `incident.unacknowledged` and
 * `incident.resolved` of an incident of the subscription's organization are applied through the
 * incident core as by `pagerduty:<agent>`; everything else is accepted and ignored (PagerDuty
 * retries anything but a 2xx). A request not signed by the subscription's secret is a 401.
 */
interface Row {
  id: string;
  organization_id: string;
  description: string | null;
  created_by: string | null;
  created_at: Date;
}
const COLUMNS = 'id, organization_id, description, created_by, created_at';
const path = (id: string) => `/functions/v1/oncall/pagerduty/webhooks/${id}`;
const toView = (deps: Pick<Deps, 'config'>, r: Row) => ({
  id: r.id,
  organizationId: r.organization_id,
  description: r.description,
  url: deps.config.publicUrl ? new URL(path(r.id), deps.config.publicUrl).toString() : null,
  path: path(r.id),
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
});

export const MAX_PAGERDUTY_WEBHOOKS = 20;

export async function createPagerDutyWebhook(deps: Pick<Deps, 'db' | 'config'>, actor: Claims, input: { organizationId: string; secret: string; description?: string }) {
  const box = await createSecretBox(requireEncryptionKey(deps.config, 'PagerDuty webhooks'));
  const id = crypto.randomUUID();
  const sealed = await box.seal(input.secret, id);
  const row = await withClaims(deps.db, actor, async (tx) => {
    await requireOrgManager(tx, input.organizationId);
    const [n] = await tx.query<{ n: number }>('select count(*)::int as n from public.oncall_pagerduty_webhooks where organization_id = $1', [input.organizationId]);
    if (n!.n >= MAX_PAGERDUTY_WEBHOOKS) throw invalid('body', `the organization already has ${MAX_PAGERDUTY_WEBHOOKS} PagerDuty webhooks (the limit)`);
    const [inserted] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<Row>(
        `insert into public.oncall_pagerduty_webhooks (id, organization_id, signing_secret_ciphertext, description, created_by) values ($1, $2, $3, $4, $5) returning ${COLUMNS}`,
        [id, input.organizationId, sealed, input.description ?? null, actor.sub ?? null],
      ),
    );
    return inserted!;
  });
  return toView(deps, row);
}

export async function listPagerDutyWebhooks(deps: Pick<Deps, 'db' | 'config'>, actor: Claims, organizationId: string) {
  return withClaims(deps.db, actor, async (tx) => {
    await requireOrgManager(tx, organizationId);
    const rows = await tx.query<Row>(`select ${COLUMNS} from public.oncall_pagerduty_webhooks where organization_id = $1 order by created_at`, [organizationId]);
    return rows.map((r) => toView(deps, r));
  });
}

export async function deletePagerDutyWebhook(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    const [row] = await tx.query<Row>(`select ${COLUMNS} from public.oncall_pagerduty_webhooks where id = $1`, [id]);
    if (!row) throw notFound('PagerDuty webhook');
    await requireOrgManager(tx, row.organization_id);
    await asServiceRoleWithin(tx, actor, () => tx.query('delete from public.oncall_pagerduty_webhooks where id = $1', [id]));
  });
}

interface V3Event {
  event?: {
    event_type?: string;
    agent?: { id?: string; summary?: string } | null;
    data?: { type?: string; incident_key?: string | null } | null;
  };
}

const EVENTS: Record<string, 'acknowledge' | 'unacknowledge' | 'resolve'> = {
  'incident.acknowledged': 'acknowledge',
  'incident.unacknowledged': 'unacknowledge',
  'incident.resolved': 'resolve',
};
const OURS = /^incident:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** One delivery from PagerDuty: 401 unless signed by the subscription's secret; else 200 (applied or ignored). */
export async function receivePagerDutyWebhook(deps: Pick<Deps, 'db' | 'clock' | 'config'>, id: string, signature: string | null, raw: string): Promise<{ status: 200 | 401; applied: boolean }> {
  const [row] = /^[0-9a-f-]{36}$/i.test(id)
    ? await asServiceRole(deps.db, (tx) =>
        tx.query<{ organization_id: string; signing_secret_ciphertext: string }>('select organization_id, signing_secret_ciphertext from public.oncall_pagerduty_webhooks where id = $1', [id]),
      )
    : [];
  const key = deps.config.exports.encryptionKey;
  const secret = row && key ? await (await createSecretBox(key)).open(row.signing_secret_ciphertext, id).catch(() => null) : null;
  // Verified whatever was found, so an unknown id answers as a bad signature does.
  const verified = await verifyPagerDutyWebhook(secret ?? 'x'.repeat(32), signature, raw);
  if (!row || !secret || !verified.ok) return { status: 401, applied: false };
  let body: V3Event;
  try {
    body = JSON.parse(raw) as V3Event;
  } catch {
    return { status: 200, applied: false };
  }
  const verb = EVENTS[body.event?.event_type ?? ''];
  const ours = OURS.exec(body.event?.data?.incident_key ?? '');
  if (!verb || !ours) return { status: 200, applied: false };
  const agent = body.event?.agent;
  const by = `pagerduty:${(agent?.summary ?? agent?.id ?? 'PagerDuty').slice(0, 200)}`;
  const applied = await asServiceRole(deps.db, async (tx) => {
    const [found] = await tx.query<{ id: string }>('select id from public.incidents where id = $1 and organization_id = $2', [ours[1], row.organization_id]);
    if (!found) return false;
    const seen = await findIncident(tx, found.id);
    await lockIncidentKey(tx, seen.service_id, seen.group_key);
    const current = await findIncident(tx, found.id);
    const event: IncidentEvent = { type: verb, by };
    const step = applyEvent(toCore(current), event, deps.clock.now().getTime());
    if (step.rejected !== null || step.timeline.length === 0) return false;
    return (await writeStep(tx, current, current.policy === null ? withoutPaging(step) : step)) !== null;
  });
  return { status: 200, applied };
}
