import { describe, expect, it } from 'vitest';
import { nextBatchSize, SCANNER } from '../../../src/anomalies/detect-anomalies.ts';

/** The scanner's batch sizing: aim at batchRowTarget rollup rows per batch, grow at most 4x, stay within bounds. */
describe('nextBatchSize', () => {
  const limits = { firstBatchSeries: 25, minBatchSeries: 5, maxBatchSeries: 250, batchRowTarget: 100_000 };
  it.each([
    // steady state: one row per series, so grow 4x per batch up to the maximum
    [25, 25, 100],
    [100, 100, 250],
    [250, 250, 250],
    // first scan of a day per series (1440 rows each): about 69 series make the target
    [25, 25 * 1440, 69],
    [69, 69 * 1440, 69],
    // a week per series (10,000 rows, the per-series cap): shrink, never below the minimum
    [69, 69 * 10_000, 10],
    [10, 10 * 100_000, 5],
    // nothing read (every series of the batch disabled or without new minutes): grow
    [25, 0, 100],
  ])('after %i series that read %i rows the next batch has %i', (size, rows, next) => {
    expect(nextBatchSize(size, rows, limits)).toBe(next);
  });

  it('uses the shipped limits by default', () => {
    expect(nextBatchSize(SCANNER.firstBatchSeries, SCANNER.firstBatchSeries, SCANNER)).toBe(4 * SCANNER.firstBatchSeries);
  });
});
