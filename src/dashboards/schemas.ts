import { z } from 'zod';
import { LOG_LEVELS } from '../logs/schemas.ts';
import { compileSearch, SearchSyntaxError } from '../logs/search-syntax.ts';
import { AGGREGATIONS, QUERY_LIMITS, SeriesQuery, TagFilter } from '../metrics/schemas.ts';

/**
 * Saved dashboards: what a dashboard holds and the bounds on it (documented in docs/API.md). The
 * queries panels carry are those of the APIs the dashboard draws them with: a timeseries or stat
 * panel's query is a metrics query of POST /metrics/query without its time range (the dashboard's
 * time range fills it in), a logs panel's is a log search of GET /logs/search, a traces panel's a
 * trace search of GET /logs/traces.
 */
export const DASHBOARD_LIMITS = {
  panelsPerDashboard: 50,
  /** Bytes of the panels as compact JSON (the database allows twice this as jsonb text). */
  maxPanelBytes: 256 * 1024,
  queriesPerPanel: 10,
  variablesPerDashboard: 20,
  dashboardsPerProject: 500,
  /** The grid is 24 columns wide, as Grafana's. */
  gridColumns: 24,
  maxGridRow: 10_000,
  maxPanelHeight: 100,
} as const;

/** The version of the export format; an import of another version is a 400. */
export const EXPORT_FORMAT_VERSION = 1;

const Title = z.string().trim().min(1, 'must not be empty').max(200);
const Description = z.string().max(2000);
const PanelId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');
const Unit = z.string().min(1).max(50);

/** Where a panel sits on the 24-column grid: x and w in columns, y and h in rows. */
export const GridPos = z
  .strictObject({
    x: z.number().int().min(0).max(DASHBOARD_LIMITS.gridColumns - 1),
    y: z.number().int().min(0).max(DASHBOARD_LIMITS.maxGridRow),
    w: z.number().int().min(1).max(DASHBOARD_LIMITS.gridColumns),
    h: z.number().int().min(1).max(DASHBOARD_LIMITS.maxPanelHeight),
  })
  .refine((g) => g.x + g.w <= DASHBOARD_LIMITS.gridColumns, { message: `x + w must be at most ${DASHBOARD_LIMITS.gridColumns}`, path: ['w'] });

/** A metrics query of POST /metrics/query, without its time range. */
export const MetricPanelQuery = z.strictObject({
  /** Names the series in the legend; unique within the panel. */
  id: SeriesQuery.shape.id,
  metric: SeriesQuery.shape.metric,
  filters: z.array(TagFilter).max(QUERY_LIMITS.maxFilters).default([]),
  groupBy: z.array(z.string().min(1).max(100)).max(QUERY_LIMITS.maxGroupBy).default([]),
  aggregation: z.enum(AGGREGATIONS).optional(),
  step: SeriesQuery.shape.step,
  maxPoints: z.number().int().min(1).max(QUERY_LIMITS.maxPointsPerSeries).optional(),
});

/** A log search's text, compiled here so a search GET /logs/search would refuse is a 400 when saved. */
const LogSearchText = z
  .string()
  .max(1000)
  .superRefine((q, ctx) => {
    if (q.trim() === '') return;
    try {
      compileSearch(q);
    } catch (err) {
      if (!(err instanceof SearchSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', message: `not a valid log search: ${err.message}` });
    }
  });

/** The filters of GET /logs/search, as JSON arrays instead of comma-separated lists. */
export const LogPanelQuery = z.strictObject({
  q: LogSearchText.optional(),
  level: z.array(z.enum(LOG_LEVELS)).min(1).max(LOG_LEVELS.length).optional(),
  minLevel: z.enum(LOG_LEVELS).optional(),
  service: z.array(z.string().min(1).max(200)).min(1).max(50).optional(),
  has: z.array(z.string().min(1).max(200)).min(1).max(10).optional(),
});

/** The filters of GET /logs/traces (the trace search). */
export const TracePanelQuery = z
  .strictObject({
    service: z.string().min(1).max(200).optional(),
    operation: z.string().min(1).max(200).optional(),
    minDurationMs: z.number().finite().nonnegative().optional(),
    maxDurationMs: z.number().finite().nonnegative().optional(),
    status: z.enum(['error', 'ok', 'unset']).optional(),
  })
  .refine((q) => q.minDurationMs === undefined || q.maxDurationMs === undefined || q.maxDurationMs >= q.minDurationMs, {
    message: 'must be at least minDurationMs',
    path: ['maxDurationMs'],
  });

const common = {
  /** Unique within the dashboard; assigned (`p1`, `p2`...) when absent. */
  id: PanelId.optional(),
  title: Title,
  description: Description.optional(),
  gridPos: GridPos,
};

const Threshold = z.strictObject({ value: z.number().finite(), color: z.enum(['green', 'yellow', 'orange', 'red', 'blue', 'purple', 'grey']) });

export const Panel = z
  .discriminatedUnion('kind', [
    z.strictObject({
      ...common,
      kind: z.literal('timeseries'),
      queries: z.array(MetricPanelQuery).min(1).max(DASHBOARD_LIMITS.queriesPerPanel),
      unit: Unit.optional(),
      stacked: z.boolean().default(false),
    }),
    z.strictObject({
      ...common,
      kind: z.literal('stat'),
      /** One number: the query's series (no group by) reduced over the time range. */
      query: MetricPanelQuery.omit({ groupBy: true }),
      reducer: z.enum(['last', 'avg', 'min', 'max', 'sum']).default('last'),
      unit: Unit.optional(),
      /** Colours from a value up, ascending. */
      thresholds: z.array(Threshold).max(10).default([]),
    }),
    z.strictObject({
      ...common,
      kind: z.literal('logs'),
      query: LogPanelQuery,
      limit: z.number().int().min(1).max(1000).default(100),
    }),
    z.strictObject({
      ...common,
      kind: z.literal('traces'),
      query: TracePanelQuery,
      limit: z.number().int().min(1).max(100).default(20),
    }),
  ]);
export type Panel = z.output<typeof Panel>;

/** A template variable: the values of one tag of one metric, which panels name as `$name` in filter values. */
export const Variable = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be 1-64 letters, digits and _, not starting with a digit'),
    label: z.string().min(1).max(200).optional(),
    metric: SeriesQuery.shape.metric,
    tagKey: z.string().min(1).max(100),
    multi: z.boolean().default(false),
    /** Values picked when the dashboard opens; none: every value. */
    default: z.array(z.string().max(1000)).max(100).default([]),
  });

/** `now`, `now-15m`, `now-24h`, `now-7d`, `now-2w`, or an ISO 8601 time. */
const TimePoint = z.union([
  z.string().regex(/^now(-[1-9][0-9]{0,5}[smhdw])?$/, 'must be now, now-<n><s|m|h|d|w>, or an ISO 8601 time'),
  z.iso.datetime({ offset: true }),
]);

export const TimeRange = z
  .strictObject({
    from: TimePoint,
    to: TimePoint,
    /** Seconds between automatic refreshes; absent: none. */
    refreshSeconds: z.number().int().min(5).max(86_400).optional(),
  });
export type TimeRange = z.output<typeof TimeRange>;

export const DEFAULT_TIME_RANGE: TimeRange = { from: 'now-6h', to: 'now' };

export const Visibility = z.enum(['private', 'organization']);
export type Visibility = z.infer<typeof Visibility>;

/**
 * What a dashboard holds, as created, replaced, exported and imported. Panel ids must be unique;
 * the byte bound on the panels is checked by dashboardValues (it needs the parsed panels).
 */
const contentShape = {
  title: Title,
  description: Description.default(''),
  panels: z.array(Panel).max(DASHBOARD_LIMITS.panelsPerDashboard, `a dashboard has at most ${DASHBOARD_LIMITS.panelsPerDashboard} panels`).default([]),
  variables: z.array(Variable).max(DASHBOARD_LIMITS.variablesPerDashboard, `a dashboard has at most ${DASHBOARD_LIMITS.variablesPerDashboard} variables`).default([]),
  time: TimeRange.default(DEFAULT_TIME_RANGE),
};

function uniqueIds(d: { panels: Array<{ id?: string | undefined }>; variables: Array<{ name: string }> }, ctx: z.RefinementCtx) {
  const ids = new Set<string>();
  d.panels.forEach((p, i) => {
    if (p.id === undefined) return;
    if (ids.has(p.id)) ctx.addIssue({ code: 'custom', message: `panel id '${p.id}' is used twice`, path: ['panels', i, 'id'] });
    ids.add(p.id);
  });
  const names = new Set<string>();
  d.variables.forEach((v, i) => {
    if (names.has(v.name)) ctx.addIssue({ code: 'custom', message: `variable '${v.name}' is defined twice`, path: ['variables', i, 'name'] });
    names.add(v.name);
  });
}

export const DashboardContent = z.strictObject(contentShape).superRefine(uniqueIds);
export type DashboardContent = z.output<typeof DashboardContent>;

export const CreateDashboard = z
  .strictObject({ projectId: z.uuid(), visibility: Visibility.default('organization'), ...contentShape })
  .superRefine(uniqueIds);
export type CreateDashboard = z.output<typeof CreateDashboard>;

/** A replace: the whole dashboard, and the version it was read at (a stale one is a 409). */
export const ReplaceDashboard = z
  .strictObject({ version: z.number().int().min(1), visibility: Visibility.default('organization'), ...contentShape })
  .superRefine(uniqueIds);
export type ReplaceDashboard = z.output<typeof ReplaceDashboard>;

/** The portable form (GET /:id/export): the content without ids, tenancy, versions or times. */
export const DashboardExport = z
  .strictObject({ format: z.literal('observai.dashboard'), formatVersion: z.literal(EXPORT_FORMAT_VERSION), ...contentShape })
  .superRefine(uniqueIds);
export type DashboardExport = z.output<typeof DashboardExport>;

export const ImportDashboard = z.strictObject({
  projectId: z.uuid(),
  visibility: Visibility.default('organization'),
  /** A title for the copy; absent: the exported one. */
  title: Title.optional(),
  dashboard: DashboardExport,
});
export type ImportDashboard = z.output<typeof ImportDashboard>;

// The request schemas carry no OpenAPI id: their input form (defaults optional) differs from the
// answers' output form, which src/dashboards/responses.ts names.

export const DashboardParams = z.object({ id: z.uuid() });
export const ProjectQuery = z.strictObject({ projectId: z.uuid().optional() });
