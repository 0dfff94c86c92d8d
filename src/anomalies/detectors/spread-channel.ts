import { gaussianSurprise } from './calibration.ts';

/**
 * `onset`'s spread channel: flatlines and variance drops (a stuck sensor, a dead exporter repeating
 * its last value, noise that collapses while the level goes on). Nothing else in the detectors
 * sees them: a value inside its band scores 0 however long the series has not moved.
 *
 * The statistic is the series' recent variability, w = ln(EW mean |x_t - x_(t-1)| + floor), at a
 * few time scales, compared (lower tail only) with its own long-run distribution like `onset`'s
 * averages: Gaussian in w, EW mean and variance over `longSpan` rows learned winsorized, the spread
 * widened while few independent values have been seen. First differences are blind to the level,
 * to slow movement and to most of a seasonal cycle, so the channel needs no model of them.
 *
 * The floor is half the series' quantisation step (the smallest change it has ever made), at least
 * `floorFraction` of its usual variability: a count or a stepped gauge that is often still cannot
 * look stiller than "no change at all", and the Gaussian calibration of w holds for it (without the
 * step floor, the runs of zeros of a low count give w a long lower tail, which the Gaussian takes
 * for anomalies now and then). A perfectly constant series never scores.
 *
 * While `onset` reports a collapse, w is learned winsorized at `heldCap` standard deviations
 * instead of `learnCap` (the level detectors keep exceeding values out of their baselines for the
 * same reason): learning a 300-row flatline at 4 standard deviations made the spread of w four
 * times as wide, and the next flatline of the same series went unseen. After `holdRows` rows a lasting quieter regime
 * is learned as usual.
 */
export const SPREAD_TUNING = {
  /**
   * EW spans (rows) of the mean absolute first difference. Not shorter: the log of a short average
   * is left-skewed, so its Gaussian lower tail is too thin (a 10-row span paged 24 of 10,000 clean
   * first days like bench:anomalies', 15 rows 9, 60 rows alone none, and 60 alone found fewer).
   */
  spans: [15, 60],
  /** EW span (rows) of the long-run distribution of w. */
  longSpan: 1500,
  /** Differences learned before the channel scores. */
  warmup: 200,
  /** Spread of w widened by sqrt(1 + smallSample x span / rows seen). */
  smallSample: 32,
  /** Floor of the standard deviation of w (natural log units). */
  minSpread: 0.05,
  /** w learned winsorized at this many standard deviations. */
  learnCap: 4,
  /** Floor of the variability relative to its long-run mean (1e-3: a full flatline of a continuous series is 6.9 nats deep). */
  floorFraction: 1e-3,
  /** Floor of the variability in quantisation steps. */
  floorSteps: 0.5,
  /** While `onset` reports a collapse, w is learned winsorized at this many standard deviations, for at most holdRows rows. */
  heldCap: 2,
  holdRows: 1440,
};

const MIN_Z = 1.5;

/** One time scale: the EW mean |difference| over `span` rows, and the EW mean and variance of its log w (its long-run distribution, taken as Gaussian). */
export type SpreadScale = { span: number; v: number; cal: { mean: number; var: number } };

export type SpreadChannel = {
  /** Differences seen. */
  n: number;
  /** The previous usable value. */
  prev: number | null;
  /** EW mean |difference| over longSpan rows: the floor's reference and the series' noise scale. */
  typical: number;
  /** Smallest positive |difference| seen (0 = none yet): the quantisation step. */
  quantum: number;
  scales: SpreadScale[];
  /** Rows of the current reported collapse (0: none). */
  held: number;
  /** The last row's standardised drop of its most surprising scale (> 0 = less variable than usual), for explanations. */
  z: number;
};

export function createSpreadChannel(): SpreadChannel {
  return { n: 0, prev: null, typical: 0, quantum: 0, scales: SPREAD_TUNING.spans.map((span) => ({ span, v: 0, cal: { mean: 0, var: 0 } })), held: 0, z: 0 };
}

/**
 * Scores value x (finite) against the channel's history, then learns it. Returns the surprise in
 * decades (-log10 of the smallest lower-tail probability over the scales, Bonferroni not applied;
 * `c.z` is that scale's standardised drop). `hold`: `onset` is reporting a collapse of this series
 * (see heldCap).
 */
export function stepSpreadChannel(c: SpreadChannel, x: number, hold = false): number {
  const P = SPREAD_TUNING;
  const prev = c.prev;
  c.prev = x;
  c.z = 0;
  if (prev === null) return 0;
  const d = Math.abs(x - prev);
  if (d > 0 && (c.quantum === 0 || d < c.quantum)) c.quantum = d;
  // Nothing to learn before the series has moved at all: with no step known the floor is ~1e-12,
  // and a series that starts with a repeated value (a counter at 0, a daily reading taken twice)
  // learned w = ln(1e-12) ≈ -27 as its usual variability, which left the channel blind for
  // thousands of rows (the long-run mean averages 1/n at first).
  if (c.quantum === 0) return 0;
  c.n += 1;
  const first = c.n === 1;
  const alpha = Math.max(1 / c.n, 1 / P.longSpan);
  c.typical += alpha * (d - c.typical);
  // A constant series keeps a tiny positive floor, so w stays finite.
  const floor = Math.max(P.floorFraction * c.typical, P.floorSteps * c.quantum) + 1e-12 * (1 + Math.abs(x));
  const scored = c.n > P.warmup;
  c.held = hold ? c.held + 1 : 0;
  const cap = hold && c.held <= P.holdRows ? P.heldCap : P.learnCap;
  const rows = Math.min(c.n, P.longSpan);
  let surprise = 0;
  let zBest = 0;
  for (const s of c.scales) {
    s.v = first ? d : s.v + Math.max(1 / c.n, 2 / (s.span + 1)) * (d - s.v);
    const w = Math.log(s.v + floor);
    const cal = s.cal;
    const sd = Math.max(Math.sqrt(cal.var), P.minSpread);
    // Below MIN_Z the surprise (< 1.2 decades) is under every level onset acts on once its
    // penalties are taken off; most rows stop here (the widening below only lowers z).
    const drop = (cal.mean - w) / sd;
    if (scored && drop > MIN_Z) {
      // Few independent values of `span` rows seen so far: the spread is widened like a
      // small-sample bound, as for onset's averages, so a first quiet night is not an anomaly.
      const z = drop / Math.sqrt(1 + (P.smallSample * s.span) / rows);
      if (z > MIN_Z) {
        const sp = gaussianSurprise(z);
        if (sp > surprise) {
          surprise = sp;
          zBest = z;
        }
      }
    }
    // Learned winsorized at `cap` spreads (floored at minSpread, so a variance that starts at zero
    // cannot freeze it), so one extreme stretch cannot blind the series for long.
    const dev = (first ? w : Math.min(cal.mean + cap * sd, Math.max(cal.mean - cap * sd, w))) - cal.mean;
    cal.mean += alpha * dev;
    cal.var = (1 - alpha) * (cal.var + alpha * dev * dev);
  }
  c.z = zBest;
  return surprise;
}
