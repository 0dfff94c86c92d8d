/**
 * Counters, gauges and histograms. Every call is one metric point (the server stores raw points and
 * rolls them up itself): a counter's `add(n)` is a delta counter point of n, a gauge's `set(v)` a
 * gauge point, a histogram's `record(v)` a histogram point of one observation in the instrument's
 * buckets. The name, unit, buckets and the instrument's tags are checked and serialized once, when
 * the instrument is made; a call checks its value and tags and hands references to the queue: the
 * point is serialized by the sender (serializeMetric). So a call's tags object is read when the batch
 * is built, within a flush interval: pass a literal or a constant, and never mutate one you passed
 * (or `bind()` the tags once).
 */
import type { Core } from './core.ts';
import { K_COUNTER, K_GAUGE, K_HISTOGRAM } from './ring.ts';
import { bucketsProblem, checkTags, fixedTags, nameProblem, LIMITS, type Tags, tagsProblem } from './validate.ts';

export interface InstrumentOptions {
  unit?: string;
  /** Tags on every point of this instrument (a call's tag of the same key wins). */
  tags?: Tags;
}

export interface HistogramOptions extends InstrumentOptions {
  /** Upper bounds of the buckets, strictly increasing (default: OpenTelemetry's, for milliseconds). */
  buckets?: number[];
}

export interface Counter {
  /** Adds a non-negative amount (default 1). */
  add(value?: number, tags?: Tags): void;
  /** The same counter with these tags fixed: checked once, nothing to check per call. */
  bind(tags: Tags): Counter;
}
export interface Gauge {
  set(value: number, tags?: Tags): void;
  bind(tags: Tags): Gauge;
}
export interface Histogram {
  record(value: number, tags?: Tags): void;
  bind(tags: Tags): Histogram;
}

/** OpenTelemetry's default explicit bucket bounds (milliseconds in mind). */
export const DEFAULT_BUCKETS = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

const TYPE_FRAGMENT = {
  [K_COUNTER]: ',"type":"counter","temporality":"delta"',
  [K_GAUGE]: ',"type":"gauge"',
  [K_HISTOGRAM]: ',"type":"histogram"',
} as Record<number, string>;

/** An instrument with its serialized parts: what the queue references and the sender reads. */
class Instrument {
  readonly kind: number;
  readonly name: string;
  readonly unit: string | undefined;
  /** `{"name":…,"type":…[,"unit":…]` */
  readonly head: string;
  /** The fixed tags (instrument's over the client's), null-prototype so `key in fixed` is exact. */
  readonly fixed: Record<string, string>;
  readonly fixedCount: number;
  /** The fixed tags as JSON, used as is when a call has no tags. */
  readonly fixedJson: string;
  /** Estimated bytes of a point without call tags. */
  readonly size: number;
  readonly bounds: number[] | undefined;
  readonly boundsJson: string;
  /** The `counts` JSON of one observation in bucket i. */
  readonly countsJson: string[];
  /** The last tags object checked, and its size: a constant tags object is checked once. */
  lastTags: unknown = undefined;
  lastSize = 0;

  constructor(kind: number, name: string, unit: string | undefined, fixed: Record<string, string>, bounds: number[] | undefined) {
    this.kind = kind;
    this.name = name;
    this.unit = unit;
    this.head = `{"name":${JSON.stringify(name)}${TYPE_FRAGMENT[kind]}${unit ? `,"unit":${JSON.stringify(unit)}` : ''}`;
    this.fixed = Object.assign(Object.create(null) as Record<string, string>, fixed);
    this.fixedCount = Object.keys(fixed).length;
    this.fixedJson = JSON.stringify(fixed);
    this.bounds = bounds;
    this.boundsJson = bounds ? JSON.stringify(bounds) : '';
    const n = bounds ? bounds.length + 1 : 0;
    this.countsJson = Array.from({ length: n }, (_, i) => `[${Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)).join(',')}]`);
    this.size = 96 + this.head.length + this.fixedJson.length + (bounds ? this.boundsJson.length + 2 * n + 64 : 0);
  }
}

/**
 * One point as JSON (the sender's side of the queue); `tagsJson` caches tag sets' JSON for one
 * batch. A histogram observation v lands in bucket i, the first whose upper bound is >= v
 * (OpenTelemetry's (bounds[i-1], bounds[i]] buckets).
 */
export function serializeMetric(ref: unknown, tags: unknown, value: number, time: number, id: string, tagsJson: Map<unknown, string>): string {
  const inst = ref as Instrument;
  let json: string | undefined;
  if (tags === undefined) json = inst.fixedJson;
  else if (inst.fixedCount > 0) json = mergeTags(inst.fixed, tags as Tags);
  else {
    // Points of one batch mostly share a few tags objects: each is written once per batch (the app
    // cannot run, so cannot mutate them, while a batch is being built).
    json = tagsJson.get(tags);
    if (json === undefined) tagsJson.set(tags, (json = mergeTags(inst.fixed, tags as Tags)));
  }
  let s = `${inst.head},"timestamp":${time},"tags":${json}`;
  if (inst.bounds) {
    const b = inst.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    s += `,"histogram":{"count":1,"sum":${value},"min":${value},"max":${value},"bounds":${inst.boundsJson},"counts":${inst.countsJson[i]}}`;
  } else {
    s += `,"value":${value}`;
  }
  return `${s},"id":"${id}"}`;
}

function mergeTags(fixed: Record<string, string>, tags: Tags): string {
  let s = '{';
  for (const k in tags) {
    const v = tags[k];
    if (v === undefined) continue;
    s += `${s.length > 1 ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(typeof v === 'string' ? v : String(v))}`;
  }
  for (const k in fixed) {
    if (tags[k] !== undefined && Object.hasOwn(tags, k)) continue;
    s += `${s.length > 1 ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(fixed[k])}`;
  }
  return `${s}}`;
}

/** What a refused instrument does: every call is counted as invalid (and, with onInvalid 'throw', throws). */
class Refused implements Counter, Gauge, Histogram {
  private readonly core: Core;
  private readonly problem: string;
  constructor(core: Core, problem: string) {
    this.core = core;
    this.problem = problem;
  }
  add() {
    this.core.invalid(this.problem);
  }
  set() {
    this.core.invalid(this.problem);
  }
  record() {
    this.core.invalid(this.problem);
  }
  bind() {
    return this;
  }
}

type Kind = typeof K_COUNTER | typeof K_GAUGE | typeof K_HISTOGRAM;

/** Makes an instrument, or a Refused one (after reporting) when its name, unit, tags or buckets are not acceptable. */
export function makeInstrument(core: Core, kind: Kind, name: string, o: HistogramOptions = {}): Counter & Gauge & Histogram {
  let problem = nameProblem(name);
  if (!problem && o.unit !== undefined && (typeof o.unit !== 'string' || o.unit.length > LIMITS.maxUnitLength || o.unit.includes('\u0000'))) {
    problem = `unit of "${name}" must be a string of at most ${LIMITS.maxUnitLength} characters`;
  }
  const own = problem ? undefined : fixedTags(o.tags);
  if (typeof own === 'string') problem = `${name}: ${own}`;
  const bounds = kind === K_HISTOGRAM ? (o.buckets ?? DEFAULT_BUCKETS) : undefined;
  if (!problem && bounds) problem = bucketsProblem(bounds);
  if (!problem && typeof own === 'object' && Object.keys({ ...core.tags, ...own.tags }).length > LIMITS.maxTags) problem = `${name}: at most ${LIMITS.maxTags} tags`;
  if (problem || typeof own !== 'object') {
    core.invalid(problem ?? 'invalid instrument', false);
    return new Refused(core, problem ?? 'invalid instrument');
  }
  return bound(core, new Instrument(kind, name, o.unit, { ...core.tags, ...own.tags }, bounds ? [...bounds] : undefined));
}

/** The methods over one Instrument; `bind` makes a new Instrument with the tags fixed. */
function bound(core: Core, inst: Instrument): Counter & Gauge & Histogram {
  const kind = inst.kind;
  /** The hot path: check, then hand references to the queue. Allocates nothing. */
  const take = (value: number, tags: Tags | undefined) => {
    try {
      if (typeof value !== 'number' || !Number.isFinite(value) || (kind === K_COUNTER && value < 0)) {
        core.invalid(`${inst.name}: value must be a finite number${kind === K_COUNTER ? ' >= 0 (a counter only goes up; use a gauge)' : ''}, got ${String(value)}`);
        return;
      }
      let size = inst.size;
      if (tags !== undefined) {
        if (tags !== inst.lastTags) {
          const s = checkTags(tags, inst.fixed, inst.fixedCount);
          if (s < 0) {
            core.invalid(`${inst.name}: ${tagsProblem(tags, inst.fixed, inst.fixedCount)}`);
            return;
          }
          inst.lastTags = tags;
          inst.lastSize = s;
        }
        size += inst.lastSize;
      }
      core.enqueueMetric(kind, inst, tags, value, size);
    } catch (err) {
      core.fault(err);
    }
  };
  return {
    add: (value = 1, tags) => take(value, tags),
    set: (value, tags) => take(value, tags),
    record: (value, tags) => take(value, tags),
    bind: (tags) => {
      const fixed = fixedTags(tags);
      if (typeof fixed === 'string' || Object.keys({ ...inst.fixed, ...fixed.tags }).length > LIMITS.maxTags) {
        const problem = `${inst.name}: ${typeof fixed === 'string' ? fixed : `at most ${LIMITS.maxTags} tags`}`;
        core.invalid(problem, false);
        return new Refused(core, problem);
      }
      return bound(core, new Instrument(kind, inst.name, inst.unit, { ...inst.fixed, ...fixed.tags }, inst.bounds));
    },
  };
}
