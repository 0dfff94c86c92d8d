import { z } from 'zod';
import { EscalationPolicy, EscalationTargets } from './escalation.ts';
import { NotificationRules } from './notification-rules.ts';

/** Bounds of the oncall API (documented in docs/API.md). */
export const ONCALL_LIMITS = {
  servicesPerProject: 100,
  policiesPerOrganization: 200,
  incidentsListed: 500,
  noteMaxChars: 4000,
  maxReopenWindowSeconds: 7 * 86_400,
} as const;

export const IdParams = z.object({ id: z.uuid() });

const Name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const CreateService = z.strictObject({
  projectId: z.uuid(),
  name: Name,
  escalationPolicyId: z.uuid().nullable().default(null),
  /** 'severity': from each event's severity (critical, error: high; warning, info: low). */
  urgency: z.enum(['high', 'low', 'severity']).default('high'),
  /** A trigger this soon after a resolve reopens the incident; 0 (PagerDuty's semantics) never does. */
  reopenWindowSeconds: z.number().int('must be whole seconds').min(0).max(ONCALL_LIMITS.maxReopenWindowSeconds).default(0),
});
export type CreateService = z.output<typeof CreateService>;

export const UpdateService = z
  .strictObject({
    name: Name.optional(),
    escalationPolicyId: z.uuid().nullable().optional(),
    urgency: z.enum(['high', 'low', 'severity']).optional(),
    reopenWindowSeconds: z.number().int('must be whole seconds').min(0).max(ONCALL_LIMITS.maxReopenWindowSeconds).optional(),
    /** The email contact point of the service's project that carries pages to people's addresses (null: none). */
    pageEmailVia: z.uuid().nullable().optional(),
    /** The Slack contact point of the service's project that carries pages to people, mentioning them (null: none). */
    pageSlackVia: z.uuid().nullable().optional(),
    /** The SMS and voice contact points of the service's project that text and call people's numbers (null: none). */
    pageSmsVia: z.uuid().nullable().optional(),
    pageVoiceVia: z.uuid().nullable().optional(),
    /** The webhook contact point of the service's project that posts pages to people's own URLs, signed with its secret (null: none). */
    pageWebhookVia: z.uuid().nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one field to change');
export type UpdateService = z.output<typeof UpdateService>;

export const ServicesQuery = z.object({ projectId: z.uuid().optional() });

export const CreatePolicy = z.strictObject({
  organizationId: z.uuid(),
  name: Name,
  policy: EscalationPolicy,
});
export type CreatePolicy = z.output<typeof CreatePolicy>;

export const UpdatePolicy = z.strictObject({ name: Name.optional(), policy: EscalationPolicy.optional() });
export type UpdatePolicy = z.output<typeof UpdatePolicy>;

export const PoliciesQuery = z.object({ organizationId: z.uuid() });

export const IncidentsQuery = z.object({
  projectId: z.uuid().optional(),
  state: z.enum(['open', 'triggered', 'acknowledged', 'resolved']).optional(),
  serviceId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(ONCALL_LIMITS.incidentsListed).default(100),
});
export type IncidentsQuery = z.output<typeof IncidentsQuery>;

export const AddNote = z.strictObject({ text: z.string().trim().min(1, 'must not be empty').max(ONCALL_LIMITS.noteMaxChars) });

/** A Slack member id (U…, or W… on Enterprise Grid), as Slack shows it in a profile. */
const SLACK_MEMBER = /^[UW][A-Z0-9]{2,20}$/;

/**
 * A person's notification rules, as the core validates them, plus what this installation can
 * deliver: a Slack method's address is a member id; webhook methods are not built yet.
 */
export const PutNotificationRules = NotificationRules.superRefine((r, ctx) => {
  r.methods.forEach((m, i) => {
    if (m.kind === 'slack' && !SLACK_MEMBER.test(m.address)) {
      ctx.addIssue({ code: 'custom', path: ['methods', i, 'address'], message: 'must be a Slack member id, e.g. U024BE7LH' });
    }
  });
});
export type PutNotificationRules = z.output<typeof PutNotificationRules>;

/** Snooze: acknowledged until a time within the next 24 hours (then triggered again, from level 1). */
export const SnoozeIncident = z
  .strictObject({
    until: z.iso.datetime({ offset: true }).optional(),
    minutes: z.number().int('must be whole minutes').min(1).max(1440).optional(),
  })
  .refine((b) => (b.until === undefined) !== (b.minutes === undefined), 'give either until or minutes');
export type SnoozeIncident = z.output<typeof SnoozeIncident>;

/** Reassign: these targets take level 1's place for the rest of the incident, paged at once. */
export const ReassignIncident = z.strictObject({ targets: EscalationTargets });

/** MTTA/MTTR over incidents opened in [from, to) (default: the last 30 days; at most 366 days). */
export const IncidentStatsQuery = z
  .object({
    projectId: z.uuid().optional(),
    serviceId: z.uuid().optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to), { path: ['to'], message: 'must be after from' })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.to) - Date.parse(q.from) <= 366 * 86_400_000, {
    path: ['to'],
    message: 'the range is at most 366 days',
  });
export type IncidentStatsQuery = z.output<typeof IncidentStatsQuery>;

export const CreateMaintenance = z.strictObject({
  /** Default now. */
  startsAt: z.iso.datetime({ offset: true }).optional(),
  endsAt: z.iso.datetime({ offset: true }),
  reason: z.string().trim().max(500).optional(),
});
export type CreateMaintenance = z.output<typeof CreateMaintenance>;

export const PutSlackApp = z.strictObject({ organizationId: z.uuid(), signingSecret: z.string().trim().min(1).max(200) });
export const OrganizationQuery = z.object({ organizationId: z.uuid() });

export const CreatePagerDutyWebhook = z.strictObject({
  organizationId: z.uuid(),
  /** The subscription's signing secret, as PagerDuty shows it when the subscription is created. */
  secret: z.string().trim().min(16, 'must be the webhook subscription\'s signing secret').max(200),
  description: z.string().trim().max(200).optional(),
});

export const MergeIncident = z.strictObject({ into: z.uuid() });
