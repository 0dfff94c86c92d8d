import { describe, expect, it } from 'vitest';
import { searchWindows } from '../../../src/logs/search-logs.ts';

const H = 3_600_000;

describe('full-text search windows', () => {
  it.each<[string, { from: number; to: number }, 'desc' | 'asc', number | undefined, Array<[number, number]>]>([
    ['newest first over a day: 1 h, 4 h, 16 h, then the rest', { from: 0, to: 24 * H }, 'desc', undefined, [[23 * H, 24 * H], [19 * H, 23 * H], [3 * H, 19 * H], [0, 3 * H]]],
    ['oldest first over a day', { from: 0, to: 24 * H }, 'asc', undefined, [[0, H], [H, 5 * H], [5 * H, 21 * H], [21 * H, 24 * H]]],
    ['a range shorter than the first window', { from: 0, to: 30 * 60_000 }, 'desc', undefined, [[0, 30 * 60_000]]],
    ['a cursor narrows the range (desc, its millisecond included)', { from: 0, to: 24 * H }, 'desc', 10 * H, [[9 * H + 1, 10 * H + 1], [5 * H + 1, 9 * H + 1], [0, 5 * H + 1]]],
    ['a cursor narrows the range (asc)', { from: 0, to: 24 * H }, 'asc', 20 * H, [[20 * H, 21 * H], [21 * H, 24 * H]]],
    ['a cursor at the end leaves nothing', { from: 0, to: 24 * H }, 'asc', 24 * H, []],
  ])('%s', (_name, range, order, cursor, expected) => {
    const windows = searchWindows(range, order, cursor);
    expect(windows.map((w) => [w.from, w.to])).toEqual(expected);
  });

  it('windows tile the range without gaps or overlaps, growing 4x', () => {
    const range = { from: 1_000, to: 1_000 + 400 * 24 * H };
    const w = searchWindows(range, 'desc');
    expect(w[0]!.to).toBe(range.to);
    expect(w[w.length - 1]!.from).toBe(range.from);
    for (let i = 1; i < w.length; i++) expect(w[i]!.to).toBe(w[i - 1]!.from);
    expect(w.length).toBeLessThan(10);
  });
});
