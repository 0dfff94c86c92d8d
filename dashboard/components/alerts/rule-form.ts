import { formatTags } from '../../lib/metrics.ts';
import type { Op, RuleKind, RuleView, Severity } from './types.ts';

/**
 * The rule editor's form state: flat text fields for every kind, turned into the API's RuleSpec
 * (toSpec) and back from a stored rule (fromRule). Query fields the form does not show (a stored
 * rule's tag filters of another operator, say) are kept as they were.
 */
export interface RuleForm {
  key: string;
  name: string;
  kind: RuleKind;
  severity: Severity;
  for: string;
  keepFiringFor: string;
  interval: string;
  labels: string;
  summary: string;
  enabled: boolean;
  // metric and nodata
  metric: string;
  aggregation: string;
  reducer: string;
  groupBy: string;
  filters: string;
  window: string;
  lookback: string;
  // anomaly
  minScore: string;
  // log
  q: string;
  levels: string[];
  services: string;
  logGroupBy: string;
  // trace
  service: string;
  operation: string;
  measure: string;
  minRequests: string;
  // thresholds (metric, log, trace)
  op: Op;
  critical: string;
  warning: string;
  /** The stored query, kept for fields the form does not show. */
  base: Record<string, unknown>;
}

export const KINDS: Array<{ kind: RuleKind; label: string }> = [
  { kind: 'metric', label: 'Metric threshold' },
  { kind: 'nodata', label: 'No data' },
  { kind: 'anomaly', label: 'Anomaly' },
  { kind: 'log', label: 'Log count' },
  { kind: 'trace', label: 'Trace (errors, latency)' },
];
export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const hasThresholds = (k: RuleKind) => k === 'metric' || k === 'log' || k === 'trace';

export function emptyForm(): RuleForm {
  return {
    key: '', name: '', kind: 'metric', severity: 'critical', for: '0s', keepFiringFor: '0s', interval: '1m', labels: '', summary: '', enabled: true,
    metric: '', aggregation: '', reducer: 'avg', groupBy: '', filters: '', window: '5m', lookback: '1d',
    minScore: '0', q: '', levels: ['error'], services: '', logGroupBy: '', service: '', operation: '', measure: 'error_ratio', minRequests: '1',
    op: '>', critical: '', warning: '', base: {},
  };
}

const str = (v: unknown, d = '') => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : d);
const list = (v: unknown) => (Array.isArray(v) ? v.map(String).join(', ') : '');
const splitList = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

export function fromRule(r: RuleView): RuleForm {
  const q = r.query;
  const filters = Array.isArray(q.filters)
    ? (q.filters as Array<{ key: string; op: string; value?: string }>).filter((f) => f.op === '=').map((f) => `${f.key}=${f.value}`).join(', ')
    : '';
  return {
    ...emptyForm(),
    key: r.key, name: r.name, kind: r.kind, severity: r.severity, for: r.for, keepFiringFor: r.keepFiringFor, interval: r.interval, enabled: r.enabled,
    labels: formatTags(r.labels),
    summary: r.annotations.summary ?? '',
    metric: str(q.metric), aggregation: str(q.aggregation), reducer: str(q.reducer, 'avg'), groupBy: list(q.groupBy), filters,
    window: str(q.window, '5m'), lookback: str(q.lookback, '1d'), minScore: str(q.minScore, '0'),
    q: str(q.q), levels: Array.isArray(q.levels) ? (q.levels as string[]) : [], services: list(q.services), logGroupBy: str(q.groupBy && r.kind === 'log' ? q.groupBy : ''),
    service: str(q.service), operation: str(q.operation), measure: str(q.measure, 'error_ratio'), minRequests: str(q.minRequests, '1'),
    op: r.condition?.op ?? '>', critical: r.condition?.critical === undefined ? '' : String(r.condition.critical), warning: r.condition?.warning === undefined ? '' : String(r.condition.warning),
    base: q,
  };
}

/** Number fields: empty is absent; anything else goes as a number, or as typed when not one (the API names it). */
const num = (s: string): number | string | undefined => (s.trim() === '' ? undefined : Number.isFinite(Number(s)) ? Number(s) : s);

function pairs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of splitList(s)) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    else out[part] = '';
  }
  return out;
}

/** The RuleSpec POST /alerts/rules (and the preview) takes. */
export function toSpec(f: RuleForm): Record<string, unknown> {
  const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));
  let query: Record<string, unknown>;
  switch (f.kind) {
    case 'metric': {
      const kept = Array.isArray(f.base.filters) ? (f.base.filters as Array<{ op: string }>).filter((x) => x.op !== '=') : [];
      query = defined({
        metric: f.metric.trim(), aggregation: f.aggregation || undefined, reducer: f.reducer, window: f.window.trim(), groupBy: splitList(f.groupBy),
        filters: [...Object.entries(pairs(f.filters)).map(([key, value]) => ({ key, op: '=', value })), ...kept],
      });
      break;
    }
    case 'nodata':
      query = defined({ metric: f.metric.trim(), window: f.window.trim(), lookback: f.lookback.trim(), groupBy: splitList(f.groupBy), filters: Object.entries(pairs(f.filters)).map(([key, value]) => ({ key, op: '=', value })) });
      break;
    case 'anomaly':
      query = defined({ metric: f.metric.trim() || undefined, minScore: num(f.minScore), tags: f.base.tags });
      break;
    case 'log':
      query = defined({ q: f.q.trim() || undefined, levels: f.levels.length ? f.levels : undefined, services: splitList(f.services).length ? splitList(f.services) : undefined, groupBy: f.logGroupBy.trim() || undefined, window: f.window.trim(), attributes: f.base.attributes });
      break;
    case 'trace':
      query = defined({ service: f.service.trim() || undefined, operation: f.operation.trim() || undefined, measure: f.measure, window: f.window.trim(), minRequests: num(f.minRequests), kind: f.base.kind });
      break;
  }
  return {
    key: f.key.trim(),
    name: f.name.trim(),
    kind: f.kind,
    severity: f.severity,
    for: f.for.trim() || '0s',
    keepFiringFor: f.keepFiringFor.trim() || '0s',
    interval: f.interval.trim() || '1m',
    labels: pairs(f.labels),
    annotations: f.summary.trim() ? { summary: f.summary.trim() } : {},
    enabled: f.enabled,
    query,
    ...(hasThresholds(f.kind) ? { condition: defined({ op: f.op, critical: num(f.critical), warning: num(f.warning) }) } : {}),
  };
}

/**
 * Where an API error belongs: `body.rule.query.metric` -> the form field `query.metric`. Returns the
 * field key the editor shows errors under, or undefined for errors of the request as a whole.
 */
export function fieldOf(apiField: string | undefined): string | undefined {
  if (!apiField) return undefined;
  const f = apiField.replace(/^body\./, '').replace(/^rule\./, '');
  const known = [
    'key', 'name', 'kind', 'severity', 'for', 'keepFiringFor', 'interval', 'labels', 'annotations',
    'query.metric', 'query.aggregation', 'query.reducer', 'query.groupBy', 'query.filters', 'query.window', 'query.lookback', 'query.minScore',
    'query.q', 'query.levels', 'query.services', 'query.service', 'query.operation', 'query.measure', 'query.minRequests',
    'condition.critical', 'condition.warning', 'condition.op', 'condition', 'query', 'from', 'to', 'projectId',
  ];
  return known.filter((k) => f === k || f.startsWith(`${k}.`)).sort((a, b) => b.length - a.length)[0] ?? (f === 'rule' ? undefined : f);
}
