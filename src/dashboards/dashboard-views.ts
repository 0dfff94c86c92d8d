import { toIso } from '../core/time.ts';
import { invalid } from '../http/validate.ts';
import { DASHBOARD_LIMITS, type DashboardContent, type DashboardExport, EXPORT_FORMAT_VERSION, type Panel, type TimeRange, type Visibility } from './schemas.ts';

/**
 * Dashboards between the API and public.dashboards: the columns, the views the API shows (a summary
 * in lists, the whole dashboard on its own), the portable export, and the values a create, replace
 * or import writes.
 */

/**
 * `can_edit` asks the question the update policy asks, with the same helpers, so a client can hide
 * edit controls; RLS still decides every write.
 */
export const DASHBOARD_COLUMNS = `id, project_id, organization_id, title, description, panels, variables, time_range, visibility, version, created_by,
  created_at, updated_at,
  coalesce((created_by = (select auth.uid()) and project_id in (select private.writable_project_ids()))
           or organization_id in (select private.org_ids_with_role(array['owner', 'admin'])), false) as can_edit`;

export interface DashboardRow {
  id: string;
  project_id: string;
  organization_id: string;
  title: string;
  description: string;
  panels: Panel[];
  variables: DashboardContent['variables'];
  time_range: TimeRange;
  visibility: Visibility;
  version: number;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  can_edit: boolean;
}

export function toDashboardSummary(r: DashboardRow) {
  return {
    id: r.id,
    projectId: r.project_id,
    title: r.title,
    description: r.description,
    visibility: r.visibility,
    panelCount: r.panels.length,
    version: r.version,
    createdBy: r.created_by,
    canEdit: r.can_edit,
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
}

export function toDashboardView(r: DashboardRow) {
  return { ...toDashboardSummary(r), panels: r.panels, variables: r.variables, time: r.time_range };
}

export function toDashboardExport(r: DashboardRow): DashboardExport {
  return {
    format: 'observai.dashboard',
    formatVersion: EXPORT_FORMAT_VERSION,
    title: r.title,
    description: r.description,
    panels: r.panels,
    variables: r.variables,
    time: r.time_range,
  };
}

/** What a write stores, in the order of DASHBOARD_VALUE_SQL's parameters. */
export type DashboardValues = [title: string, description: string, panels: string, variables: string, timeRange: string, visibility: Visibility];

/**
 * The columns of a dashboard's content: panels without an id get the first free `p<n>`, and panels
 * past DASHBOARD_LIMITS.maxPanelBytes of JSON are a 400 naming `field` (where the panels sit in the
 * request: `body.panels`, `body.dashboard.panels`).
 */
export function dashboardValues(content: DashboardContent, visibility: Visibility, field: string): DashboardValues {
  const taken = new Set(content.panels.flatMap((p) => (p.id === undefined ? [] : [p.id])));
  let n = 0;
  const panels = content.panels.map((p) => {
    if (p.id !== undefined) return p;
    let id: string;
    do id = `p${++n}`;
    while (taken.has(id));
    taken.add(id);
    return { ...p, id };
  });
  const panelsJson = JSON.stringify(panels);
  const bytes = new TextEncoder().encode(panelsJson).length;
  if (bytes > DASHBOARD_LIMITS.maxPanelBytes) {
    throw invalid(field, `must be at most ${DASHBOARD_LIMITS.maxPanelBytes} bytes of JSON (these panels are ${bytes})`);
  }
  return [content.title, content.description, panelsJson, JSON.stringify(content.variables), JSON.stringify(content.time), visibility];
}
