import type { components } from '../../../packages/sdk/src/api-types.ts';

/** The saved-dashboard shapes, as the OpenAPI document names them (GET /metrics/dashboards/{id}). */
export type Dashboard = components['schemas']['Dashboard'];
export type DashboardSummary = components['schemas']['DashboardSummary'];
export type Panel = components['schemas']['DashboardPanel'];
export type TimeseriesPanel = Extract<Panel, { kind: 'timeseries' }>;
export type MetricPanelQuery = TimeseriesPanel['queries'][number];

/** `now`, `now-6h`, an ISO time -> epoch ms at `now`. */
export function timePoint(p: string, now = Date.now()): number {
  if (p === 'now') return now;
  const m = /^now-(\d+)([smhdw])$/.exec(p);
  if (m) return now - Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Date.parse(p);
}

/** The first free row below every panel: where a new panel goes. */
export function nextRow(panels: Panel[]): number {
  return panels.reduce((y, p) => Math.max(y, p.gridPos.y + p.gridPos.h), 0);
}
