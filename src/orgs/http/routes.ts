import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { actorClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { acceptInvitation } from '../accept-invitation.ts';
import { assignProjectMember } from '../assign-project-member.ts';
import { changeMemberRole } from '../change-member-role.ts';
import { createInvitation } from '../create-invitation.ts';
import { createOrganization } from '../create-organization.ts';
import { createProject } from '../create-project.ts';
import { deleteOrganization } from '../delete-organization.ts';
import { deleteProject } from '../delete-project.ts';
import { getOrganization } from '../get-organization.ts';
import { getProject } from '../get-project.ts';
import { listAuditLog } from '../list-audit-log.ts';
import { listInvitations } from '../list-invitations.ts';
import { listMembers } from '../list-members.ts';
import { listOrganizations } from '../list-organizations.ts';
import { listProjectMembers } from '../list-project-members.ts';
import { listProjects } from '../list-projects.ts';
import { removeMember } from '../remove-member.ts';
import { revokeInvitation } from '../revoke-invitation.ts';
import { unassignProjectMember } from '../unassign-project-member.ts';
import { updateOrganization } from '../update-organization.ts';
import { updateProject } from '../update-project.ts';
import {
  AcceptInvitation,
  AuditLogQuery,
  ChangeMemberRole,
  CreateInvitation,
  CreateOrganization,
  CreateProject,
  InvitationParams,
  MemberParams,
  OrgParams,
  ProjectMemberParams,
  ProjectParams,
  UpdateOrganization,
  UpdateProject,
} from '../schemas.ts';
import {
  AuditLogResponse,
  InvitationAccepted,
  InvitationCreated,
  InvitationResponse,
  InvitationsResponse,
  MemberResponse,
  MembersResponse,
  OrganizationResponse,
  OrganizationsResponse,
  ProjectResponse,
  ProjectsResponse,
} from '../responses.ts';

/** Every orgs route is for signed-in users; RLS and the verbs decide which role may do what. */
const doc = (summary: string, rest: Omit<Parameters<typeof describe>[0], 'summary' | 'auth'>) => describe({ summary, auth: ['user'], ...rest });

/** The orgs function: organizations, members, invitations, projects, assignments, audit log. Users only. */
export function orgsRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', doc('Create an organization (the caller becomes its owner)', { body: CreateOrganization, responses: { 201: OrganizationResponse } }), async (c) => c.json({ organization: await createOrganization(deps, actorClaims(c), await parseBody(c, CreateOrganization)) }, 201));
  app.get('/', doc("The caller's organizations", { responses: { 200: OrganizationsResponse } }), async (c) => c.json({ organizations: await listOrganizations(deps, actorClaims(c)) }));
  // Static path before /:orgId routes.
  app.post('/invitations/accept', doc('Accept an invitation with its token', { body: AcceptInvitation, responses: { 200: InvitationAccepted } }), async (c) => {
    const actor = actorClaims(c);
    return c.json(await acceptInvitation(deps, actor, (await parseBody(c, AcceptInvitation)).token));
  });

  app.get('/:orgId', doc('Get an organization', { params: OrgParams, responses: { 200: OrganizationResponse } }), async (c) => c.json({ organization: await getOrganization(deps, actorClaims(c), parseParams(c, OrgParams).orgId) }));
  app.patch('/:orgId', doc('Change name, billing email or plan (owners; admins all but billing)', { params: OrgParams, body: UpdateOrganization, responses: { 200: OrganizationResponse } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId } = parseParams(c, OrgParams);
    return c.json({ organization: await updateOrganization(deps, actor, orgId, await parseBody(c, UpdateOrganization)) });
  });
  app.delete('/:orgId', doc('Delete an organization and everything in it (owners)', { params: OrgParams, responses: { 204: null } }), async (c) => {
    await deleteOrganization(deps, actorClaims(c), parseParams(c, OrgParams).orgId);
    return c.body(null, 204);
  });

  app.get('/:orgId/members', doc("An organization's members", { params: OrgParams, responses: { 200: MembersResponse } }), async (c) => c.json({ members: await listMembers(deps, actorClaims(c), parseParams(c, OrgParams).orgId) }));
  app.patch('/:orgId/members/:userId', doc("Change a member's role", { params: MemberParams, body: ChangeMemberRole, responses: { 200: MemberResponse } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId, userId } = parseParams(c, MemberParams);
    const { role } = await parseBody(c, ChangeMemberRole);
    return c.json({ member: await changeMemberRole(deps, actor, orgId, userId, role) });
  });
  app.delete('/:orgId/members/:userId', doc('Remove a member', { params: MemberParams, responses: { 204: null } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId, userId } = parseParams(c, MemberParams);
    await removeMember(deps, actor, orgId, userId);
    return c.body(null, 204);
  });

  app.post('/:orgId/invitations', doc('Invite someone by email; the token is shown once', { params: OrgParams, body: CreateInvitation, responses: { 201: InvitationCreated } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId } = parseParams(c, OrgParams);
    return c.json(await createInvitation(deps, actor, orgId, await parseBody(c, CreateInvitation)), 201);
  });
  app.get('/:orgId/invitations', doc("An organization's invitations", { params: OrgParams, responses: { 200: InvitationsResponse } }), async (c) => c.json({ invitations: await listInvitations(deps, actorClaims(c), parseParams(c, OrgParams).orgId) }));
  app.post('/:orgId/invitations/:invitationId/revoke', doc('Revoke an invitation', { params: InvitationParams, responses: { 200: InvitationResponse } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId, invitationId } = parseParams(c, InvitationParams);
    return c.json({ invitation: await revokeInvitation(deps, actor, orgId, invitationId) });
  });

  app.post('/:orgId/projects', doc('Create a project', { params: OrgParams, body: CreateProject, responses: { 201: ProjectResponse } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId } = parseParams(c, OrgParams);
    return c.json({ project: await createProject(deps, actor, orgId, await parseBody(c, CreateProject)) }, 201);
  });
  app.get('/:orgId/projects', doc("An organization's projects the caller can see", { params: OrgParams, responses: { 200: ProjectsResponse } }), async (c) => c.json({ projects: await listProjects(deps, actorClaims(c), parseParams(c, OrgParams).orgId) }));
  app.get('/:orgId/projects/:projectId', doc('Get a project', { params: ProjectParams, responses: { 200: ProjectResponse } }), async (c) => {
    const { orgId, projectId } = parseParams(c, ProjectParams);
    return c.json({ project: await getProject(deps, actorClaims(c), orgId, projectId) });
  });
  app.patch('/:orgId/projects/:projectId', doc('Rename a project', { params: ProjectParams, body: UpdateProject, responses: { 200: ProjectResponse } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId, projectId } = parseParams(c, ProjectParams);
    return c.json({ project: await updateProject(deps, actor, orgId, projectId, await parseBody(c, UpdateProject)) });
  });
  app.delete('/:orgId/projects/:projectId', doc('Delete a project and its telemetry', { params: ProjectParams, responses: { 204: null } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId, projectId } = parseParams(c, ProjectParams);
    await deleteProject(deps, actor, orgId, projectId);
    return c.body(null, 204);
  });

  app.get('/:orgId/projects/:projectId/members', doc('Members assigned to a project', { params: ProjectParams, responses: { 200: MembersResponse } }), async (c) => {
    const { orgId, projectId } = parseParams(c, ProjectParams);
    return c.json({ members: await listProjectMembers(deps, actorClaims(c), orgId, projectId) });
  });
  app.put('/:orgId/projects/:projectId/members/:userId', doc('Assign a member to a project', { params: ProjectMemberParams, responses: { 204: null } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId, projectId, userId } = parseParams(c, ProjectMemberParams);
    await assignProjectMember(deps, actor, orgId, projectId, userId);
    return c.body(null, 204);
  });
  app.delete('/:orgId/projects/:projectId/members/:userId', doc('Unassign a member from a project', { params: ProjectMemberParams, responses: { 204: null } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId, projectId, userId } = parseParams(c, ProjectMemberParams);
    await unassignProjectMember(deps, actor, orgId, projectId, userId);
    return c.body(null, 204);
  });

  app.get('/:orgId/audit-log', doc("An organization's audit log, newest first (owners and admins)", { params: OrgParams, query: AuditLogQuery, responses: { 200: AuditLogResponse } }), async (c) => {
    const actor = actorClaims(c);
    const { orgId } = parseParams(c, OrgParams);
    return c.json(await listAuditLog(deps, actor, orgId, parseQuery(c, AuditLogQuery)));
  });

  return app;
}
