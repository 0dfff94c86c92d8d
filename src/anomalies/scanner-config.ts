/**
 * The scanner's constants: shared by the scanner (detect-anomalies.ts) and its stores, so neither
 * imports the other for a number.
 */
export const SCANNER = {
  settleMs: 60_000,
  /** Series never scanned start this far back (and no series is probed further back than this). */
  firstScanLookback: '7 days',
  maxBucketsPerSeries: 10_000,
  /** Series in the first batch of a run; later batches grow (at most 4x) or shrink toward batchRowTarget. */
  firstBatchSeries: 25,
  minBatchSeries: 5,
  maxBatchSeries: 250,
  /** Rollup rows one batch aims to read (and hold in memory). */
  batchRowTarget: 100_000,
  /** Normal minutes an episode may contain between anomalous ones. */
  episodeGapMinutes: 2,
  /** Normal minutes after which an episode closes (episodeGapMinutes + 1, so the two rules agree). */
  recoveryMinutes: 3,
  incidentWindowMs: 10 * 60_000,
  /** An open episode of a series that sent nothing for this long after its last anomalous minute closes (invariant 7). */
  quietMs: 10 * 60_000,
} as const;

/** Batch sizing, overridable so tests can put batch boundaries anywhere. */
export interface ScanLimits {
  firstBatchSeries: number;
  minBatchSeries: number;
  maxBatchSeries: number;
  batchRowTarget: number;
}
