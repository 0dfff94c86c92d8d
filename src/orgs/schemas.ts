import { z } from 'zod';
import type { IdCodec } from '../core/id-permutation.ts';

export const Role = z.enum(['owner', 'admin', 'member', 'viewer']);
export type Role = z.infer<typeof Role>;

const Slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2-63 characters of a-z, 0-9 and "-", starting with a letter or digit');
const Name = z.string().trim().min(1).max(200);

export const CreateOrganization = z.strictObject({ name: Name, slug: Slug });
export type CreateOrganization = z.infer<typeof CreateOrganization>;

export const UpdateOrganization = z
  .strictObject({
    name: Name.optional(),
    billingEmail: z.email().nullable().optional(),
    /** A plan id (GET /billing/plans); the same change as PUT /billing/{orgId}/plan. */
    plan: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be a plan id (see GET /functions/v1/billing/plans)').optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'send at least one of name, billingEmail, plan');
export type UpdateOrganization = z.infer<typeof UpdateOrganization>;

export const ChangeMemberRole = z.strictObject({ role: Role });
export type ChangeMemberRole = z.infer<typeof ChangeMemberRole>;

export const CreateInvitation = z.strictObject({
  email: z.email().max(320),
  role: Role,
  projectIds: z.array(z.uuid()).max(100).default([]),
  expiresInDays: z.number().int().min(1).max(30).default(7),
});
export type CreateInvitation = z.infer<typeof CreateInvitation>;

export const AcceptInvitation = z.strictObject({ token: z.string().min(20).max(200) });
export type AcceptInvitation = z.infer<typeof AcceptInvitation>;

export const CreateProject = z.strictObject({ name: Name, slug: Slug });
export type CreateProject = z.infer<typeof CreateProject>;

export const UpdateProject = z.strictObject({ name: Name });
export type UpdateProject = z.infer<typeof UpdateProject>;

export const AuditLogQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** Keyset cursor: the entries after (older than) the entry with this id (a nextBefore). */
  before: z
    .string()
    .regex(/^\d{1,19}$/, 'must be an audit entry id')
    .refine((v) => !/^\d{1,19}$/.test(v) || BigInt(v) < 2n ** 63n, 'must be an audit entry id')
    .optional(),
  action: z.string().max(100).optional(),
});
export type AuditLogQuery = z.infer<typeof AuditLogQuery>;

export const OrgParams = z.object({ orgId: z.uuid() });
export const MemberParams = z.object({ orgId: z.uuid(), userId: z.uuid() });
export const InvitationParams = z.object({ orgId: z.uuid(), invitationId: z.uuid() });
export const ProjectParams = z.object({ orgId: z.uuid(), projectId: z.uuid() });
export const ProjectMemberParams = z.object({ orgId: z.uuid(), projectId: z.uuid(), userId: z.uuid() });

const iso = (d: Date | string | null | undefined) => (d === null || d === undefined ? null : new Date(d).toISOString());

export interface OrganizationRow {
  id: string;
  name: string;
  slug: string;
  plan: string;
  billing_email: string | null;
  created_at: Date;
  role: Role;
}
export const toOrganizationView = (r: OrganizationRow) => ({
  id: r.id,
  name: r.name,
  slug: r.slug,
  plan: r.plan,
  // Billing contact is for those who manage the organization.
  billingEmail: r.role === 'owner' || r.role === 'admin' ? r.billing_email : null,
  role: r.role,
  createdAt: iso(r.created_at),
});

export interface MemberRow {
  user_id: string;
  role: Role;
  email: string | null;
  display_name: string | null;
  created_at: Date;
}
export const toMemberView = (r: MemberRow) => ({
  userId: r.user_id,
  role: r.role,
  email: r.email,
  displayName: r.display_name,
  joinedAt: iso(r.created_at),
});

export interface InvitationRow {
  id: string;
  organization_id: string;
  email: string;
  role: Role;
  project_ids: string[];
  invited_by: string | null;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}
export const INVITATION_COLUMNS = 'id, organization_id, email, role, project_ids, invited_by, expires_at, accepted_at, revoked_at, created_at';
export const toInvitationView = (r: InvitationRow, now: Date) => ({
  id: r.id,
  organizationId: r.organization_id,
  email: r.email,
  role: r.role,
  projectIds: r.project_ids,
  invitedBy: r.invited_by,
  status: r.accepted_at ? 'accepted' : r.revoked_at ? 'revoked' : new Date(r.expires_at) <= now ? 'expired' : 'pending',
  expiresAt: iso(r.expires_at),
  createdAt: iso(r.created_at),
});

export interface ProjectRow {
  id: string;
  organization_id: string;
  name: string;
  slug: string;
  created_at: Date;
  updated_at: Date;
}
export const PROJECT_COLUMNS = 'id, organization_id, name, slug, created_at, updated_at';
export const toProjectView = (r: ProjectRow) => ({
  id: r.id,
  organizationId: r.organization_id,
  name: r.name,
  slug: r.slug,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export interface AuditRow {
  id: string;
  organization_id: string;
  actor_id: string | null;
  actor_type: string;
  action: string;
  target_type: string;
  target_id: string | null;
  details: Record<string, unknown>;
  created_at: Date;
}
/** An entry as the API shows it: its id is the public one (src/db/public-ids.ts), never the identity value. */
export const toAuditView = (r: AuditRow, ids: IdCodec) => ({
  id: ids.toPublic(r.id),
  organizationId: r.organization_id,
  actorId: r.actor_id,
  actorType: r.actor_type,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  details: r.details,
  createdAt: iso(r.created_at),
});
