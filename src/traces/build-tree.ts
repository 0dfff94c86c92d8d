import { TRACE_LIMITS, type ServiceCount, type SpanEventView, type SpanNode } from './schemas.ts';
import { isoMicros, msBetween } from './time.ts';

/** One stored span as get-trace reads it: times in epoch microseconds. */
export interface SpanRow {
  project_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  service: string;
  kind: string;
  start_us: number;
  end_us: number;
  duration_ms: number;
  status: 'unset' | 'ok' | 'error';
  status_message: string | null;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: Array<{ name: string; timestamp: number; attributes?: Record<string, unknown> }>;
  links: Array<{ traceId: string; spanId: string; attributes?: Record<string, unknown> }>;
}

export interface SpanTree {
  roots: SpanNode[];
  startUs: number;
  endUs: number;
  spanCount: number;
  errorCount: number;
  orphanCount: number;
  services: ServiceCount[];
  projectIds: string[];
}

/**
 * Spans -> a tree ordered by start time. A span whose parent is absent (not received, sampled out,
 * or a cycle of parent ids) becomes an extra root flagged `orphan`; a span id seen twice (the same
 * span sent to two projects) is kept once. Pure: the trace route and unit tests share it.
 */
export function buildSpanTree(rows: SpanRow[]): SpanTree {
  const sorted = [...rows].sort((a, b) => a.start_us - b.start_us || (a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0));
  const startUs = sorted.reduce((m, r) => Math.min(m, r.start_us), Infinity);
  const endUs = sorted.reduce((m, r) => Math.max(m, r.end_us), -Infinity);
  const nodes = new Map<string, SpanNode>();
  const services = new Map<string, ServiceCount>();
  const projectIds = new Set<string>();
  let errorCount = 0;
  for (const r of sorted) {
    projectIds.add(r.project_id);
    if (nodes.has(r.span_id)) continue;
    nodes.set(r.span_id, toNode(r, startUs));
    const s = services.get(r.service) ?? { service: r.service, spanCount: 0, errorCount: 0 };
    s.spanCount += 1;
    if (r.status === 'error') {
      s.errorCount += 1;
      errorCount += 1;
    }
    services.set(r.service, s);
  }

  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentSpanId === null ? undefined : nodes.get(node.parentSpanId);
    if (parent && parent !== node) parent.children.push(node);
    else {
      node.orphan = node.parentSpanId !== null;
      roots.push(node);
    }
  }
  // Depths from the roots; whatever they do not reach hangs in a cycle of parents: its earliest
  // span is cut from its parent and becomes an orphan root, until every span is reached.
  const reached = new Set<SpanNode>();
  const walk = (root: SpanNode, depth: number) => {
    // [node, depth, nesting below the root this walk started from]
    const stack: Array<[SpanNode, number, number]> = [[root, depth, 0]];
    while (stack.length > 0) {
      const [node, d, nest] = stack.pop()!;
      reached.add(node);
      node.depth = d;
      if (nest >= TRACE_LIMITS.maxTreeDepth && node.children.length > 0) {
        // Deeper nesting would overflow JSON serialisation: the subtrees continue as extra roots
        // (not orphans: their parentSpanId is in the trace) and keep their true depth.
        for (const child of node.children) {
          roots.push(child);
          stack.push([child, d + 1, 0]);
        }
        node.children = [];
        continue;
      }
      for (const child of node.children) stack.push([child, d + 1, nest + 1]);
    }
  };
  for (const root of [...roots]) walk(root, 0);
  for (const node of nodes.values()) {
    if (reached.has(node)) continue;
    const parent = nodes.get(node.parentSpanId!)!;
    parent.children = parent.children.filter((c) => c !== node);
    node.orphan = true;
    roots.push(node);
    walk(node, 0);
  }
  roots.sort((a, b) => a.offsetMs - b.offsetMs || (a.spanId < b.spanId ? -1 : 1));

  return {
    roots,
    startUs,
    endUs,
    spanCount: nodes.size,
    errorCount,
    orphanCount: roots.filter((r) => r.orphan).length,
    services: [...services.values()].sort((a, b) => b.spanCount - a.spanCount || (a.service < b.service ? -1 : 1)),
    projectIds: [...projectIds].sort(),
  };
}

function toNode(r: SpanRow, traceStartUs: number): SpanNode {
  // Ingest stores event timestamps as epoch ms; a row written another way may lack one: show the
  // event without a time rather than fail the whole trace.
  const events: SpanEventView[] = (r.events ?? []).map((e) => {
    const ok = typeof e.timestamp === 'number' && Number.isFinite(e.timestamp) && Math.abs(e.timestamp) < 8.64e15;
    return {
      name: String(e.name ?? ''),
      time: ok ? isoMicros(e.timestamp * 1000) : null,
      offsetMs: ok ? msBetween(traceStartUs, e.timestamp * 1000) : null,
      attributes: e.attributes ?? {},
    };
  });
  return {
    spanId: r.span_id,
    parentSpanId: r.parent_span_id,
    name: r.name,
    service: r.service,
    kind: r.kind,
    start: isoMicros(r.start_us),
    end: isoMicros(r.end_us),
    durationMs: r.duration_ms,
    offsetMs: msBetween(traceStartUs, r.start_us),
    status: r.status,
    statusMessage: r.status_message,
    attributes: r.attributes,
    resource: r.resource,
    events,
    links: (r.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: l.attributes ?? {} })),
    depth: 0,
    orphan: false,
    children: [],
  };
}
