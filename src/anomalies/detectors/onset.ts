import { gateExcursion, gaussianSurprise, histTailLearn, histTailSurprise } from './calibration.ts';
import type { ExcursionGate, TailHist, TailOpts } from './calibration.ts';
import { ANOMALY_THRESHOLD, isUsablePoint, resolveConfig, skippedResult } from './core.ts';
import type { BaseState, StepResult } from './core.ts';
import { createEwmaState, stepEwma } from './ewma.ts';
import type { EwmaState } from './ewma.ts';
import { DetectorConfig } from './schemas.ts';
import type { DataPoint, DetectorConfigInput } from './schemas.ts';
import { createRatioChannel, stepRatioChannel } from './ratio-channel.ts';
import type { RatioChannel, RatioReading } from './ratio-channel.ts';
import { createSpreadChannel, stepSpreadChannel, SPREAD_TUNING } from './spread-channel.ts';
import type { SpreadChannel } from './spread-channel.ts';
import type { Detector } from './types.ts';

export { gaussianSurprise };

/**
 * Onset scores (the default detector; docs/anomaly-detection.md, "Score semantics"): a row's score
 * is the belief that an anomaly starts or becomes newly visible at that row, i.e. what should page
 * a person. While an anomaly persists and nothing new happens, scores fall back at once.
 *
 * 1. Raw ratio: the `ewma` member's deviation over its own threshold (1 = where `ewma` alone would
 *    score 0.5), recovered from its score, so its seasonality, heavy-tail widening, direction,
 *    minimum deviations and feedback all apply.
 * 2. Calibration ("anomaly likelihood"), at SHORT_SPANS time scales: an EW average of
 *    u = log(1 + ratio) is compared with its own long-run distribution, giving a tail probability;
 *    the surprise is -log10 of the smallest one, less log10(scales) (Bonferroni).
 *    - Single rows (span 1) have heavy, quantised tails on real series: empirical tail from an EW
 *      histogram up to its TAIL_LEVEL quantile, above it an exponential tail in u (peaks over
 *      threshold; a Pareto tail of the ratio) with a winsorized mean excess learned from a prior.
 *    - Averages (longer spans) are close to Gaussian: Gaussian tail against their EW mean and
 *      standard deviation (learned winsorized; tighter while the row is surprising, the hold, so an
 *      anomaly is not learned as ordinary variation and the same anomaly later still pages).
 * 3. Onset gate: `memory` is a running maximum of recent surprises that decays with a half-life
 *    and is forgotten once the series has been quiet for a while (forgetRows); a row counts
 *    min(surprise, (surprise - memory) / GATE_MARGIN), so only what beats what was already seen
 *    scores. Recovery: when an onset is reported, the point band of the last normal
 *    row is frozen for RECOVERY_ROWS rows, and a value back inside it (the series returning to its
 *    previous normal) has its surprise cut to RECOVERY_FACTOR, also after those rows while a return
 *    that began inside them settles.
 * 4. Spread channel (spread-channel.ts): flatlines and variance drops, which the member cannot see
 *    (a value inside its band scores 0 however long the series has stood still). Its surprise, less
 *    the Bonferroni penalty of its scales and of the channel, is reported per excursion
 *    (calibration.ts gateExcursion: its evidence grows with every still row, so the memory gate
 *    would let it page on every row). While it reports a collapse, the member's spreads are held
 *    at what they were before it, so the return of ordinary noise is not an anomaly.
 * 5. Ratio channel (ratio-channel.ts): on a series that never goes negative, a relative change of
 *    level (a rate falling to a fifth) that the member, working in the series' own units, can miss.
 *    Its surprise joins the member's before the gates (the larger of the two).
 * 6. score = q^2 / (1 + q^2), q = gated surprise / (HALF_SCORE_SURPRISE x sensitivity x feedback
 *    x the false-alarm budget's raise: past `budget` pages in a day of data time, each further page
 *    needs twice the surprise; the rows this holds back are counted in the state).
 *
 * Every constant below was chosen by `npm run eval:anomalies` on both suites (synthetic and
 * recorded), never on a public benchmark.
 */
export const ONSET_TUNING = {
  /** EW spans (rows) of the averages of u that are calibrated: several time scales. */
  shortSpans: [1, 6, 30],
  /** EW span (rows) of the long-run distributions the averages are compared with. */
  longSpan: 1500,
  /**
   * Rows of raw ratios the calibration learns before it scores. Until then the member scores,
   * gated for onsets (warmupRepeat), so a new series is not blind for its first hours.
   */
  calWarmup: 200,
  /** While the calibration warms up: a row after one the member flagged scores this fraction of the member's score. */
  warmupRepeat: 0.1,
  /** Gaussian scales: learning winsorized at mean + this many standard deviations. */
  learnCap: 4,
  /** Gaussian scales: floors of the standard deviation (absolute, and relative to the mean). */
  minSpread: 0.05,
  minRelSpread: 0.1,
  /** Gaussian scales: spread widened by sqrt(1 + smallSample x span / rows seen). */
  smallSample: 32,
  /** Single rows: quantile above which the exponential tail is used. */
  tailLevel: 0.98,
  /** Single rows: prior and floor of the mean excess over that quantile (units of u). */
  priorExcess: 0.15,
  minExcess: 0.03,
  /** Single rows: excesses learned winsorized at this multiple of the current mean, at most at this rate. */
  excessCap: 3,
  maxExcessRate: 0.2,
  /**
   * Calibration hold: a row the calibration finds surprising (at least normalSurprise decades) is
   * learned by the averages' distributions winsorized at this many standard deviations instead of
   * learnCap, for at most holdRows rows in a row (then a lasting change is learned as usual). An
   * anomaly learned at 4 sd widened the 30-row average's spread about fourfold, so the same
   * anomaly a while later no longer paged. 0 turns it off.
   */
  holdCap: 2,
  holdRows: 300,
  /** Half-life (rows) of the memory of recent surprises. */
  memoryHalfLife: 200,
  /**
   * After this many rows in a row below normalSurprise the memory is forgotten: the anomaly it
   * remembers is over, and a second one soon after it is news. With the half-life alone, a 10-decade
   * event kept the series blind to the next event of its size for ~200 rows (a CPU hog 80 rows
   * after a slow-query storm). 0 turns it off.
   */
  forgetRows: 50,
  /**
   * The gates see surprises capped at this many decades (the memory holds at most this, and the
   * climb gate measures excursions in it); the score still uses the whole surprise. Beyond 1 in
   * 10^10 "how surprising" ranks nothing, but a 20-decade event remembered at 20 kept a quiet
   * series blind to the next event of its size for ~200 rows (half-life 200: still 10 decades).
   */
  memoryCap: 10,
  /** A row counts (surprise - memory) / gateMargin, at most its surprise. */
  gateMargin: 0.33,
  /** Surprise cap (decades). */
  maxSurprise: 20,
  /** Recovery: rows after an onset during which a return to the previous band is discounted. */
  recoveryRows: 300,
  recoveryFactor: 0.2,
  /**
   * A return that began inside the recovery window keeps its discount after the window ends, for
   * as long as the value stays inside the band and the surprise has not yet fallen below
   * normalSurprise: the 6- and 30-row averages still hold the anomaly for a while after the value
   * is back (a 250-row shift that ended paged again 30 rows later, when the window ran out).
   */
  recoverySettle: true,
  /** Recovery: a gated surprise this high is an onset; below normalSurprise a row is normal. */
  recoveryOnset: 3,
  normalSurprise: 2,
  /** Surprise (decades) at which the score is 0.5 at medium sensitivity. */
  halfScoreSurprise: 4,
  /**
   * The spread channel (flatlines, variance drops): its evidence accumulates row by row, so it
   * reports excursions (calibration.ts gateExcursion): from `channelStart` decades, again at
   * `channelRatio` times the last report, until the surprise falls below `channelEnd`.
   */
  channelStart: 2,
  channelEnd: 1,
  channelRatio: 2,
  /** Decades taken off the channel's surprise: Bonferroni for a second channel besides the member's three scales. */
  channelPenalty: Math.log10(3),
  spreadChannel: true,
  /**
   * While the spread channel reports a collapse, the member's spreads are held at least at what
   * they were before it (for at most this many rows), so the return of ordinary noise after a
   * flatline or a variance drop is not taken for an anomaly.
   */
  pinRows: 1440,
  /**
   * False-alarm budget per series: pages (a flagged row more than budgetGapRows cadences after the
   * previous one) in the last budgetWindowMs of data time. Past `budget` of them, the k-th further
   * page needs 2^k times the surprise (so at most budget + 2 pages a day at medium); rows
   * the raise kept below 0.5 are counted in the state (`budget.suppressed`), not dropped silently.
   * 0 turns the budget off.
   */
  budget: 6,
  budgetWindowMs: 86_400_000,
  budgetGapRows: 3,
  /**
   * The budget's day starts over when the calibration takes over from the warm-up: the warm-up's
   * pages (the member's own score, noisier) are budgeted among themselves and do not spend the
   * calibrated detector's first day (a series that paged six times while warming up was blind to
   * real anomalies for the rest of the day; measured in docs/anomaly-detection.md, sixth pass).
   */
  budgetFreshStart: true,
  /**
   * Climb gate: the member's surprise is also reported per excursion, like the spread channel's
   * (from channelStart decades and climbRatio x the memory at the excursion's start, then at each
   * climbRatio-fold rise, until it falls below channelEnd). The memory gate counts only a row's rise
   * over the recent maximum, so evidence that builds up a little on every row (a drift, a shift
   * whose 6- and 30-row averages fill) never scored however high it climbed; now it pages once it
   * has doubled, and again only if it doubles again.
   */
  climbGate: true,
  climbRatio: 2,
  /**
   * A series that stood perfectly still and then came alive (a counter at 0 before its traffic
   * began): the member flags every row of that first change until it adopts the new normal, and
   * the calibration learned those rows as ordinary, so its single-row tail stayed heavy for
   * ~2,000 rows (9-sigma spikes scored 0.00-0.83, median 0.29). When the member adopts that change,
   * the calibration starts over (warm-up included): a still series has no history of ratios worth
   * keeping. false turns it off.
   */
  wakeRestart: true,
  /**
   * A series that was much quieter before (the member's first adopted episode left its residual
   * scale at least this many times what it was when the episode began): the calibration is set
   * back to what it was when that episode began, so the rows where the series came alive (ratios
   * inflated by the too-small old scale) are not learned, while its history, which is in ratios
   * and so still holds at the wider scale, is kept. Restarting it instead (with its warm-up) cost
   * 1-2 points on the recorded and injected suites. 0 turns it off.
   */
  wakeRestore: 3,
  /** The ratio channel (ratio-channel.ts, RATIO_TUNING). false turns it off. */
  ratioChannel: true,
};

const HIST_BINS = 64;
const HIST_WIDTH = 0.05;
/** E|x_t - x_(t-1)| of white noise is this many standard deviations (sqrt(2) x sqrt(2 / pi)). */
const DIFF_TO_STD = 1.1284;
/** Medium sensitivity's threshold in robust sigmas: sensitivity scales the surprise relative to it. */
const MEDIUM_THRESHOLD = 5;

/** One time scale's calibration. */
type Scale = {
  span: number;
  /** EW average of u over `span` rows. */
  short: number;
  /** Gaussian scales: EW mean and variance of `short`. */
  mean: number;
  var: number;
  /** Single rows: EW histogram of u (HIST_BINS bins of HIST_WIDTH; lazy decay through `weight`). */
  hist?: number[];
  total?: number;
  weight?: number;
  /** Single rows: EW mean excess over the tail quantile. */
  excess?: number;
};

export type Calibrator = {
  /** Raw ratios seen. */
  n: number;
  scales: Scale[];
  /** Surprising rows in a row learned under the hold (ONSET_TUNING.holdCap). Absent in states saved before it (then 0). */
  held?: number;
};

export type OnsetState = {
  version: 1;
  detector: 'onset';
  config: BaseState['config'];
  parts: { ewma: EwmaState };
  cal: Calibrator;
  /** Decaying running maximum of recent surprises (decades). */
  memory: number;
  /** Rows in a row below normalSurprise (ONSET_TUNING.forgetRows). Absent in states saved before it (then 0). */
  quiet?: number;
  /** Usable rows stepped. */
  rows: number;
  /** The member's point band at the last normal row, and the one frozen at the last onset. */
  band?: { lower: number; upper: number };
  ref?: { at: number; lower: number; upper: number; back?: boolean };
  /** The member's score at the previous scored row and its time, while the calibration warms up. */
  warmPrev?: number;
  warmPrevAt?: number;
  /**
   * The spread channel (spread-channel.ts) and its excursion gate. Absent in states saved before
   * it: created on the next row, it learns from there (and scores after its own warm-up).
   */
  spread?: SpreadChannel;
  spreadGate?: ExcursionGate;
  /** The member's spreads at the last row the spread channel found normal, and when a collapse was first reported. */
  pin?: { at: number | null; absResidual: number; absShift: number; absDrift: number; absDiff: number };
  /**
   * The false-alarm budget (ONSET_TUNING.budget): times of this series' pages in the last day, the
   * last flagged row, and how many rows the raise kept from paging (the excess, counted).
   */
  budget?: { pages: number[]; lastFlag: number | null; suppressed: number };
  /**
   * The climb gate's excursion (ONSET_TUNING.climbGate): whether one is on, the memory at its
   * start, the last surprise reported. Absent in states saved before it: created on the next row.
   */
  climb?: { on: boolean; floor: number; reported: number };
  /**
   * ONSET_TUNING.wakeRestart / wakeRestore (followWake): while the member's episode is open, its
   * residual scale when the episode began (0: the series had stood still) and, for a series that
   * had not, a copy of the calibration then. Dropped at the member's first adopted episode; absent
   * in states saved before it (then neither applies).
   */
  wake?: { scale?: number; snap?: Calibrator };
  /**
   * The ratio channel (ratio-channel.ts). Absent in states saved before it: created on the next
   * row, it learns from there (and scores after its own warm-up).
   */
  ratio?: RatioChannel;
};

function createCalibrator(): Calibrator {
  return {
    n: 0,
    held: 0,
    scales: ONSET_TUNING.shortSpans.map((span) => ({
      span,
      short: 0,
      mean: 0,
      var: 0,
      ...(span === 1 ? { hist: new Array<number>(HIST_BINS).fill(0), total: 0, weight: 1, excess: ONSET_TUNING.priorExcess } : {}),
    })),
  };
}

function cloneCalibrator(c: Calibrator): Calibrator {
  return { ...c, scales: c.scales.map((s) => (s.hist ? { ...s, hist: [...s.hist] } : { ...s })) };
}

export function createOnsetState(config: DetectorConfigInput = {}): OnsetState {
  const parsed = DetectorConfig.parse({ ...config, detector: 'onset' });
  // The member keeps the medium sensitivity: sensitivity moves the surprise that pages (below), so
  // scores are monotonic in it.
  const memberConfig = { ...config };
  delete memberConfig.detector;
  delete memberConfig.sensitivity;
  return {
    version: 1,
    detector: 'onset',
    config: resolveConfig(parsed, 'onset', { window: 60, warmup: 30 }),
    parts: { ewma: createEwmaState(memberConfig) },
    cal: createCalibrator(),
    memory: 0,
    quiet: 0,
    rows: 0,
    spread: createSpreadChannel(),
    spreadGate: { reported: 0 },
    pin: { at: null, absResidual: 0, absShift: 0, absDrift: 0, absDiff: 0 },
    budget: { pages: [], lastFlag: null, suppressed: 0 },
    climb: { on: false, floor: 0, reported: 0 },
    wake: {},
    ratio: createRatioChannel(),
  };
}

/** Inverts the members' score curve r^4 / (1 + r^4): the deviation over the member's threshold. */
function ratioOf(score: number): number {
  if (!(score > 0)) return 0;
  if (score >= 1) return 1e4;
  return Math.min(1e4, Math.pow(score / (1 - score), 0.25));
}

/** Single rows: the histogram tail's parameters (calibration.ts histTailSurprise). */
function tailOpts(): TailOpts {
  const P = ONSET_TUNING;
  return { width: HIST_WIDTH, tailLevel: P.tailLevel, minExcess: P.minExcess, excessCap: P.excessCap, maxExcessRate: P.maxExcessRate };
}

/** A Gaussian scale's standard deviation, floored (absolute and relative to its mean). */
function scaleSpread(s: Scale): number {
  return Math.max(Math.sqrt(s.var), ONSET_TUNING.minSpread, ONSET_TUNING.minRelSpread * s.mean);
}

/** Surprise (decades) of this raw ratio against the calibrator's history; then learns it. */
function calibrate(c: Calibrator, ratio: number): number {
  const P = ONSET_TUNING;
  const u = Math.log1p(ratio);
  c.n += 1;
  const warm = c.n > P.calWarmup;
  const alpha = Math.max(1 / c.n, 1 / P.longSpan);
  let surprise = 0;
  for (const s of c.scales) {
    s.short = c.n === 1 ? u : s.short + (2 / (s.span + 1)) * (u - s.short);
    if (!warm) continue;
    if (s.hist) {
      surprise = Math.max(surprise, histTailSurprise(s as Scale & TailHist, s.short, tailOpts()));
      continue;
    }
    const sd = scaleSpread(s);
    // Few independent averages of `span` rows so far: widen like a small-sample bound, so slow
    // movement not yet seen (the first day of a daily cycle) does not look like an anomaly.
    const inflate = Math.sqrt(1 + (P.smallSample * s.span) / Math.min(c.n, P.longSpan));
    surprise = Math.max(surprise, gaussianSurprise((s.short - s.mean) / (sd * inflate)));
  }
  surprise = warm ? Math.min(P.maxSurprise, Math.max(0, surprise - Math.log10(c.scales.length))) : 0;
  const held = P.holdCap > 0 && surprise >= P.normalSurprise && (c.held ?? 0) < P.holdRows;
  c.held = held ? (c.held ?? 0) + 1 : surprise >= P.normalSurprise ? (c.held ?? 0) : 0;
  const cap = held ? P.holdCap : P.learnCap;
  for (const s of c.scales) {
    if (s.hist) {
      const h = s as Scale & TailHist;
      histTailLearn(h, s.short, alpha, tailOpts());
      continue;
    }
    const sd = scaleSpread(s);
    // Winsorized, so one extreme stretch cannot blind the series for long.
    const d = (c.n === 1 ? s.short : Math.min(s.short, s.mean + cap * sd)) - s.mean;
    s.mean += alpha * d;
    s.var = (1 - alpha) * (s.var + alpha * d * d);
  }
  return surprise;
}

type Channels = { spread: SpreadChannel; spreadGate: ExcursionGate };

function channelsOf(state: OnsetState): Channels {
  state.spread ??= createSpreadChannel();
  state.spreadGate ??= { reported: 0 };
  return state as OnsetState & Channels;
}

/**
 * Steps the spread channel on every usable row (it learns during the member's warm-up too) and
 * returns its surprise (decades, less its Bonferroni penalties; the drop is in `spread.z`). A flatline
 * or a variance drop has no direction: only a detector watching both directions pages for one,
 * and only when the noise that vanished was above the minimum deviations.
 */
function readSpread(state: OnsetState, ch: Channels, point: DataPoint, expected: number | null): number {
  const P = ONSET_TUNING;
  const cfg = state.config;
  const raw = stepSpreadChannel(ch.spread, point.value, ch.spreadGate.reported > 0);
  if (!(raw > 0)) return 0;
  const noise = ch.spread.typical / DIFF_TO_STD;
  const ok = P.spreadChannel && cfg.direction === 'both' && noise >= cfg.minAbsDeviation && noise >= cfg.minRelDeviation * Math.abs(expected ?? point.value);
  return ok ? Math.max(0, Math.min(P.maxSurprise, raw - Math.log10(SPREAD_TUNING.spans.length) - P.channelPenalty)) : 0;
}

/**
 * Steps the ratio channel on every usable row and returns its reading; its surprise counts only in
 * the directions the configuration watches and when the change is at least the minimum deviations.
 */
function readRatio(state: OnsetState, ch: Channels, point: DataPoint): RatioReading | null {
  if (!ONSET_TUNING.ratioChannel) return null;
  const reading = stepRatioChannel((state.ratio ??= createRatioChannel()), point.value, ch.spread.typical / DIFF_TO_STD);
  if (!(reading.surprise > 0)) return reading;
  const cfg = state.config;
  const watched = cfg.direction === 'both' || (cfg.direction === 'up' ? reading.z > 0 : reading.z < 0);
  const change = Math.abs(reading.change);
  if (!watched || change < cfg.minAbsDeviation || change < cfg.minRelDeviation * Math.abs(reading.expected)) reading.surprise = 0;
  else reading.surprise = Math.min(ONSET_TUNING.maxSurprise, reading.surprise);
  return reading;
}

/**
 * While the spread channel reports a collapse, the member's spreads may not shrink below what
 * they were before it: learning the collapse would make ordinary noise look anomalous when it
 * comes back. At most ONSET_TUNING.pinRows rows after the collapse was reported (then a lasting
 * quieter regime is the new normal).
 */
function pinMemberSpreads(state: OnsetState, ch: Channels, spreadSurprise: number): void {
  const P = ONSET_TUNING;
  const m = state.parts.ewma.model;
  const active = ch.spreadGate.reported > 0;
  if (!active) {
    if (spreadSurprise < P.channelEnd) {
      // In place: this runs on almost every row.
      const pin = (state.pin ??= { at: null, absResidual: 0, absShift: 0, absDrift: 0, absDiff: 0 });
      pin.at = null;
      pin.absResidual = m.absResidual;
      pin.absShift = m.absShift;
      pin.absDrift = m.absDrift;
      pin.absDiff = m.absDiff ?? 0;
    }
    return;
  }
  const pin = state.pin;
  if (!pin) return;
  pin.at ??= state.rows;
  if (state.rows - pin.at > P.pinRows) return;
  m.absResidual = Math.max(m.absResidual, pin.absResidual);
  m.absShift = Math.max(m.absShift, pin.absShift);
  m.absDrift = Math.max(m.absDrift, pin.absDrift);
  if (m.absDiff !== undefined) m.absDiff = Math.max(m.absDiff, pin.absDiff);
}

export function stepOnset(state: OnsetState, point: DataPoint): StepResult {
  if (!isUsablePoint(point)) {
    const skipped = skippedResult(state.parts.ewma, point, 'stddev');
    return { ...skipped, explanation: { ...skipped.explanation, detector: 'onset' } };
  }
  const P = ONSET_TUNING;
  const ch = channelsOf(state);
  const scaleBefore = state.parts.ewma.model.absResidual;
  const hadEpisode = state.parts.ewma.episode !== null;
  const member = stepEwma(state.parts.ewma, point);
  const e = member.explanation;
  const spreadSurprise = readSpread(state, ch, point, e.expected);
  let surprise = e.status === 'scored' ? calibrate(state.cal, ratioOf(member.score)) : 0;
  // The ratio channel's surprise joins the member's (once the calibration scores): the larger counts.
  const ratio = readRatio(state, ch, point);
  const ratioSurprise = ratio && state.cal.n > P.calWarmup ? ratio.surprise : 0;
  const byRatio = ratioSurprise > surprise;
  if (byRatio) surprise = ratioSurprise;
  let gated = 0;
  let bySpread = false;
  let suppressed = false;
  let score: number;
  if (state.cal.n <= P.calWarmup) {
    // The calibration is still learning the series: the member's own score, but only the first row
    // of a run of its flags pages (a shift that persists is not news on every row). A run ends at a
    // gap of more than 3 cadences: a series that comes back after a silence is news again.
    const recent = state.warmPrevAt !== undefined && point.timestamp - state.warmPrevAt <= 3 * (state.parts.ewma.cadenceMs ?? 60_000);
    const prev = recent ? (state.warmPrev ?? 0) : 0;
    if (e.status === 'scored') {
      state.warmPrev = member.score;
      state.warmPrevAt = point.timestamp;
    }
    score = prev >= ANOMALY_THRESHOLD ? member.score * P.warmupRepeat : member.score;
  } else {
    if (e.status === 'scored' && state.cal.n === P.calWarmup + 1) startBudgetDay(state);
    // Recovery: after an onset, a value back inside the band that was normal before it is not news.
    // A return that began inside the recovery window keeps its discount while it settles (the
    // longer averages still hold the anomaly for a while after the value is back).
    const ref = state.ref;
    const inside = ref !== undefined && e.observed !== null && e.observed >= ref.lower && e.observed <= ref.upper;
    const recent = ref !== undefined && state.rows - ref.at <= P.recoveryRows;
    if (ref && inside && (recent || (P.recoverySettle && ref.back === true))) {
      ref.back = surprise >= P.normalSurprise;
      surprise *= P.recoveryFactor;
    } else if (ref) ref.back = false;

    // Onset gate: only what beats the decaying memory of recent surprises counts, or (climb gate)
    // an excursion of the surprise that has doubled since it was last reported. Both see the
    // surprise capped at memoryCap; a row that passes scores with its whole surprise.
    const remembered = Math.min(surprise, P.memoryCap);
    // States saved before the cap may remember more: what they hold is capped like the rest.
    if (state.memory > P.memoryCap) state.memory = P.memoryCap;
    const excess = remembered - state.memory;
    gated = excess <= 0 ? 0 : Math.min(surprise, excess / P.gateMargin);
    if (P.climbGate && climbReports(state, remembered)) gated = surprise;
    remember(state, remembered, recent && !inside);

    // The spread channel's evidence accumulates: it reports its excursions.
    const spreadGated = gateExcursion(ch.spreadGate, spreadSurprise, P.channelStart, P.channelEnd, P.channelRatio);
    if (spreadGated > gated) {
      gated = spreadGated;
      bySpread = true;
    }

    // Sensitivity and "not an anomaly" feedback move the surprise that scores 0.5: medium (5 robust
    // sigmas) keeps halfScoreSurprise, high (3.5) lowers it, low (7) raises it; feedback multiplies
    // it by the raise recorded in the member.
    const half = P.halfScoreSurprise * (state.config.threshold / MEDIUM_THRESHOLD) * state.parts.ewma.thresholdScale;
    score = scoreOf(gated, half * budgetRaise(state, point.timestamp));
    if (score < ANOMALY_THRESHOLD && scoreOf(gated, half) >= ANOMALY_THRESHOLD) {
      state.budget!.suppressed += 1;
      suppressed = true;
    }
  }
  if (score >= ANOMALY_THRESHOLD) recordPage(state, point.timestamp);
  pinMemberSpreads(state, ch, spreadSurprise);
  if (state.wake !== undefined) followWake(state, state.wake, scaleBefore, hadEpisode);

  state.rows += 1;
  const anySurprise = Math.max(surprise, spreadSurprise);
  const ratioExplains = byRatio && !bySpread && gated > 0 && ratio !== null;
  if (e.status === 'scored' && e.lower !== null && e.upper !== null) {
    // An onset the ratio channel found arms no recovery band: its value is often still inside the
    // member's band, and every in-band row after it would be discounted (pooled +0.3 | +0.4).
    if (gated >= P.recoveryOnset && !ratioExplains) {
      if (!state.ref || state.rows - state.ref.at > P.recoveryRows) {
        state.ref = { at: state.rows, lower: state.band?.lower ?? e.lower, upper: state.band?.upper ?? e.upper };
      }
    } else if (anySurprise < P.normalSurprise) state.band = { lower: e.lower, upper: e.upper };
  }
  const result: StepResult = {
    score,
    anomalous: score >= ANOMALY_THRESHOLD,
    // The spread channel's explanation: the member's band and expectation (still what a value
    // should be), with the standardised drop of the series' variability as the deviation.
    // The ratio channel's: the member's band, with the standardised change of the log ratio to the
    // recent level as the deviation (a sustained statistic: the value may be inside the band).
    explanation: bySpread
      ? { ...e, detector: 'onset', component: 'onset', statistic: 'spread', deviation: -ch.spread.z, direction: 'none' }
      : ratioExplains
        ? { ...e, detector: 'onset', component: 'onset', statistic: 'sustained', deviation: ratio.z, direction: ratio.z > 0 ? 'up' : 'down' }
        : { ...e, detector: 'onset', component: e.detector },
    persisting: member.anomalous || spreadSurprise >= P.normalSurprise || ratioSurprise >= P.normalSurprise,
  };
  if (suppressed) result.suppressed = true;
  return result;
}

/**
 * ONSET_TUNING.wakeRestart and wakeRestore: what the calibration keeps when a series comes alive.
 * Until the member's first adopted episode (`wake` is dropped then), the state notes the member's
 * residual scale when its open episode began (0: the series had stood still; every value it learned
 * was its level, a flagged blip is not learned) and otherwise a copy of the calibration. When the
 * member adopts that episode (the series moved to a new normal), a still series' calibration starts
 * over with its warm-up, and the memory and the climb gate with it; a series whose scale widened at
 * least wakeRestore-fold gets the copy back. An episode that ended on its own (a blip of a sparse
 * count) changes nothing.
 */
function followWake(state: OnsetState, wake: NonNullable<OnsetState['wake']>, scaleBefore: number, hadEpisode: boolean): void {
  const m = state.parts.ewma;
  if (!hadEpisode) {
    if (m.episode === null) return;
    wake.scale = scaleBefore;
    if (scaleBefore > 0 && ONSET_TUNING.wakeRestore > 0) wake.snap = cloneCalibrator(state.cal);
    return;
  }
  if (m.episode !== null) return;
  const { scale, snap } = wake;
  // Assigned undefined, never deleted: `delete` turns an object's properties into V8's slow
  // dictionary mode, and this state is read on every row (about 20% slower after an adoption; perf.md).
  // JSON drops undefined values, so the saved state is the same.
  wake.scale = undefined;
  wake.snap = undefined;
  if (m.recentEpisodes[m.recentEpisodes.length - 1]?.adopted !== true || scale === undefined) return;
  state.wake = undefined;
  if (scale === 0) {
    if (!ONSET_TUNING.wakeRestart) return;
    state.cal = createCalibrator();
    state.memory = 0;
    state.climb = { on: false, floor: 0, reported: 0 };
    state.warmPrev = undefined;
    state.warmPrevAt = undefined;
  } else if (snap && m.model.absResidual >= ONSET_TUNING.wakeRestore * scale) {
    state.cal = snap;
  }
}

/**
 * The memory after this row: the decayed maximum of recent (capped) surprises, forgotten after
 * ONSET_TUNING.forgetRows quiet rows in a row. A row is quiet when nothing is surprising and it is
 * not `away`: within the recovery window of an onset, outside the band that was normal before it.
 * A shift the member adopted is calm, but its return would be news to an empty memory, while the
 * recovery discount assumes the memory still holds the onset.
 */
function remember(state: OnsetState, surprise: number, away: boolean): void {
  const P = ONSET_TUNING;
  state.quiet = surprise < P.normalSurprise && !away ? (state.quiet ?? 0) + 1 : 0;
  const forget = P.forgetRows > 0 && state.quiet > P.forgetRows;
  state.memory = Math.max(forget ? 0 : state.memory * Math.pow(0.5, 1 / P.memoryHalfLife), surprise);
}

/** The climb gate (ONSET_TUNING.climbGate): whether this row reports the excursion of the (capped) surprise, at its start or a doubling. */
function climbReports(state: OnsetState, surprise: number): boolean {
  const P = ONSET_TUNING;
  const c = (state.climb ??= { on: false, floor: 0, reported: 0 });
  if (surprise < P.channelEnd) {
    c.on = false;
    c.reported = 0;
    return false;
  }
  if (!c.on) {
    if (surprise < P.channelStart) return false;
    c.on = true;
    c.floor = state.memory;
    c.reported = 0;
  }
  const need = c.reported > 0 ? P.climbRatio * c.reported : Math.max(P.channelStart, P.climbRatio * c.floor);
  if (surprise < need) return false;
  c.reported = surprise;
  return true;
}

function scoreOf(gated: number, half: number): number {
  const q = gated / half;
  return (q * q) / (1 + q * q);
}

/**
 * The false-alarm budget's raise of the surprise that scores 0.5: 1 while the series has paged
 * fewer than ONSET_TUNING.budget times in the last day, then doubling with every page over it. The
 * budget lives in the detector's state (no table): the scanner and the CLI enforce it alike.
 */
function budgetRaise(state: OnsetState, t: number): number {
  const P = ONSET_TUNING;
  const b = (state.budget ??= { pages: [], lastFlag: null, suppressed: 0 });
  while (b.pages.length > 0 && b.pages[0]! <= t - P.budgetWindowMs) b.pages.shift();
  if (!(P.budget > 0) || b.pages.length < P.budget) return 1;
  return Math.pow(2, 1 + b.pages.length - P.budget);
}

/**
 * The calibration's first scored row (ONSET_TUNING.budgetFreshStart): the budget's day starts over,
 * so the pages the member made while the calibration warmed up do not count against the
 * calibrated detector (budgetRaise). Pages before it were limited among themselves.
 */
function startBudgetDay(state: OnsetState): void {
  if (ONSET_TUNING.budgetFreshStart && state.budget) state.budget.pages = [];
}

/** A flagged row is a new page unless the previous flag was at most budgetGapRows cadences before. */
function recordPage(state: OnsetState, t: number): void {
  const P = ONSET_TUNING;
  const b = (state.budget ??= { pages: [], lastFlag: null, suppressed: 0 });
  const gap = P.budgetGapRows * (state.parts.ewma.cadenceMs ?? 60_000);
  if (b.lastFlag === null || t - b.lastFlag > gap) b.pages.push(t);
  b.lastFlag = t;
}

export const onsetDetector: Detector<OnsetState> = {
  name: 'onset',
  description: 'Onset scores: the ewma detector\'s deviations calibrated against their own history at three time scales (anomaly likelihood), plus flatlines and variance drops, reported when newly surprising; a false-alarm budget per series per day.',
  createState: createOnsetState,
  step: stepOnset,
};
