import { z } from 'zod';

/** Names of every detector in the registry; the scanner stores one of these per series. */
export const DETECTOR_NAMES = ['zscore', 'mad', 'seasonal', 'ewma', 'ensemble', 'onset'] as const;
export const DetectorName = z.enum(DETECTOR_NAMES);
export type DetectorName = z.infer<typeof DetectorName>;

/**
 * Chosen by `npm run eval:anomalies` (see docs/anomaly-detection.md); a scanner uses it when a
 * series has no detector configured.
 */
export const DEFAULT_DETECTOR: DetectorName = 'onset';

/**
 * Named presets or the threshold itself: a number is the deviation (in the detector's robust
 * standard deviations) at which the score reaches 0.5.
 */
export const Sensitivity = z.union([
  z.enum(['low', 'medium', 'high']),
  z.number().finite().min(0.5).max(100),
]);
export type Sensitivity = z.infer<typeof Sensitivity>;

export const Direction = z.enum(['up', 'down', 'both']);
export type Direction = z.infer<typeof Direction>;

/** 'auto' detects hourly/daily/weekly seasonality from the data; a number is a period in ms. */
export const Seasonality = z.union([
  z.enum(['auto', 'none', 'hourly', 'daily', 'weekly']),
  z.number().int().min(60_000).max(31 * 86_400_000),
]);
export type Seasonality = z.infer<typeof Seasonality>;

export const DetectorConfig = z
  .object({
    detector: DetectorName.default(DEFAULT_DETECTOR),
    sensitivity: Sensitivity.default('medium'),
    direction: Direction.default('both'),
    /** Changes smaller than this (in the series' unit) never score. */
    minAbsDeviation: z.number().finite().nonnegative().default(0),
    /** Changes smaller than this fraction of the expected value never score. */
    minRelDeviation: z.number().finite().nonnegative().default(0),
    /** Baseline window in points; each detector has its own default. */
    window: z.number().int().min(8).max(5000).optional(),
    seasonality: Seasonality.default('auto'),
    /** Points of history before any score is emitted; each detector has its own default. */
    warmup: z.number().int().nonnegative().max(1_000_000).optional(),
    /**
     * How long a sustained deviation is flagged before it becomes the new normal. Defaults to
     * 30 times the series' observed cadence, because the scanner does not know the cadence upfront.
     */
    adaptAfterMs: z.number().finite().positive().optional(),
  })
  .strict();
export type DetectorConfig = z.infer<typeof DetectorConfig>;
export type DetectorConfigInput = z.input<typeof DetectorConfig>;

export const DataPoint = z.object({
  /** Milliseconds since the epoch; the only clock a detector knows. */
  timestamp: z.number(),
  value: z.number(),
});
export type DataPoint = z.infer<typeof DataPoint>;

/** "The episode between from and to was not an anomaly" (times in ms, inclusive). */
export const DetectorFeedback = z
  .object({
    kind: z.literal('not_anomaly'),
    from: z.number().finite(),
    to: z.number().finite(),
  })
  .refine((f) => f.to >= f.from, { message: 'to must not be before from', path: ['to'] });
export type DetectorFeedback = z.infer<typeof DetectorFeedback>;
