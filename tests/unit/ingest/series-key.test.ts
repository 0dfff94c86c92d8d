/**
 * seriesKeyOf is a memo: whatever order a point's tags arrive in, it must answer what the plain
 * functions answer (seriesIdentity of the sorted tags, and metricKey's prefix), and two different
 * points must never share an entry.
 */
import { describe, expect, it } from 'vitest';
import { hashKey, metricKey, pointKey, sortedTags } from '../../../src/ingest/event-key.ts';
import type { MetricPoint } from '../../../src/ingest/model.ts';
import { seriesIdentity, seriesKeyOf } from '../../../src/ingest/series.ts';

const point = (tags: Record<string, string>, over: Partial<MetricPoint> = {}): MetricPoint => ({
  name: 'http.requests',
  type: 'counter',
  temporality: 'cumulative',
  value: 12.5,
  timestamp: 1_764_000_000_000.123,
  tags,
  ...over,
});

describe('seriesKeyOf', () => {
  const cases: Array<[string, MetricPoint]> = [
    ['no tags', point({})],
    ['one tag', point({ a: '1' })],
    ['two tags', point({ a: '1', b: '2' })],
    ['same two, other order', point({ b: '2', a: '1' })],
    ['a value that looks like a tag pair', point({ a: '1\u0001b=2' })],
    ['a key holding =', point({ 'a=1': 'x' })],
    ['empty value', point({ a: '' })],
    ['integer-like keys', point({ 10: 'x', 2: 'y' })],
    ['gauge', point({ a: '1' }, { type: 'gauge', temporality: undefined })],
    ['delta', point({ a: '1' }, { temporality: 'delta' })],
    ['other name', point({ a: '1' }, { name: 'http.request' })],
    ['name that is a prefix', point({ a: '1' }, { name: 'http' })],
  ];

  it.each(cases)('%s: the identity and key of the plain functions', (_, m) => {
    const tagString = sortedTags(m.tags);
    const key = seriesKeyOf(m);
    expect(key.identity).toBe(seriesIdentity(m.name, m.type, m.temporality, tagString));
    expect(key.tagString).toBe(tagString);
    expect(pointKey(key.prefix, `${m.timestamp}`, `${m.value}`)).toEqual(metricKey(m, tagString));
    // The key is the one stored rows already carry: cyrb53 of the whole text, as before the split.
    expect(metricKey(m, tagString)).toEqual(hashKey(`m\u0002${m.name}\u0002${tagString}\u0002${m.timestamp}\u0002${m.value}\u0002`));
    // Asked again (now from the memo), the same answer.
    expect(seriesKeyOf({ ...m, tags: { ...m.tags } })).toBe(key);
  });

  it('tag order does not matter; everything else does', () => {
    const identities = new Set(cases.map(([, m]) => seriesKeyOf(m).identity));
    // Only "same two, other order" repeats an identity.
    expect(identities.size).toBe(cases.length - 1);
    expect(seriesKeyOf(point({ b: '2', a: '1' })).identity).toBe(seriesKeyOf(point({ a: '1', b: '2' })).identity);
  });

  it('a point whose tags extend another point\'s is another series', () => {
    const short = seriesKeyOf(point({ a: '1' }));
    const long = seriesKeyOf(point({ a: '1', b: '2' }));
    expect(long.identity).not.toBe(short.identity);
    expect(seriesKeyOf(point({ a: '1' }))).toBe(short);
  });
});
