/**
 * What the webhook endpoint verbs share: the row users may read and its view (never a secret or a
 * ciphertext), the fetch-or-404 lookup under the caller's claims, the URL check made when an
 * endpoint is saved, the secret box, and the one step some verbs take as the service role.
 */
import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { createSecretBox, requireEncryptionKey, type SecretBox } from '../core/secret-box.ts';
import { toIso as iso } from '../core/time.ts';
import type { Claims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import { canonicalIp, checkAddress, classifyAddress, parseIp } from '../net/address-policy.ts';

/** The columns `authenticated` may read (not the secrets: those are the service role's). */
export const ENDPOINT_COLUMNS = `id, organization_id, project_id, url, description, event_types, rate_limit_per_second, previous_secret_expires_at,
  disabled_at, disabled_reason, failing_since, created_by, created_at, updated_at`;

export interface EndpointRow {
  id: string;
  organization_id: string;
  project_id: string | null;
  url: string;
  description: string;
  event_types: string[];
  rate_limit_per_second: number | null;
  previous_secret_expires_at: Date | null;
  disabled_at: Date | null;
  disabled_reason: string | null;
  failing_since: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** An endpoint as the API shows it; `secretRotation` while a rotated-out secret still signs (at `now`). */
export const toEndpointView = (r: EndpointRow, now: Date) => ({
  id: r.id,
  projectId: r.project_id,
  organizationId: r.organization_id,
  url: r.url,
  description: r.description,
  eventTypes: r.event_types,
  rateLimitPerSecond: r.rate_limit_per_second,
  /** False once the endpoint answered 410 Gone, failed for 5 days, or a user disabled it; PATCH {enabled: true} clears it. */
  enabled: r.disabled_at === null,
  disabledAt: iso(r.disabled_at),
  disabledReason: r.disabled_reason,
  /** The first failed attempt since the last success (an endpoint failing for 5 days is disabled). */
  failingSince: iso(r.failing_since),
  secretRotation:
    r.previous_secret_expires_at !== null && new Date(r.previous_secret_expires_at).getTime() > now.getTime()
      ? { previousExpiresAt: iso(r.previous_secret_expires_at) }
      : null,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
export type EndpointView = ReturnType<typeof toEndpointView>;

/**
 * The endpoint under the caller's claims, or 404. Only owners and admins of its organization (and an
 * admin-scoped API key, for its project's endpoints) can see one, and whoever sees one may manage it
 * (the row policies are the same), so another tenant's id, a viewer's or a member's look like an
 * unknown one.
 */
export async function findEndpoint(tx: Queryable, id: string, opts: { lock?: boolean } = {}): Promise<EndpointRow> {
  const [row] = await tx.query<EndpointRow>(`select ${ENDPOINT_COLUMNS} from public.webhook_endpoints where id = $1${opts.lock ? ' for update' : ''}`, [id]);
  if (!row) throw notFound('Webhook endpoint');
  return row;
}

export const MANAGERS_ONLY = 'Only owners and admins can manage webhook endpoints';

/**
 * A project (already resolved and visible) whose webhook endpoints the caller may manage: its
 * organization's owners and admins, or an admin key of it. 404 when the caller cannot see the
 * project, 403 when they can but may not manage its webhooks (a member, a viewer).
 */
export async function managedProject(tx: Queryable, projectId: string): Promise<{ id: string; organization_id: string }> {
  const [p] = await tx.query<{ id: string; organization_id: string; may_manage: boolean }>(
    `select id, organization_id, (organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
       or id in (select private.key_project_ids('admin'))) as may_manage
     from public.projects where id = $1`,
    [projectId],
  );
  if (!p) throw notFound('Project');
  if (!p.may_manage) throw forbidden(MANAGERS_ONLY);
  return p;
}

/** As managedProject, for an organization's own endpoints: its owners and admins only (an API key is a project's). */
export async function managedOrganization(tx: Queryable, actor: Claims, organizationId: string): Promise<{ id: string }> {
  if (actor.observai_key) throw forbidden("An API key manages only its own project's webhook endpoints; organization endpoints are for owners and admins");
  const [org] = await tx.query<{ id: string; may_manage: boolean }>(
    `select id, id in (select private.org_ids_with_role(array['owner', 'admin'])) as may_manage from public.organizations where id = $1`,
    [organizationId],
  );
  if (!org) throw notFound('Organization');
  if (!org.may_manage) throw forbidden(MANAGERS_ONLY);
  return org;
}

export async function webhookSecretBox(config: Deps['config']): Promise<SecretBox> {
  return createSecretBox(requireEncryptionKey(config, 'Webhooks'));
}

/**
 * The URL passes the outbound guard's URL check (http or https, a host, no credentials) when saved,
 * and an IP literal is judged against the outbound policy at once (`http://169.254.169.254/` is a 400
 * now, not a failed delivery later): a 400 naming the field. A host name is judged at every send,
 * after DNS resolution, inside the guard: a name can resolve somewhere else tomorrow. Returns the URL
 * as parsed (`HTTPS:/host/p` becomes `https://host/p`): that is what is stored and sent.
 */
export function checkEndpointUrl(deps: Pick<Deps, 'outbound' | 'config'>, url: string, field = 'body.url'): string {
  let parsed: URL;
  try {
    parsed = deps.outbound.checkUrl(url);
  } catch (err) {
    // Duck-typed, as the alert notifiers do: importing OutboundError would pull node:http into the edge bundle.
    const e = err as { name?: unknown; kind?: unknown; detail?: unknown; message?: unknown } | null;
    if (e?.name !== 'OutboundError') throw err;
    throw invalid(field, e.kind === 'invalid-url' && typeof e.detail === 'string' ? e.detail : String(e.message));
  }
  const literal = parseIp(parsed.hostname);
  if (!literal) return parsed.href;
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (checkAddress(deps.config.outbound, { host, address: host, port }) === null) return parsed.href;
  const special = classifyAddress(canonicalIp(literal));
  throw invalid(
    field,
    special ? `points at ${host}, which is ${special}: webhooks go to public addresses only` : `uses port ${port}, which this server does not send webhooks to`,
  );
}
