import { z } from 'zod';
import { DashboardExport, Panel, TimeRange, Variable, Visibility } from './schemas.ts';

/**
 * What the dashboards routes answer (src/dashboards/http/routes.ts); the OpenAPI document is built
 * from these. Each follows the view function named beside it (src/dashboards/dashboard-views.ts).
 */

const Time = z.iso.datetime();

// The request schemas as answers give them (defaults filled in), named for the OpenAPI document.
const PanelView = Panel.meta({ id: 'DashboardPanel' });
const VariableView = Variable.meta({ id: 'DashboardVariable' });
const TimeRangeView = TimeRange.meta({ id: 'DashboardTimeRange' });

/** toDashboardSummary */
const summaryShape = {
  id: z.uuid(),
  projectId: z.uuid(),
  title: z.string(),
  description: z.string(),
  visibility: Visibility,
  panelCount: z.number().int().min(0),
  /** Goes up by one at every change; a replace names the version it read. */
  version: z.number().int().min(1),
  /** Null once the creator's account is deleted. */
  createdBy: z.uuid().nullable(),
  /** Whether the caller may change or delete it (its creator while they may change the project, owners, admins). */
  canEdit: z.boolean(),
  createdAt: Time,
  updatedAt: Time,
};

export const DashboardSummary = z.object(summaryShape).meta({ id: 'DashboardSummary' });

/** toDashboardView */
export const Dashboard = z
  .object({ ...summaryShape, panels: z.array(PanelView), variables: z.array(VariableView), time: TimeRangeView })
  .meta({ id: 'Dashboard' });

export const DashboardsResponse = z.object({ dashboards: z.array(DashboardSummary) });
export const DashboardResponse = z.object({ dashboard: Dashboard });
/** toDashboardExport: the document itself, as POST /import takes it in `dashboard`. */
export const DashboardExportResponse = DashboardExport.meta({ id: 'DashboardExport' });
