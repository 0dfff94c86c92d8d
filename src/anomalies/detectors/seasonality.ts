import type { Seasonality } from './schemas.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** Candidate periods and the resolution their profile is kept at. */
const CANDIDATES = [
  { periodMs: HOUR, bins: 'fine', maxBuckets: 60 },
  { periodMs: DAY, bins: 'hourly', maxBuckets: 288 },
  { periodMs: WEEK, bins: 'hourly', maxBuckets: 336 },
] as const;
type BinsName = (typeof CANDIDATES)[number]['bins'];

/**
 * Autocorrelation (after removing a one-period moving average, so trends and level shifts do not
 * look periodic) above which a period counts as seasonal: at least MIN_ACF and four standard
 * errors of an ACF estimated from that many bin pairs, so short histories need stronger evidence
 * (the test reruns every half period, so a looser bar eventually passes on noise).
 */
const MIN_ACF = 0.3;
const MIN_PAIRS = 48;
/** A period is only tested once this many periods of history exist. */
const MIN_PERIODS = 2;
/** A longer period replaces a shorter one only when clearly better (it learns more slowly). */
const LONGER_PERIOD_MARGIN = 0.05;
/** Below this a previously detected period is dropped. */
const DROP_ACF = 0.1;
const PROFILE_RATE = 0.25;

/** Bucketed history used only to detect the period; ring-indexed by absolute bin number. */
export type BinSeries = {
  binMs: number;
  capacity: number;
  firstBin: number | null;
  lastBin: number | null;
  sums: number[];
  counts: number[];
  lastCheckBin: number | null;
};

export type SeasonalityState = {
  mode: 'auto' | 'fixed' | 'none';
  periodMs: number | null;
  /** Profile resolution, fixed once the cadence is known. */
  buckets: number;
  /** Additive offset per phase bucket, learned online (Holt-Winters-style seasonal term). */
  profile: number[];
  /** Bumped whenever the profile is replaced wholesale, so models can re-deseasonalize history. */
  generation: number;
  bins: { fine: BinSeries; hourly: BinSeries } | null;
  /** Latest ACF verdict per CANDIDATES entry (null: not enough history yet). */
  evidence: ({ acf: number; threshold: number } | null)[];
};

function createBins(binMs: number, capacity: number): BinSeries {
  return {
    binMs,
    capacity,
    firstBin: null,
    lastBin: null,
    sums: new Array<number>(capacity).fill(0),
    counts: new Array<number>(capacity).fill(0),
    lastCheckBin: null,
  };
}

export function createSeasonality(seasonality: Seasonality): SeasonalityState {
  if (seasonality === 'none') return { mode: 'none', periodMs: null, buckets: 0, profile: [], generation: 0, bins: null, evidence: [] };
  if (seasonality === 'auto') {
    return {
      mode: 'auto',
      periodMs: null,
      buckets: 0,
      profile: [],
      generation: 0,
      // Six periods of each: enough for the ACF test, small enough to keep state a few KB.
      bins: { fine: createBins(5 * 60_000, 72), hourly: createBins(HOUR, 6 * 168) },
      evidence: CANDIDATES.map(() => null),
    };
  }
  const periodMs = seasonality === 'hourly' ? HOUR : seasonality === 'daily' ? DAY : seasonality === 'weekly' ? WEEK : seasonality;
  return { mode: 'fixed', periodMs, buckets: 0, profile: [], generation: 0, bins: null, evidence: [] };
}

function bucketOf(s: SeasonalityState, periodMs: number, timestamp: number): number {
  const phase = ((timestamp % periodMs) + periodMs) % periodMs;
  return Math.min(s.buckets - 1, Math.floor((phase / periodMs) * s.buckets));
}

export function seasonalOffset(s: SeasonalityState, timestamp: number): number {
  if (s.periodMs === null || s.buckets === 0) return 0;
  return s.profile[bucketOf(s, s.periodMs, timestamp)] ?? 0;
}

function bucketCount(periodMs: number, cadenceMs: number): number {
  const max = CANDIDATES.find((c) => c.periodMs === periodMs)?.maxBuckets ?? 288;
  return Math.max(4, Math.min(max, Math.round(periodMs / Math.max(cadenceMs, 1))));
}

/**
 * Feeds one (already clipped) value. `level` is the model's deseasonalized level, so the profile
 * learns value - level per phase. Returns true when the profile was replaced and a model holding
 * deseasonalized history must recompute it.
 */
export function observeSeasonality(
  s: SeasonalityState,
  timestamp: number,
  value: number,
  level: number,
  cadenceMs: number | null,
  learnProfile = true,
): boolean {
  if (s.mode === 'none') return false;
  let replaced = false;
  if (s.mode === 'fixed' && s.periodMs !== null && s.buckets === 0 && cadenceMs !== null) {
    s.buckets = bucketCount(s.periodMs, cadenceMs);
    s.profile = new Array<number>(s.buckets).fill(0);
  }
  if (s.bins && cadenceMs !== null) {
    if (addToBins(s.bins.fine, timestamp, value)) replaced = reconsiderPeriod(s, cadenceMs, 'fine');
    if (addToBins(s.bins.hourly, timestamp, value)) replaced = reconsiderPeriod(s, cadenceMs, 'hourly') || replaced;
  }
  if (s.periodMs !== null && s.buckets > 0 && !replaced && learnProfile) {
    const b = bucketOf(s, s.periodMs, timestamp);
    const target = value - level;
    nudge(s.profile, b, target, PROFILE_RATE);
  }
  return replaced;
}

function nudge(profile: number[], i: number, target: number, rate: number): void {
  const cur = profile[i] ?? 0;
  profile[i] = cur + rate * (target - cur);
}

/** Adds a value to its bin; returns true when a new bin opened and a periodic check is due. */
function addToBins(b: BinSeries, timestamp: number, value: number): boolean {
  const bin = Math.floor(timestamp / b.binMs);
  if (b.lastBin === null || b.firstBin === null) {
    b.firstBin = bin;
    b.lastBin = bin;
  } else if (bin > b.lastBin) {
    // Clear the slots being reused; a gap longer than the ring wipes everything.
    const from = Math.max(b.lastBin + 1, bin - b.capacity + 1);
    for (let i = from; i <= bin; i++) {
      const slot = i % b.capacity;
      b.sums[slot] = 0;
      b.counts[slot] = 0;
    }
    b.lastBin = bin;
    b.firstBin = Math.max(b.firstBin, bin - b.capacity + 1);
  } else if (bin < b.firstBin) {
    return false; // too old (out of order beyond the ring)
  }
  const slot = bin % b.capacity;
  b.sums[slot] = (b.sums[slot] ?? 0) + value;
  b.counts[slot] = (b.counts[slot] ?? 0) + 1;
  const due = b.lastCheckBin === null || bin - b.lastCheckBin >= (b.binMs === HOUR ? 4 : 6);
  if (due) b.lastCheckBin = bin;
  return due;
}

/** Completed bin means (null where empty), oldest first; the current, partial bin is excluded. */
function binMeans(b: BinSeries): { first: number; means: (number | null)[] } {
  if (b.firstBin === null || b.lastBin === null) return { first: 0, means: [] };
  const means: (number | null)[] = [];
  for (let i = b.firstBin; i < b.lastBin; i++) {
    const slot = i % b.capacity;
    const c = b.counts[slot] ?? 0;
    means.push(c > 0 ? (b.sums[slot] ?? 0) / c : null);
  }
  return { first: b.firstBin, means };
}

/** Subtracts a centred moving average one period long, truncated at the edges. */
function detrend(means: (number | null)[], period: number): (number | null)[] {
  const n = means.length;
  const ps = new Array<number>(n + 1).fill(0);
  const pc = new Array<number>(n + 1).fill(0);
  for (let i = 0; i < n; i++) {
    const v = means[i];
    ps[i + 1] = ps[i]! + (v ?? 0);
    pc[i + 1] = pc[i]! + (v === null || v === undefined ? 0 : 1);
  }
  const half = Math.floor(period / 2);
  return means.map((v, i) => {
    if (v === null || v === undefined) return null;
    const lo = Math.max(0, i - half);
    const hi = Math.min(n, i + half + 1);
    const c = pc[hi]! - pc[lo]!;
    return c > 0 ? v - (ps[hi]! - ps[lo]!) / c : null;
  });
}

function lagCorrelation(r: (number | null)[], lag: number): { acf: number; pairs: number } {
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  let pairs = 0;
  for (let i = 0; i + lag < r.length; i++) {
    const a = r[i];
    const b = r[i + lag];
    if (a === null || a === undefined || b === null || b === undefined) continue;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
    pairs++;
  }
  const denom = Math.sqrt(sxx * syy);
  return { acf: denom > 0 ? sxy / denom : 0, pairs };
}

type Candidate = (typeof CANDIDATES)[number];

function evaluateCandidate(
  s: SeasonalityState,
  c: Candidate,
  cadenceMs: number,
): { acf: number; threshold: number; residuals: (number | null)[]; first: number } | null {
  if (!s.bins) return null;
  const b = s.bins[c.bins as BinsName];
  // Needs a handful of points per period to have a shape at all.
  if (cadenceMs * 8 > c.periodMs) return null;
  const period = Math.round(c.periodMs / b.binMs);
  const { first, means } = binMeans(b);
  if (means.length < MIN_PERIODS * period) return null;
  let filled = 0;
  for (const v of means) if (v !== null) filled++;
  if (filled < 0.6 * means.length) return null;
  const residuals = detrend(means, period);
  const { acf, pairs } = lagCorrelation(residuals, period);
  if (pairs < MIN_PAIRS) return null;
  return { acf, threshold: Math.max(MIN_ACF, 4 / Math.sqrt(pairs)), residuals, first };
}

/**
 * Re-tests the candidates kept in the bin series that just opened a new bin (the other series'
 * verdicts are remembered), then switches period if the evidence says so. Testing only what
 * changed keeps the cost per point negligible on long, fine-grained series.
 */
function reconsiderPeriod(s: SeasonalityState, cadenceMs: number, changed: BinsName): boolean {
  const fresh = new Map<number, NonNullable<ReturnType<typeof evaluateCandidate>>>();
  CANDIDATES.forEach((c, i) => {
    if (c.bins !== changed) return;
    const e = evaluateCandidate(s, c, cadenceMs);
    s.evidence[i] = e ? { acf: e.acf, threshold: e.threshold } : null;
    if (e) fresh.set(i, e);
  });
  let chosen: number | null = null;
  let currentAcf: number | null = null;
  CANDIDATES.forEach((c, i) => {
    const e = s.evidence[i];
    if (!e) return;
    if (c.periodMs === s.periodMs) currentAcf = e.acf;
    if (e.acf < e.threshold) return;
    if (chosen === null || e.acf >= s.evidence[chosen]!.acf + LONGER_PERIOD_MARGIN) chosen = i;
  });
  if (s.periodMs !== null && currentAcf !== null && currentAcf < DROP_ACF && chosen === null) {
    s.periodMs = null;
    s.buckets = 0;
    s.profile = [];
    s.generation++;
    return true;
  }
  if (chosen === null) return false;
  const c = CANDIDATES[chosen]!;
  // Only move to a longer period: flipping back and forth would keep discarding the learned profile.
  if (s.periodMs !== null && c.periodMs <= s.periodMs) return false;
  const e = fresh.get(chosen) ?? evaluateCandidate(s, c, cadenceMs);
  if (!e) return false;
  initProfile(s, c, e.residuals, e.first, cadenceMs);
  return true;
}

/** Seeds the profile from the detection bins so the seasonal baseline is useful immediately. */
function initProfile(s: SeasonalityState, c: Candidate, residuals: (number | null)[], first: number, cadenceMs: number): void {
  const b = s.bins![c.bins as BinsName];
  const period = Math.round(c.periodMs / b.binMs);
  const perPhase: number[][] = Array.from({ length: period }, () => []);
  residuals.forEach((r, i) => {
    if (r !== null) perPhase[(((first + i) % period) + period) % period]!.push(r);
  });
  const phaseProfile = perPhase.map((vals) => {
    if (vals.length === 0) return 0;
    const sorted = vals.sort((x, y) => x - y);
    const mid = sorted.length >>> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  });
  s.periodMs = c.periodMs;
  s.buckets = bucketCount(c.periodMs, cadenceMs);
  // Linear interpolation between bin centres (bin j covers phase [j, j+1) in bin units).
  s.profile = Array.from({ length: s.buckets }, (_, k) => {
    const pos = ((k + 0.5) / s.buckets) * period - 0.5;
    const j0 = Math.floor(pos);
    const frac = pos - j0;
    const a = phaseProfile[((j0 % period) + period) % period]!;
    const z = phaseProfile[(((j0 + 1) % period) + period) % period]!;
    return a + (z - a) * frac;
  });
  s.generation++;
}
