/**
 * The direction of imports in src/ (docs/ARCHITECTURE.md, Layers), checked on every file:
 * - shared layers import only shared layers below them (a type-only import may name any shared
 *   layer: core/deps.ts gathers the ports' types), never a domain, the wiring or the Node wiring;
 * - a domain imports shared layers, its own files, and only the public modules of other domains;
 * - only the wiring (src/app) and the Node wiring (src/node) know every domain;
 * - outside src/node, the only `node:` modules are those ADR 0008 allows.
 * A new exception is a decision: change the lists here and say why in the ADR or the architecture doc.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../../src');

/** Shared layers by rank: a value import goes only to a lower rank (or within the same folder). */
const SHARED: Record<string, number> = { net: 0, core: 1, db: 2, cache: 2, auth: 3, http: 4, 'log-view': 5, jobs: 5 };
const WIRING = new Set(['app', 'node']);
/** What a domain offers other domains. */
const PUBLIC_MODULES = new Set([
  'orgs/lookup.ts', // project and organization resolution under RLS
  'ingest/settings.ts', // per-project ingest limits, which metrics reads and sets
  'metrics/metric-retention.ts', // the cleanup job runs metric retention with log retention
  'metrics/schemas.ts', // the metrics query language, which alert rules embed
  'metrics/query-metrics.ts', // metric alert rules are evaluated by the metrics query itself
  'anomalies/list-episodes.ts', // anomaly alert rules follow open episodes
  'logs/schemas.ts', // log levels and the log filter, which log alert rules embed
  'logs/search-syntax.ts', // log alert rules compile their search when saved (a bad one is a 400 then)
  'logs/count-logs.ts', // log alert rules are evaluated by the logs domain's own count
  'traces/schemas.ts', // span kinds and the statistics' row shape and limits, which trace alert rules use
  'traces/service-stats.ts', // trace alert rules are evaluated by the service statistics themselves
  'alerts/model.ts', // incident pages are notifications of alerting's shape (ADR 0011, amendments)
  'alerts/deliver-notifications.ts', // the escalation job sends its pages with alerting's delivery engine, from the same log
  'logs/responses.ts', // a trace's logs are answered as log lines of the logs API's shape
  'billing/quota.ts', // ingest enforces the plan's monthly quotas with billing's counters (ADR 0012)
  'billing/plan-quota.ts', // ingest reads the organization's plan quotas with the project's settings
  'billing/plan-limits.ts', // members, alert rules, webhook endpoints and retention respect the plan's limits
  'billing/change-plan.ts', // PATCH /orgs/:id with a plan changes it through billing's checked verb
  'billing/meter-query.ts', // the read routes of metrics, logs, traces and anomalies record each query for the meter (docs/BILLING.md)
  'retention/log-retention.ts', // a plan's retention limit is measured against the log retention defaults
]);
const NODE_BUILTINS_ALLOWED = new Set(['node:crypto', 'node:buffer', 'node:dns', 'node:http', 'node:https', 'node:net', 'node:stream']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function imports(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4]!;
    const to = spec.startsWith('.') ? relative(SRC, normalize(join(dirname(file), spec))) : spec;
    out.push({ from: relative(SRC, file), to, typeOnly: !!m[2] });
  }
  return out;
}

const top = (path: string) => path.split('/')[0]!;
const ALL = files(SRC).flatMap(imports);

function violation(i: Import): string | undefined {
  const fromTop = top(i.from);
  if (i.to.startsWith('node:')) {
    return fromTop === 'node' || NODE_BUILTINS_ALLOWED.has(i.to) ? undefined : `${i.to} is not among the node: modules ADR 0008 allows in src/`;
  }
  if (i.to.startsWith('..')) return `leaves src/`;
  if (!i.to.endsWith('.ts')) return undefined; // a package: what the project may use is package.json's business
  const toTop = top(i.to);
  if (WIRING.has(fromTop)) return fromTop === 'app' && toTop === 'node' ? 'the wiring imports the Node wiring' : undefined;
  if (WIRING.has(toTop)) return `imports the wiring (${toTop}) from below it`;
  if (fromTop in SHARED) {
    if (!(toTop in SHARED)) return `a shared layer (${fromTop}) imports a domain (${toTop})`;
    if (fromTop === toTop || i.typeOnly) return undefined;
    return SHARED[toTop]! < SHARED[fromTop]! ? undefined : `a shared layer (${fromTop}) imports ${toTop}, which is not below it`;
  }
  // A domain.
  if (toTop in SHARED || toTop === fromTop) return undefined;
  return PUBLIC_MODULES.has(i.to) ? undefined : `a domain (${fromTop}) imports another domain's internals`;
}

describe('import direction in src/', () => {
  it('reads the imports of every file', () => {
    expect(ALL.length).toBeGreaterThan(500);
    expect(ALL.some((i) => i.from === 'app/functions.ts' && i.to === 'logs/http/routes.ts')).toBe(true);
  });

  it('has no import against the direction of the layers', () => {
    const wrong = ALL.flatMap((i) => {
      const why = violation(i);
      return why ? [`${i.from} -> ${i.to}: ${why}`] : [];
    });
    expect(wrong).toEqual([]);
  });

  it.each([
    // [from, to, typeOnly, what the rule says]
    ['http/app.ts', 'logs/http/routes.ts', false, 'a shared layer (http) imports a domain (logs)'],
    ['core/config.ts', 'db/types.ts', false, 'a shared layer (core) imports db, which is not below it'],
    ['logs/search-logs.ts', 'metrics/plan-query.ts', false, "a domain (logs) imports another domain's internals"],
    ['metrics/query-metrics.ts', 'app/functions.ts', false, 'imports the wiring (app) from below it'],
    ['orgs/lookup.ts', 'node:fs', false, 'node:fs is not among the node: modules ADR 0008 allows in src/'],
  ] as const)('would refuse %s -> %s', (from, to, typeOnly, why) => {
    expect(violation({ from, to, typeOnly })).toBe(why);
  });

  it.each([
    ['core/deps.ts', 'auth/authenticate.ts', true],
    ['logs/tail-logs.ts', 'orgs/lookup.ts', false],
    ['app/functions.ts', 'logs/http/routes.ts', false],
    ['node/deps.ts', 'node:fs', false],
  ] as const)('allows %s -> %s', (from, to, typeOnly) => {
    expect(violation({ from, to, typeOnly })).toBeUndefined();
  });
});
