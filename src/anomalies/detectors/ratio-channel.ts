import { gaussianSurprise } from './calibration.ts';

/**
 * `onset`'s ratio channel: a relative change of level on a series that never goes negative (a
 * request rate falling to a fifth, a queue's throughput doubling). The member works in the series'
 * own units, with a noise scale learned over the whole series: on a rate whose noise grows with its
 * level, or one that rides an unmodelled cycle, a drop from 20 to 4 requests a second sat inside
 * the member's band (deviation -2 to -3 robust sigmas) and nothing paged.
 *
 * The statistic is the log ratio of the value to its recent level, r = ln((x + o) / (slow + o)),
 * `slow` an EW mean over `slowSpan` rows and o an offset (a fraction of the level, at least
 * `offsetNoise` noise sigmas of the series, so values near zero cannot make the ratio explode). It
 * is compared with its own long-run distribution like `onset`'s averages (Gaussian, EW mean and
 * variance over `longSpan` rows, learned winsorized; tighter while the level is held), and:
 * - **Two rows in a row**: a row counts only what it and the row before it both show, on the same
 *   side (the smaller of the two deviations): a single heavy-tailed value is the member's to judge
 *   (its single-row tail is calibrated for that), a change of level persists. Without it, the
 *   generator's Student-t series paged twice as often.
 * - **Additive noise guard**: when the series is lower than its long-run level, its ratio is
 *   noisier if its noise does not shrink with it (a gauge draining towards zero): the deviation is
 *   divided by (long-run level + o) / (slow + o), at least 1, so the channel assumes whichever noise
 *   model is more forgiving.
 * - **Hold**: while the channel is surprised, `slow` stops learning for at most `holdRows` rows, so
 *   a drop that unfolds over a few rows is measured against the level before it, not a level that
 *   already followed it. Longer holds kept the surprise of one change high for hundreds of rows,
 *   which filled onset's memory and hid a second, larger change.
 * A series that ever goes negative has no ratio: the channel stops for good.
 */
export const RATIO_TUNING = {
  /** EW span (rows) of the recent level the value is compared with. */
  slowSpan: 30,
  /** The ratio's offset: this fraction of the recent level, at least offsetNoise noise sigmas. */
  offsetFraction: 0.05,
  offsetNoise: 2,
  /** EW span (rows) of the long-run distribution of the ratio (and of the long-run level). */
  longSpan: 1500,
  /** Rows learned before the channel scores. */
  warmup: 200,
  /** Spread of the ratio widened by sqrt(1 + smallSample / rows seen). */
  smallSample: 32,
  /** Floor of the ratio's standard deviation (natural log units). */
  minSpread: 0.02,
  /** The ratio learned winsorized at this many standard deviations; heldCap while the level is held. */
  learnCap: 4,
  heldCap: 2,
  /** Decades taken off the surprise: Bonferroni for a channel besides the member's three scales. */
  penalty: Math.log10(2),
  /** While the channel's surprise is at least holdSurprise decades, `slow` is held, for at most holdRows rows. */
  holdSurprise: 2,
  holdRows: 30,
};

export type RatioChannel = {
  /** Rows seen. */
  n: number;
  /** The recent level (EW over slowSpan rows, held while surprised) and the long-run one. */
  slow: number;
  long: number;
  /** EW mean and variance of the ratio (its variance in units normalised by the additive guard). */
  mean: number;
  var: number;
  /** The previous row's normalised deviation (the two-rows rule). */
  prev: number;
  /** Rows `slow` has been held, and the last surprise. */
  held: number;
  last: number;
  /** The series went negative: no ratio, for good. */
  off: boolean;
};

export type RatioReading = {
  /** Decades (two-sided, less the channel's penalty). */
  surprise: number;
  /** The standardised deviation that scored (signed: > 0 above the recent level). */
  z: number;
  /**
   * The value's change from what the channel expected (the recent level times the usual ratio), in
   * the series' units, and that expectation: for the minimum deviations.
   */
  change: number;
  expected: number;
};

/** Below this standardised deviation the surprise (< 0.6 decades after the penalties) is under every level onset acts on. */
const MIN_Z = 1.5;

/** The reading of the row just stepped: one object, reused (this runs on every row of every series). */
const reading: RatioReading = { surprise: 0, z: 0, change: 0, expected: 0 };

function nothing(): RatioReading {
  reading.surprise = 0;
  reading.z = 0;
  reading.change = 0;
  reading.expected = 0;
  return reading;
}

export function createRatioChannel(): RatioChannel {
  return { n: 0, slow: 0, long: 0, mean: 0, var: 0, prev: 0, held: 0, last: 0, off: false };
}

/**
 * Scores value x (finite) against the channel's history, then learns it. `noise`: the series'
 * typical noise sigma (the spread channel's), for the offset. The reading is valid until the next
 * call (one object, reused).
 */
export function stepRatioChannel(c: RatioChannel, x: number, noise: number): RatioReading {
  const P = RATIO_TUNING;
  if (c.off) return nothing();
  if (x < 0) {
    c.off = true;
    return nothing();
  }
  c.n += 1;
  const first = c.n === 1;
  const alpha = Math.max(1 / c.n, 1 / P.longSpan);
  const surprised = c.last >= P.holdSurprise;
  const hold = surprised && c.held < P.holdRows;
  c.held = surprised ? c.held + 1 : 0;
  if (first) {
    c.slow = x;
    c.long = x;
  } else {
    if (!hold) c.slow += Math.max(1 / c.n, 2 / (P.slowSpan + 1)) * (x - c.slow);
    c.long += alpha * (x - c.long);
  }
  if (!(c.slow > 0)) {
    c.last = 0;
    return nothing();
  }
  const offset = Math.max(P.offsetFraction * c.slow, P.offsetNoise * noise);
  const r = Math.log((x + offset) / (c.slow + offset));
  const guard = Math.max(1, (c.long + offset) / (c.slow + offset));
  const dev = (r - c.mean) / guard;
  const sd = Math.max(Math.sqrt(c.var), P.minSpread);
  nothing();
  // Two rows in a row: the smaller deviation of this row and the previous one, when on the same side.
  const both = dev > 0 && c.prev > 0 ? Math.min(dev, c.prev) : dev < 0 && c.prev < 0 ? Math.max(dev, c.prev) : 0;
  if (c.n > P.warmup && both !== 0) {
    const z = both / (sd * Math.sqrt(1 + P.smallSample / Math.min(c.n, P.longSpan)));
    if (Math.abs(z) > MIN_Z) {
      reading.surprise = Math.max(0, gaussianSurprise(Math.abs(z)) - Math.log10(2) - P.penalty);
      reading.z = z;
      // What the usual ratio makes of the recent level (on a trend, the level lags the value).
      const expected = (c.slow + offset) * Math.exp(c.mean) - offset;
      reading.change = x - expected;
      reading.expected = expected;
    }
  }
  c.prev = dev;
  // Learned winsorized (tighter while the level is held), so one extreme stretch cannot blind the series.
  const cap = hold ? P.heldCap : P.learnCap;
  const d = first ? 0 : Math.min(cap * sd, Math.max(-cap * sd, dev));
  c.mean = first ? r : c.mean + alpha * d * guard;
  c.var = (1 - alpha) * (c.var + alpha * d * d);
  c.last = reading.surprise;
  return reading;
}
