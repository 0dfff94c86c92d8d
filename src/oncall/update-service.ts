import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import type { UpdateService } from './schemas.ts';
import { findService, requireOrgManager, SERVICE_COLUMNS, type ServiceRow, toServiceView } from './views.ts';

/**
 * Changes a service (owners and admins): its name, policy, urgency, reopen window, and the contact
 * points of its project that carry pages to people (email, Slack, SMS, voice, webhook). Written under the caller's claims:
 * the column grants and the update policy are the Data API's own, the composite foreign keys keep
 * the policy in the organization and the carriers in the project; the kinds are checked here so a
 * Slack contact point never carries email.
 */
export async function updateService(deps: Pick<Deps, 'db'>, actor: Claims, id: string, input: UpdateService) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    const seen = await findService(tx, id);
    await requireOrgManager(tx, seen.organization_id);
    if (input.escalationPolicyId != null) {
      const [policy] = await tx.query('select 1 from public.escalation_policies where id = $1 and organization_id = $2', [input.escalationPolicyId, seen.organization_id]);
      if (!policy) throw invalid('body.escalationPolicyId', "is not an escalation policy of the service's organization");
    }
    for (const [field, kind] of [['pageEmailVia', 'email'], ['pageSlackVia', 'slack'], ['pageSmsVia', 'sms'], ['pageVoiceVia', 'voice'], ['pageWebhookVia', 'webhook']] as const) {
      const cp = input[field];
      if (cp == null) continue;
      const [found] = await tx.query<{ kind: string }>('select kind from public.contact_points where id = $1 and project_id = $2', [cp, seen.project_id]);
      if (!found) throw invalid(`body.${field}`, "is not a contact point of the service's project");
      if (found.kind !== kind) throw invalid(`body.${field}`, `must be a ${kind} contact point (this one is ${found.kind})`);
    }
    const sets: string[] = [];
    const values: unknown[] = [id];
    const set = (column: string, value: unknown) => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    if (input.name !== undefined) set('name', input.name);
    if (input.escalationPolicyId !== undefined) set('escalation_policy_id', input.escalationPolicyId);
    if (input.urgency !== undefined) set('urgency', input.urgency);
    if (input.reopenWindowSeconds !== undefined) set('reopen_window_seconds', input.reopenWindowSeconds);
    if (input.pageEmailVia !== undefined) set('page_email_via', input.pageEmailVia);
    if (input.pageSlackVia !== undefined) set('page_slack_via', input.pageSlackVia);
    if (input.pageSmsVia !== undefined) set('page_sms_via', input.pageSmsVia);
    if (input.pageVoiceVia !== undefined) set('page_voice_via', input.pageVoiceVia);
    if (input.pageWebhookVia !== undefined) set('page_webhook_via', input.pageWebhookVia);
    if (sets.length === 0) return seen;
    const [updated] = await tx.query<ServiceRow>(`update public.oncall_services set ${sets.join(', ')} where id = $1 returning ${SERVICE_COLUMNS}`, values);
    return updated!;
  });
  return toServiceView(row);
}
