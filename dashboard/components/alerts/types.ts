/** The alerts API's shapes (src/alerts/responses.ts), as the pages use them. */

export interface RuleView {
  id: string;
  projectId: string;
  key: string;
  name: string;
  kind: RuleKind;
  query: Record<string, unknown>;
  condition: { op: Op; critical?: number; warning?: number } | null;
  severity: Severity;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  for: string;
  keepFiringFor: string;
  interval: string;
  delay: string;
  maxInstances: number;
  enabled: boolean;
  health: { lastEvalAt: string | null; lastEvalMs: number | null; lastError: string | null; instancesOverCap: number; nextEvalAt: string };
}

export interface InstanceView {
  fingerprint: string;
  ruleId: string | null;
  source: 'rule' | 'external';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'resolved';
  severity: Severity;
  value: number | null;
  threshold: number | null;
  reason: string | null;
  activeAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  flapping: boolean;
}

export interface TransitionView {
  id: string;
  ruleId: string | null;
  fingerprint: string;
  labels: Record<string, string>;
  fromState: string;
  toState: string;
  severity: Severity;
  value: number | null;
  threshold: number | null;
  reason: string;
  at: string;
}

export interface SilenceView {
  id: string;
  matchers: string[];
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: string | null;
  state: 'pending' | 'active' | 'expired';
}

export type RuleKind = 'metric' | 'nodata' | 'anomaly' | 'log' | 'trace';
export type Severity = 'critical' | 'warning' | 'info';
export type Op = '>' | '>=' | '<' | '<=';

/** `alertname` first, then the rest: how Alertmanager and Grafana show a label set. */
export function labelPairs(labels: Record<string, string>, skip: string[] = []): Array<[string, string]> {
  return Object.entries(labels).filter(([k]) => !skip.includes(k)).sort(([a], [b]) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a.localeCompare(b)));
}

export const fmtTime = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '—';

/** "3m ago", "2h ago": how long ago an ISO time was. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
