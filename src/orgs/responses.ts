import { z } from 'zod';
import { Role } from './schemas.ts';

/** What the orgs function answers (src/orgs/http/routes.ts); the OpenAPI document is built from these. */

const Time = z.iso.datetime();

export const Organization = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    plan: z.string(),
    /** Shown to owners and admins; null for everyone else. */
    billingEmail: z.string().nullable(),
    /** The caller's role in it. */
    role: Role,
    createdAt: Time,
  })
  .meta({ id: 'Organization' });

export const Member = z
  .object({ userId: z.uuid(), role: Role, email: z.string().nullable(), displayName: z.string().nullable(), joinedAt: Time })
  .meta({ id: 'Member' });

export const Invitation = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    email: z.string(),
    role: Role,
    projectIds: z.array(z.uuid()),
    invitedBy: z.uuid().nullable(),
    status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
    expiresAt: Time,
    createdAt: Time,
  })
  .meta({ id: 'Invitation' });

export const Project = z
  .object({ id: z.uuid(), organizationId: z.uuid(), name: z.string(), slug: z.string(), createdAt: Time, updatedAt: Time })
  .meta({ id: 'Project' });

export const AuditEntry = z
  .object({
    /** The entry's public id (a nextBefore cursor). */
    id: z.string(),
    organizationId: z.uuid(),
    actorId: z.string().nullable(),
    actorType: z.string(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    createdAt: Time,
  })
  .meta({ id: 'AuditEntry' });

export const OrganizationResponse = z.object({ organization: Organization });
export const OrganizationsResponse = z.object({ organizations: z.array(Organization) });
export const MemberResponse = z.object({ member: Member });
export const MembersResponse = z.object({ members: z.array(Member) });
/** The token is in this answer and never again: hand it to the invitee. */
export const InvitationCreated = z.object({ invitation: Invitation, token: z.string() });
export const InvitationResponse = z.object({ invitation: Invitation });
export const InvitationsResponse = z.object({ invitations: z.array(Invitation) });
export const InvitationAccepted = z.object({ organizationId: z.uuid(), member: Member });
export const ProjectResponse = z.object({ project: Project });
export const ProjectsResponse = z.object({ projects: z.array(Project) });
export const AuditLogResponse = z.object({ entries: z.array(AuditEntry), nextBefore: z.string().nullable() });
