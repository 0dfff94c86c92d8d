import type { components, paths } from '../../../packages/sdk/src/api-types.ts';
import { PALETTE } from '../timeseries-chart.tsx';

/** A span as GET /logs/traces/{traceId} answers it (a tree: `children`), from the generated API types. */
export type SpanNode = components['schemas']['SpanNode'];

/** The trace's summary in that answer. */
export type TraceSummary = paths['/logs/traces/{traceId}']['get']['responses'][200]['content']['application/json']['trace'];

/** The tree in display order (depth first, children in start order), each span with its depth in the drawing. */
export function flattenSpans(roots: SpanNode[], collapsed: ReadonlySet<string> = new Set()): Array<{ span: SpanNode; level: number }> {
  const out: Array<{ span: SpanNode; level: number }> = [];
  const walk = (s: SpanNode, level: number) => {
    out.push({ span: s, level });
    if (!collapsed.has(s.spanId)) for (const c of s.children) walk(c, level + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

/** Okabe-Ito without black: a black bar outweighs every other service. */
const SERVICE_PALETTE = PALETTE.filter((c) => c !== '#000000');

/**
 * A colour per service (Okabe-Ito): each service starts at the slot its name hashes to and takes the
 * next free one, so the services of one view never share a colour (up to 7) and a service keeps its
 * colour from the services table to a trace unless a neighbour took its slot.
 */
export function serviceColors(services: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<number>();
  for (const s of [...new Set(services)].sort()) {
    if (taken.size >= SERVICE_PALETTE.length) taken.clear();
    let slot = [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % SERVICE_PALETTE.length;
    for (let i = 0; i < SERVICE_PALETTE.length && taken.has(slot); i++) slot = (slot + 1) % SERVICE_PALETTE.length;
    taken.add(slot);
    out.set(s, SERVICE_PALETTE[slot]!);
  }
  return out;
}
