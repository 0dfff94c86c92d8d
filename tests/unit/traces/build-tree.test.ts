/**
 * The span tree builder on shapes ingest cannot rule out: cycles of parent ids, a span that is its
 * own parent, the same span id twice, and chains deeper than JSON nesting allows; plus the time
 * helpers (microsecond ISO strings, cursors).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { buildSpanTree, type SpanRow } from '../../../src/traces/build-tree.ts';
import { TRACE_LIMITS, type SpanNode } from '../../../src/traces/schemas.ts';
import { createCursorCodec } from '../../../src/core/cursor.ts';
import { isoMicros, openCursor, sealCursor } from '../../../src/traces/time.ts';

const T0 = Date.parse('2026-06-01T00:00:00Z') * 1000;
const sid = (n: number) => n.toString(16).padStart(16, '0');

function row(id: number, parent: number | null, startMs: number, extra: Partial<SpanRow> = {}): SpanRow {
  return {
    project_id: 'p',
    span_id: sid(id),
    parent_span_id: parent === null ? null : sid(parent),
    name: `s${id}`,
    service: 'svc',
    kind: 'internal',
    start_us: T0 + startMs * 1000,
    end_us: T0 + (startMs + 1) * 1000,
    duration_ms: 1,
    status: 'unset',
    status_message: null,
    attributes: {},
    resource: {},
    events: [],
    links: [],
    ...extra,
  };
}

const all = (roots: SpanNode[]): SpanNode[] => {
  const out: SpanNode[] = [];
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    out.push(n);
    stack.push(...n.children);
  }
  return out;
};

describe('buildSpanTree', () => {
  it('nests children in start order with depths and offsets', () => {
    const tree = buildSpanTree([row(3, 1, 30), row(1, null, 0), row(2, 1, 10), row(4, 2, 12.5)]);
    expect(tree.roots.map((r) => r.spanId)).toEqual([sid(1)]);
    const [root] = tree.roots;
    expect(root!.children.map((c) => [c.spanId, c.depth, c.offsetMs])).toEqual([
      [sid(2), 1, 10],
      [sid(3), 1, 30],
    ]);
    expect(root!.children[0]!.children[0]).toMatchObject({ spanId: sid(4), depth: 2, offsetMs: 12.5 });
    expect(tree.orphanCount).toBe(0);
  });

  it('breaks a cycle of parents at its earliest span, which becomes an orphan root', () => {
    // 1 -> 2 -> 3 -> 1 (each the parent of the next), with 4 under 2; and 5 its own parent.
    const tree = buildSpanTree([row(1, 3, 0), row(2, 1, 5), row(3, 2, 10), row(4, 2, 7), row(5, 5, 20)]);
    expect(tree.roots.map((r) => [r.spanId, r.orphan])).toEqual([
      [sid(1), true],
      [sid(5), true],
    ]);
    const nodes = all(tree.roots);
    expect(nodes).toHaveLength(5);
    expect(Object.fromEntries(nodes.map((n) => [n.spanId, n.depth]))).toEqual({ [sid(1)]: 0, [sid(2)]: 1, [sid(3)]: 2, [sid(4)]: 2, [sid(5)]: 0 });
    expect(tree.orphanCount).toBe(2);
    expect(() => JSON.stringify(tree.roots)).not.toThrow();
  });

  it('keeps a span id once when it arrives twice (two projects)', () => {
    const tree = buildSpanTree([row(1, null, 0), row(2, 1, 1), row(2, 1, 1, { project_id: 'q', status: 'error' })]);
    expect(tree.spanCount).toBe(2);
    expect(all(tree.roots)).toHaveLength(2);
    expect(tree.projectIds).toEqual(['p', 'q']);
  });

  it('continues chains deeper than the nesting limit as extra roots, so the answer serialises', () => {
    const n = TRACE_LIMITS.maxTreeDepth * 2 + 100;
    const rows = Array.from({ length: n }, (_, i) => row(i + 1, i === 0 ? null : i, i));
    const tree = buildSpanTree(rows);
    expect(tree.roots.map((r) => r.depth)).toEqual([0, TRACE_LIMITS.maxTreeDepth + 1, 2 * TRACE_LIMITS.maxTreeDepth + 2]);
    expect(tree.roots.every((r) => !r.orphan)).toBe(true);
    expect(all(tree.roots)).toHaveLength(n);
    expect(all(tree.roots).find((x) => x.spanId === sid(n))!.depth).toBe(n - 1);
    expect(JSON.parse(JSON.stringify(tree.roots))).toHaveLength(3);
  });
});

describe('time helpers', () => {
  it('shows an event without a usable timestamp with a null time instead of failing the trace', () => {
    const events = [
      { name: 'ok', timestamp: T0 / 1000 + 0.5, attributes: {} },
      { name: 'iso', time: '2026-06-01T00:00:00Z', attributes: {} },
      { name: 'huge', timestamp: 1e300, attributes: {} },
    ] as unknown as SpanRow['events'];
    const tree = buildSpanTree([row(1, null, 0, { events })]);
    expect(tree.roots[0]!.events.map((e) => [e.name, e.time, e.offsetMs])).toEqual([
      ['ok', '2026-06-01T00:00:00.000500Z', 0.5],
      ['iso', null, null],
      ['huge', null, null],
    ]);
  });

  it('prints microseconds', () => {
    expect(isoMicros(T0 + 20_250)).toBe('2026-06-01T00:00:00.020250Z');
    expect(isoMicros(T0 + 999_999)).toBe('2026-06-01T00:00:00.999999Z');
  });

  it('round-trips signed cursors and refuses others with a 400 on query.cursor', () => {
    const cursors = createCursorCodec(new Uint8Array(32).fill(7));
    const hex = /^[0-9a-f]{32}$/;
    const good = sealCursor(cursors, 'traces.search', T0 + 1, 'a'.repeat(32));
    expect(openCursor(cursors, 'traces.search', good, hex)).toEqual({ time: '2026-06-01T00:00:00.000001Z', id: 'a'.repeat(32) });
    const [body, tag] = good.split('.');
    const unsigned = btoa(JSON.stringify(['2026-06-01T00:00:00.000001Z', 'a'.repeat(32)])).replace(/=+$/, '');
    for (const [bad, purpose] of [
      ['', 'traces.search'],
      ['x', 'traces.search'],
      [unsigned, 'traces.search'], // the unsigned cursors of before
      [`${body}.${tag!.slice(1)}A`, 'traces.search'], // another signature
      [`${btoa(JSON.stringify(['1970-01-01T00:00:00.000001Z', 'a'.repeat(32)])).replace(/=+$/, '')}.${tag}`, 'traces.search'], // another value
      [good, 'traces.logs'], // another endpoint's
      [sealCursor(cursors, 'traces.search', T0, 'zz'), 'traces.search'], // signed, but not an id of this kind
    ] as const) {
      try {
        openCursor(cursors, purpose, bad, hex);
        expect.unreachable(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
        expect((e as AppError).details?.[0]?.field).toBe('query.cursor');
      }
    }
  });
});
