import { assertWithinPlan } from '../billing/plan-limits.ts';
import type { Deps } from '../core/deps.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import { generateWebhookSecret } from '../net/standard-webhooks.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { checkEndpointUrl, ENDPOINT_COLUMNS, type EndpointRow, managedOrganization, managedProject, toEndpointView, webhookSecretBox } from './endpoint-views.ts';
import type { CreateEndpoint } from './schemas.ts';

/**
 * Where the endpoint goes: a project (the one named, or the API key's) or, with organizationId and
 * no projectId, the organization. The caller must own or administer it (or hold an admin key of the
 * project): 404 when they cannot see it at all, 403 when they can but may not manage webhooks.
 */
async function target(tx: Queryable, actor: Claims, keyProjectId: string | undefined, input: CreateEndpoint): Promise<{ organizationId: string; projectId: string | null }> {
  if (input.projectId === undefined && input.organizationId !== undefined) {
    return { organizationId: (await managedOrganization(tx, actor, input.organizationId)).id, projectId: null };
  }
  const p = await managedProject(tx, await resolveProject(tx, input.projectId, keyProjectId, 'body.projectId'));
  if (input.organizationId !== undefined && input.organizationId !== p.organization_id) {
    throw invalid('body.organizationId', "is not the project's organization (give projectId alone for a project endpoint, organizationId alone for an organization one)");
  }
  return { organizationId: p.organization_id, projectId: p.id };
}

/**
 * Adds a webhook endpoint (owners and admins; audited by trigger, without the secret and with the
 * URL reduced to its origin). The URL passes the outbound guard's URL check, the event types the
 * catalogue. The signing secret is generated here, sealed bound to the new row's id (a ciphertext
 * copied to another row does not open), and returned this once: the receiver needs it to verify
 * signatures. At most the organization's plan's webhook endpoints (billing_plans.webhook_endpoints_limit).
 */
export async function createEndpoint(deps: Pick<Deps, 'db' | 'config' | 'outbound' | 'clock'>, actor: Claims, keyProjectId: string | undefined, input: CreateEndpoint) {
  const url = checkEndpointUrl(deps, input.url);
  const box = await webhookSecretBox(deps.config);
  const id = crypto.randomUUID();
  const secret = generateWebhookSecret();
  const sealed = await box.seal(secret, id);
  const row = await withClaims(deps.db, actor, async (tx) => {
    const where = await target(tx, actor, keyProjectId, input);
    // The organization's plan limits its endpoints (serialised per organization, counted as the
    // service role: an admin key sees only its project's endpoints, the limit is the organization's).
    await assertWithinPlan(tx, actor, where.organizationId, 'webhookEndpoints', 'body');
    // Users hold no insert grant: the checks above are what a row policy cannot do (the URL, the
    // catalogue, the organization's limit, a secret generated here), so the insert is the service
    // role's, on the caller's behalf (the audit row names them).
    const [inserted] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<EndpointRow>(
        `insert into public.webhook_endpoints (id, organization_id, project_id, url, description, event_types, rate_limit_per_second,
           secret_ciphertext, disabled_at, disabled_reason)
         values ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, case when $9::timestamptz is null then null else 'Disabled by a user' end)
         returning ${ENDPOINT_COLUMNS}`,
        [id, where.organizationId, where.projectId, url, input.description, input.eventTypes, input.rateLimitPerSecond, sealed, input.enabled ? null : deps.clock.now()],
      ),
    );
    return inserted!;
  });
  return { endpoint: toEndpointView(row, deps.clock.now()), secret };
}
