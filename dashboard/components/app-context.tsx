'use client';

import type { Session } from '@supabase/supabase-js';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { createClients, errorText, type Clients } from '../lib/api.ts';
import { loadConfig, type DashboardConfig } from '../lib/config.ts';
import { atLeast, type Role } from '../lib/roles.ts';

export interface Organization { id: string; name: string; slug: string; plan: string; role: Role }
export interface Project { id: string; organizationId: string; name: string; slug: string }

export interface AppState {
  config: DashboardConfig;
  clients: Clients;
  session: Session;
  organizations: Organization[];
  projects: Project[];
  organization: Organization | undefined;
  project: Project | undefined;
  role: Role | undefined;
  /** Whether the caller's role is at least `min` in the selected organization. */
  can(min: Role): boolean;
  selectOrganization(id: string): void;
  selectProject(id: string): void;
  /** Reload organizations and projects (after creating one). */
  reload(): Promise<void>;
  error: string | undefined;
}

const Ctx = createContext<AppState | undefined>(undefined);
const ORG_KEY = 'observai.organization';
const PROJECT_KEY = 'observai.project';

/** The signed-in state every page reads: clients, session, the selected organization and project, the caller's role. */
export function useApp(): AppState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useApp outside <AppProvider>');
  return v;
}

/** Boot: config, clients, session. `null` until known; undefined session = signed out. */
export function useBoot(): { config?: DashboardConfig; clients?: Clients; session?: Session | null; error?: string } {
  const [state, setState] = useState<{ config?: DashboardConfig; clients?: Clients; session?: Session | null; error?: string }>({});
  useEffect(() => {
    let unsub: (() => void) | undefined;
    loadConfig()
      .then(async (config) => {
        const clients = sharedClients(config);
        const { data } = await clients.supabase.auth.getSession();
        setState({ config, clients, session: data.session });
        const sub = clients.supabase.auth.onAuthStateChange((_event, session) => setState((s) => ({ ...s, session })));
        unsub = () => sub.data.subscription.unsubscribe();
      })
      .catch((err) => setState({ error: errorText(err) }));
    return () => unsub?.();
  }, []);
  return state;
}

let clientsOnce: Clients | undefined;
function sharedClients(config: DashboardConfig): Clients {
  return (clientsOnce ??= createClients(config));
}

export function AppProvider({ config, clients, session, children }: { config: DashboardConfig; clients: Clients; session: Session; children: ReactNode }) {
  const [organizations, setOrganizations] = useState<Organization[]>([]);
  const [projects, setProjects] = useState<Project[]>([]);
  const [orgId, setOrgId] = useState<string | undefined>(() => localStorage.getItem(ORG_KEY) ?? undefined);
  const [projectId, setProjectId] = useState<string | undefined>(() => localStorage.getItem(PROJECT_KEY) ?? undefined);
  const [error, setError] = useState<string>();
  // A link's `?project=<id>` (a notification's link) wins over the last selection, once: its
  // organization is found among the caller's, and the parameter leaves the address bar so a later
  // switch of project is not undone by a reload.
  const linked = useRef<string | undefined>(new URLSearchParams(window.location.search).get('project') ?? undefined);
  useEffect(() => {
    const url = new URL(window.location.href);
    if (!url.searchParams.has('project')) return;
    url.searchParams.delete('project');
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  }, []);

  const [linkNotice, setLinkNotice] = useState<string>();

  const reload = useCallback(async () => {
    const want = linked.current;
    try {
      const { organizations: orgs } = await clients.api.get('/orgs');
      setOrganizations(orgs as Organization[]);
      let org = orgs.find((o) => o.id === orgId) ?? orgs[0];
      if (!org) return setProjects([]);
      const projectsOf = async (id: string) =>
        (await clients.api.get('/orgs/{orgId}/projects', { params: { path: { orgId: id } } })).projects as Project[];
      let list = await projectsOf(org.id);
      let notice: string | undefined;
      if (want && !list.some((p) => p.id === want)) {
        for (const other of orgs) {
          if (other.id === org.id) continue;
          const l = await projectsOf(other.id);
          if (l.some((p) => p.id === want)) {
            org = other;
            list = l;
            break;
          }
        }
        // Not one of the caller's projects (or gone): say so without telling which.
        if (!list.some((p) => p.id === want)) notice = 'The project in this link is not one of yours (or no longer exists); showing your current project.';
      }
      if (org.id !== orgId) setOrgId(org.id);
      setProjects(list);
      const pick = want && list.some((p) => p.id === want) ? want : list.some((p) => p.id === projectId) ? projectId : list[0]?.id;
      if (pick !== projectId) setProjectId(pick);
      if (want !== undefined) {
        linked.current = undefined;
        setLinkNotice(notice);
      }
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  }, [clients, orgId, projectId]);

  useEffect(() => {
    void reload();
    // Reload when the organization changes; a project change needs no new lists.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [clients, orgId]);
  useEffect(() => {
    if (orgId) localStorage.setItem(ORG_KEY, orgId);
    if (projectId) localStorage.setItem(PROJECT_KEY, projectId);
  }, [orgId, projectId]);

  const organization = organizations.find((o) => o.id === orgId);
  const project = projects.find((p) => p.id === projectId && p.organizationId === orgId);
  const role = organization?.role;
  const value = useMemo<AppState>(
    () => ({
      config, clients, session, organizations, projects, organization, project, role, error: error ?? linkNotice, reload,
      can: (min) => atLeast(role, min),
      selectOrganization: (id) => { setOrgId(id); setProjectId(undefined); setLinkNotice(undefined); },
      selectProject: (id) => { setProjectId(id); setLinkNotice(undefined); },
    }),
    [config, clients, session, organizations, projects, organization, project, role, error, linkNotice, reload],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
