/**
 * A fixed-capacity sliding window that keeps its values both in arrival order (a ring) and sorted,
 * so median and MAD cost O(window) per point instead of a sort. Plain arrays keep it JSON-safe.
 */
export type RobustWindow = {
  capacity: number;
  /** Arrival order, oldest at `head` once full. */
  ring: number[];
  head: number;
  sorted: number[];
};

export function createRobustWindow(capacity: number): RobustWindow {
  return { capacity, ring: [], head: 0, sorted: [] };
}

export function pushRobustWindow(w: RobustWindow, value: number): void {
  if (w.ring.length < w.capacity) {
    w.ring.push(value);
  } else {
    const oldest = w.ring[w.head]!;
    w.ring[w.head] = value;
    w.head = (w.head + 1) % w.capacity;
    w.sorted.splice(lowerBound(w.sorted, oldest), 1);
  }
  w.sorted.splice(lowerBound(w.sorted, value), 0, value);
}

/** Maps every value through a monotonic increasing function (used for level shifts and rescaling). */
export function remapRobustWindow(w: RobustWindow, fn: (v: number) => number): void {
  w.ring = w.ring.map(fn);
  w.sorted = w.sorted.map(fn);
}

/** Values in arrival order, oldest first. */
export function orderedRobustWindow(w: RobustWindow): number[] {
  return w.ring.length < w.capacity ? w.ring.slice() : [...w.ring.slice(w.head), ...w.ring.slice(0, w.head)];
}

export function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function medianSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >>> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Median absolute deviation of a sorted array around `center`, by walking outwards from the
 * center: deviations on each side are already sorted, so this is a merge of two sorted runs.
 */
export function madSorted(sorted: readonly number[], center: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  let hi = lowerBound(sorted, center);
  let lo = hi - 1;
  const k1 = (n - 1) >>> 1;
  const k2 = n >>> 1;
  let a = 0;
  let b = 0;
  for (let c = 0; c <= k2; c++) {
    const dl = lo >= 0 ? center - sorted[lo]! : Infinity;
    const dr = hi < n ? sorted[hi]! - center : Infinity;
    let d: number;
    if (dl <= dr) {
      d = dl;
      lo--;
    } else {
      d = dr;
      hi++;
    }
    if (c === k1) a = d;
    if (c === k2) b = d;
  }
  return (a + b) / 2;
}

export function meanAbsDeviation(values: readonly number[], center: number): number {
  if (values.length === 0) return 0;
  let s = 0;
  for (const v of values) s += Math.abs(v - center);
  return s / values.length;
}

/** Smallest positive gap between distinct sorted values: the series' quantization step, or 0. */
export function quantumSorted(sorted: readonly number[]): number {
  let q = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const gap = sorted[i]! - sorted[i - 1]!;
    if (gap > 0 && gap < q) q = gap;
  }
  return Number.isFinite(q) ? q : 0;
}

export function medianOf(values: readonly number[]): number {
  return medianSorted([...values].sort((a, b) => a - b));
}

/**
 * Robust standard deviation of a window that never collapses to zero while the window still
 * varies. MAD alone is 0 whenever more than half the values are equal (quantized, flat or mostly
 * constant series), which would turn every blip into an infinite deviation; the mean absolute
 * deviation and half the quantization step are floors that stay positive in those cases.
 */
export function robustScale(sorted: readonly number[], center: number, quantum?: number): number {
  const fromMad = 1.4826 * madSorted(sorted, center);
  // Mean absolute deviation is also the better estimate for heavy tails, so it is always a floor.
  const fromMeanAbs = 1.2533 * meanAbsDeviation(sorted, center);
  // A nonzero MAD of quantized data is at least half a step already, so the step only matters at 0.
  const step = quantum ?? (fromMad === 0 ? quantumSorted(sorted) : 0);
  return Math.max(fromMad, fromMeanAbs, 0.5 * step);
}
