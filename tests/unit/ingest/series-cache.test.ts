/** The process-local series id cache: per-project lookups, bounded size. */
import { describe, expect, it } from 'vitest';
import { SeriesCache } from '../../../src/ingest/series.ts';

describe('SeriesCache', () => {
  it('keeps ids per project', () => {
    const c = new SeriesCache(10);
    c.set('p1', 'cpu', 1);
    c.set('p2', 'cpu', 2);
    expect([c.get('p1', 'cpu'), c.get('p2', 'cpu'), c.get('p3', 'cpu'), c.get('p1', 'mem')]).toEqual([1, 2, undefined, undefined]);
  });

  it('stays within its bound, forgetting the oldest project\'s oldest series first', () => {
    const c = new SeriesCache(3);
    c.set('p1', 'a', 1);
    c.set('p2', 'b', 2);
    c.set('p1', 'c', 3);
    c.set('p1', 'a', 99); // already known: ids never change, nothing moves
    c.set('p2', 'd', 4); // full: p1/a goes
    expect([c.get('p1', 'a'), c.get('p2', 'b'), c.get('p1', 'c'), c.get('p2', 'd')]).toEqual([undefined, 2, 3, 4]);
    c.set('p3', 'e', 5); // p1 is now the oldest project: p1/c goes, and p1 with it
    c.set('p3', 'f', 6); // then p2/b
    expect([c.get('p1', 'c'), c.get('p2', 'b'), c.get('p2', 'd'), c.get('p3', 'e'), c.get('p3', 'f')]).toEqual([undefined, undefined, 4, 5, 6]);
  });

  it('a single project at the bound keeps its newest series', () => {
    const c = new SeriesCache(2);
    for (let i = 0; i < 5; i++) c.set('p', `s${i}`, i);
    expect([0, 1, 2, 3, 4].map((i) => c.get('p', `s${i}`))).toEqual([undefined, undefined, undefined, 3, 4]);
  });
});
