import { listEpisodes } from '../anomalies/list-episodes.ts';
import type { Deps } from '../core/deps.ts';
import type { Claims } from '../db/scoped.ts';
import { countLogs, MAX_COUNT_GROUPS } from '../logs/count-logs.ts';
import { queryMetrics } from '../metrics/query-metrics.ts';
import type { QueryResult, SeriesQuery, SeriesResult } from '../metrics/schemas.ts';
import { TRACE_LIMITS, type StatsRow } from '../traces/schemas.ts';
import { getServiceStats } from '../traces/service-stats.ts';
import { formatDuration } from './durations.ts';
import type { Observation } from './instances.ts';
import type { Labels, Severity } from './model.ts';
import type { EvalRule } from './rule-store.ts';
import { hasThresholds, RuleSpec, type Thresholds } from './schemas.ts';

/**
 * What one evaluation of a rule observed: one sample per group (its group labels and observation).
 * Each kind asks the domain that owns the data through that domain's own query verb (the metrics
 * query, the anomaly episodes, the log count, the trace statistics), under the service role scoped to the rule's project: no copy of their
 * SQL lives here.
 */
export interface Sample {
  group: Labels;
  obs: Observation;
}

export interface RuleResult {
  samples: Sample[];
  /** Groups the query left out (its own series cap): counted with the rule's instances over cap. */
  truncated: number;
}

const SERVICE: Claims = { role: 'service_role' };
const MINUTE = 60_000;

/**
 * Query results shared by the rules of one evaluation run: rules that ask the same question (a
 * warning and a critical rule over one query, say) read it once.
 */
export type QueryMemo = Map<string, Promise<QueryResult[]>>;

export async function evaluateRule(deps: Pick<Deps, 'db'>, rule: EvalRule, now: number, memo: QueryMemo = new Map()): Promise<RuleResult> {
  const metricsQuery = (request: { projectId: string; queries: SeriesQuery[] }): Promise<QueryResult[]> => {
    const key = JSON.stringify(request);
    let answer = memo.get(key);
    if (!answer) {
      answer = queryMetrics(deps, SERVICE, rule.projectId, request);
      memo.set(key, answer);
      answer.catch(() => memo.delete(key)); // a failure is this rule's to report, not the next one's
    }
    return answer;
  };
  const spec = RuleSpec.parse(specOf(rule));
  const end = now - rule.delayMs;
  switch (spec.kind) {
    case 'metric': {
      const q = spec.query;
      const [result] = await metricsQuery({
        projectId: rule.projectId,
        queries: [
          {
            metric: q.metric,
            filters: q.filters,
            groupBy: q.groupBy,
            aggregation: q.aggregation,
            ...minuteWindow(end, q.window),
            maxPoints: Math.ceil(q.window / MINUTE) + 1,
          },
        ],
      });
      const label = `${q.reducer}(${q.aggregation ?? 'avg'} ${q.metric}) over ${formatDuration(q.window)}`;
      return {
        samples: result!.series.flatMap((s) => {
          const value = reduce(s, q.reducer);
          return value === null ? [] : [{ group: asLabels(s.tags), obs: compare(value, spec.condition, label) }];
        }),
        truncated: result!.truncated ? 1 : 0,
      };
    }
    case 'nodata': {
      const q = spec.query;
      const base = { metric: q.metric, filters: q.filters, groupBy: q.groupBy, aggregation: 'count' as const };
      const [recent, known] = await metricsQuery({
        projectId: rule.projectId,
        queries: [
          { ...base, ...minuteWindow(end, q.window), maxPoints: Math.ceil(q.window / MINUTE) + 1 },
          { ...base, ...minuteWindow(end, q.lookback), maxPoints: 24 },
        ],
      });
      const key = (tags: Labels) => JSON.stringify(Object.entries(tags).sort());
      const reporting = new Set(recent!.series.filter((s) => s.points.some(([, v]) => v !== null && v > 0)).map((s) => key(s.tags)));
      const silent = `no data for ${formatDuration(q.window)}`;
      const expected: Labels[] = q.groupBy.length === 0 ? [{}] : known!.series.filter((s) => s.points.some(([, v]) => v !== null && v > 0)).map((s) => s.tags);
      return {
        samples: expected.map((tags) =>
          reporting.has(key(tags))
            ? { group: asLabels(tags), obs: { value: null, severity: null, threshold: null, reason: 'reporting' } }
            : { group: asLabels(tags), obs: { value: null, severity: spec.severity, threshold: null, reason: silent } },
        ),
        truncated: known!.truncated ? 1 : 0,
      };
    }
    case 'anomaly': {
      const q = spec.query;
      const episodes = await listEpisodes(deps, SERVICE, rule.projectId, {
        projectId: rule.projectId,
        metric: q.metric,
        status: 'open',
        limit: 500,
      });
      const samples: Sample[] = [];
      for (const e of episodes) {
        const tags = (e.tags ?? {}) as Labels;
        if (Object.entries(q.tags).some(([k, v]) => tags[k] !== v)) continue;
        if (e.peakScore < q.minScore) continue;
        samples.push({
          group: { ...asLabels(tags), metric: e.metric },
          obs: { value: e.peakScore, severity: spec.severity, threshold: q.minScore, reason: `anomaly in ${e.metric} (score ${round(e.peakScore)})` },
        });
      }
      return { samples, truncated: episodes.length === 500 ? 1 : 0 };
    }
    case 'log': {
      const q = spec.query;
      const groupBy = q.groupBy === undefined || q.groupBy === 'service' ? q.groupBy : { attribute: q.groupBy.slice('attr.'.length) };
      const { groups, truncated } = await countLogs(deps, SERVICE, rule.projectId, {
        filter: {
          projectId: rule.projectId,
          q: q.q,
          levels: q.levels,
          services: q.services,
          attributes: Object.entries(q.attributes).map(([key, value]) => ({ key, value })),
        },
        from: end - q.window,
        to: end,
        groupBy,
        limit: MAX_COUNT_GROUPS,
      });
      const label = logCountLabel(q);
      return {
        samples: groups.map((g) => ({
          group: Object.fromEntries(Object.entries(g.key).map(([k, v]) => [labelName(k), v])),
          obs: compare(g.count, spec.condition, label),
        })),
        truncated: truncated ? 1 : 0,
      };
    }
    case 'trace': {
      const q = spec.query;
      const stats = await getServiceStats(deps, SERVICE, rule.projectId, {
        projectId: rule.projectId,
        service: q.service,
        kind: q.kind,
        from: new Date(end - q.window),
        to: new Date(end),
        limit: TRACE_LIMITS.maxStatsGroups,
      });
      const rows = q.operation === undefined ? stats.rows : stats.rows.filter((r) => r.operation === q.operation);
      const samples: Sample[] = [];
      for (const row of rows) {
        // Too few spans to judge a ratio or a percentile: no value (an instance resolves as for no data).
        if (q.measure !== 'requests' && row.requests < q.minRequests) continue;
        const value = traceMeasure(row, q.measure);
        if (value === null) continue;
        const group: Labels = row.operation === undefined ? { service: row.service } : { service: row.service, operation: row.operation };
        const of = row.operation === undefined ? row.service : `${row.operation} (${row.service})`;
        const label = `${TRACE_MEASURE_NAMES[q.measure]} of ${of} over ${formatDuration(q.window)}`;
        samples.push({ group, obs: compare(value, spec.condition, label, q.measure.startsWith('p') ? ' ms' : '') });
      }
      // One operation asked for and found: the groups left out of the statistics do not matter.
      return { samples, truncated: stats.truncated && !(q.operation !== undefined && rows.length > 0) ? 1 : 0 };
    }
  }
}

type LogRuleQuery = Extract<RuleSpec, { kind: 'log' }>['query'];
type TraceRuleQuery = Extract<RuleSpec, { kind: 'trace' }>['query'];

/** `count of logs matching "timeout" (level error, service api) over 5m`: what a log rule counted. */
function logCountLabel(q: LogRuleQuery): string {
  const filters = [
    ...(q.levels ? [`${q.levels.length === 1 ? 'level' : 'levels'} ${q.levels.join(', ')}`] : []),
    ...(q.services ? [`${q.services.length === 1 ? 'service' : 'services'} ${q.services.join(', ')}`] : []),
    ...Object.entries(q.attributes).map(([k, v]) => `${k}=${v}`),
  ];
  const matching = q.q?.trim() ? ` matching ${JSON.stringify(q.q.trim())}` : '';
  return `count of logs${matching}${filters.length ? ` (${filters.join('; ')})` : ''} over ${formatDuration(q.window)}`;
}

/**
 * An attribute key as an alert label name (`http.status_code` -> `http_status_code`), as Prometheus
 * translates OpenTelemetry attributes: matchers (routes, silences, inhibitions) accept only
 * `[a-zA-Z_][a-zA-Z0-9_]*`, so a dotted label could never be matched.
 */
function labelName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** Metric tags as alert labels: the same translation of their keys. */
const asLabels = (tags: Labels): Labels => Object.fromEntries(Object.entries(tags).map(([k, v]) => [labelName(k), v]));

const TRACE_MEASURE_NAMES: Record<TraceRuleQuery['measure'], string> = {
  error_ratio: 'error ratio',
  p50: 'p50 latency',
  p95: 'p95 latency',
  p99: 'p99 latency',
  requests: 'requests',
};

function traceMeasure(row: StatsRow, measure: TraceRuleQuery['measure']): number | null {
  switch (measure) {
    case 'error_ratio':
      return row.requests === 0 ? null : row.errorRate;
    case 'requests':
      return row.requests;
    default:
      return row.durationMs[measure];
  }
}

/** The rule back in its API shape (durations as text), so the RuleSpec schema gives its defaults and types. */
function specOf(rule: EvalRule): unknown {
  return {
    key: rule.key,
    name: rule.name,
    kind: rule.kind,
    query: rule.query,
    ...(hasThresholds(rule.kind) ? { condition: rule.condition } : {}),
    severity: rule.severity,
  };
}

/**
 * The trailing window in whole minutes, ending with the minute that holds `end` (the rollups include
 * the current minute's points so far): [from, to) with step 60 s.
 */
function minuteWindow(end: number, window: number): { from: number; to: number; step: number } {
  const to = Math.floor(end / MINUTE) * MINUTE + MINUTE;
  return { from: to - Math.max(MINUTE, Math.ceil(window / MINUTE) * MINUTE), to, step: 60 };
}

function reduce(s: SeriesResult, reducer: 'avg' | 'min' | 'max' | 'last' | 'sum'): number | null {
  const values = s.points.map(([, v]) => v).filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return null;
  switch (reducer) {
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'last':
      return values[values.length - 1]!;
  }
}

const crosses = (value: number, op: Thresholds['op'], threshold: number) =>
  op === '>' ? value > threshold : op === '>=' ? value >= threshold : op === '<' ? value < threshold : value <= threshold;

const round = (v: number) => Math.round(v * 1000) / 1000;

/** The level the value reaches: critical beats warning; the reason says what was compared (`unit` follows the value: ' ms'). */
export function compare(value: number, t: Thresholds, label: string, unit = ''): Observation {
  const levels: Array<[Severity, number | undefined]> = [
    ['critical', t.critical],
    ['warning', t.warning],
  ];
  for (const [severity, threshold] of levels) {
    if (threshold !== undefined && crosses(value, t.op, threshold)) {
      return { value, severity, threshold, reason: `${label} = ${round(value)}${unit} ${t.op} ${threshold} (${severity})` };
    }
  }
  const nearest = t.warning ?? t.critical!;
  return { value, severity: null, threshold: nearest, reason: `${label} = ${round(value)}${unit}, not ${t.op} ${nearest}` };
}
