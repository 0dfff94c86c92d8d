/**
 * Calibration helpers of `onset` (onset.ts) and its spread channel (spread-channel.ts): a
 * statistic is compared with its own long-run distribution, so "surprising" means surprising for
 * this series' history, and one threshold means the same on every series.
 */

const LN10 = Math.log(10);

/** -log10 of the standard normal upper tail at z (0 for z <= 0). */
export function gaussianSurprise(z: number): number {
  if (!(z > 0)) return 0;
  if (z < 5) {
    // Abramowitz-Stegun 7.1.26 erfc approximation (|error| < 1.5e-7).
    const x = z / Math.SQRT2;
    const t = 1 / (1 + 0.3275911 * x);
    const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return -Math.log10(Math.max(0.5 * poly * Math.exp(-x * x), 1e-300));
  }
  // Asymptotic tail: Q(z) ~ phi(z) / z * (1 - 1/z^2).
  const lnQ = -0.5 * z * z - Math.log(z * Math.sqrt(2 * Math.PI)) + Math.log(1 - 1 / (z * z));
  return -lnQ / LN10;
}

/**
 * A channel whose evidence accumulates row by row (a flatline gets more certain with every row it
 * lasts) would page on every row under onset's "beats the recent maximum by a margin" gate, and a
 * slowly growing one on none. Instead it reports an excursion: the first row whose surprise reaches `start` decades
 * reports it, later rows of the same excursion only when their surprise reaches `ratio` times the
 * last one reported (so at most a few rows, ever rarer, per excursion), and the excursion ends when
 * the surprise falls below `end` (< start: a surprise hovering at `start` is one excursion).
 * Returns the reported surprise (0 = nothing new).
 */
export type ExcursionGate = { reported: number };

export function gateExcursion(g: ExcursionGate, surprise: number, start: number, end: number, ratio: number): number {
  if (surprise < end) g.reported = 0;
  if (surprise < start) return 0;
  if (g.reported > 0 && surprise < ratio * g.reported) return 0;
  g.reported = surprise;
  return surprise;
}

/**
 * An EW histogram of a non-negative statistic (bins of `width`; the last bin holds everything
 * above) with an exponential tail above its `tailLevel` quantile: empirical where the history has
 * data, peaks-over-threshold beyond it. Decay is lazy: new mass is added with a growing `weight`,
 * renormalised now and then. `excess` is the EW mean excess over the quantile, learned winsorized
 * from a prior so one early outlier cannot make the tail look heavy (which would hide the next
 * anomaly). `onset` calibrates single rows with it: their heavy, quantised tails on real series are
 * calibrated as they are, not as if they were Gaussian.
 */
export type TailHist = { hist: number[]; total: number; weight: number; excess: number };
export type TailOpts = { width: number; tailLevel: number; minExcess: number; excessCap: number; maxExcessRate: number };

function histBin(h: number[], x: number, width: number): number {
  return Math.min(h.length - 1, Math.max(0, Math.floor(x / width)));
}

/** Mass of the histogram at or above x (linear inside the bin). */
function massAbove(h: number[], x: number, width: number): number {
  const b = histBin(h, x, width);
  let m = 0;
  for (let i = h.length - 1; i > b; i--) m += h[i]!;
  const frac = b === h.length - 1 ? 1 : Math.min(1, Math.max(0, b + 1 - x / width));
  return m + h[b]! * frac;
}

/** The value above which `mass` of the histogram lies. */
function quantileAbove(h: number[], mass: number, width: number): number {
  let m = 0;
  for (let i = h.length - 1; i >= 0; i--) {
    const next = m + h[i]!;
    if (next >= mass) {
      const inside = h[i]! > 0 ? (mass - m) / h[i]! : 0;
      return (i + 1 - inside) * width;
    }
    m = next;
  }
  return 0;
}

/** Surprise (decades) of x: empirical tail up to the tailLevel quantile, exponential above it. */
export function histTailSurprise(t: TailHist, x: number, o: TailOpts): number {
  if (!(t.total > 0)) return 0;
  const tailMass = (1 - o.tailLevel) * t.total;
  const q = quantileAbove(t.hist, tailMass, o.width);
  if (x <= q) return -Math.log10(Math.min(1, Math.max(massAbove(t.hist, x, o.width), tailMass) / t.total));
  return -Math.log10(1 - o.tailLevel) + (x - q) / (Math.max(t.excess, o.minExcess) * LN10);
}

/** Learns x (the histogram, and the mean excess when x is beyond the tail quantile). */
export function histTailLearn(t: TailHist, x: number, alpha: number, o: TailOpts): void {
  const h = t.hist;
  if (t.total > 0) {
    const q = quantileAbove(h, (1 - o.tailLevel) * t.total, o.width);
    if (x > q) {
      const y = Math.min(x - q, o.excessCap * Math.max(t.excess, o.minExcess));
      t.excess += Math.min(o.maxExcessRate, alpha / (1 - o.tailLevel)) * (y - t.excess);
    }
  }
  h[histBin(h, x, o.width)]! += t.weight;
  t.total += t.weight;
  t.weight /= 1 - alpha;
  if (t.weight > 1e6) {
    const k = 1 / t.weight;
    for (let i = 0; i < h.length; i++) h[i]! *= k;
    t.total *= k;
    t.weight = 1;
  }
}
