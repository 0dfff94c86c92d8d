/**
 * The queue between the app and the sender: a ring of preallocated columns, so taking an event in is
 * a handful of stores and allocates nothing (a metric keeps a reference to its instrument and its
 * tags object; a log or span arrives already serialized). Bounded twice: `cap` events and `maxBytes`
 * estimated bytes; past either, the oldest events are dropped and counted, never the new one (the
 * newest data is the most useful, and the app's call stays O(1)).
 */
export const K_COUNTER = 1;
export const K_GAUGE = 2;
export const K_HISTOGRAM = 3;
export const K_LOG = 4;
export const K_SPAN = 5;

export class Ring {
  readonly cap: number;
  readonly maxBytes: number;
  readonly kinds: Uint8Array;
  readonly values: Float64Array;
  readonly times: Float64Array;
  readonly sizes: Uint32Array;
  /** The instrument (metrics); unused by logs and spans. */
  readonly refs: unknown[];
  /** The call's tags (metrics) or the serialized event (logs, spans). */
  readonly data: unknown[];
  head = 0;
  count = 0;
  bytes = 0;
  /** Events dropped to make room, since the ring was made. */
  dropped = 0;

  constructor(cap: number, maxBytes: number) {
    this.cap = cap;
    this.maxBytes = maxBytes;
    this.kinds = new Uint8Array(cap);
    this.values = new Float64Array(cap);
    this.times = new Float64Array(cap);
    this.sizes = new Uint32Array(cap);
    // Filled, not holey: V8 keeps them as packed element arrays, the fastest stores.
    this.refs = new Array<unknown>(cap).fill(undefined);
    this.data = new Array<unknown>(cap).fill(undefined);
  }

  /** Takes one event in; answers how many old events it pushed out. */
  push(kind: number, ref: unknown, data: unknown, value: number, time: number, size: number): number {
    let dropped = 0;
    if (size > this.maxBytes) {
      // Larger than the whole queue: it alone is dropped (keeping it would mean dropping everything).
      this.dropped++;
      return 1;
    }
    while (this.count === this.cap || this.bytes + size > this.maxBytes) {
      this.shift();
      dropped++;
    }
    let i = this.head + this.count;
    if (i >= this.cap) i -= this.cap;
    this.kinds[i] = kind;
    this.refs[i] = ref;
    this.data[i] = data;
    this.values[i] = value;
    this.times[i] = time;
    this.sizes[i] = size;
    this.count++;
    this.bytes += size;
    this.dropped += dropped;
    return dropped;
  }

  /** Forgets the oldest event (after the sender has serialized it, or to make room). */
  shift(): void {
    const i = this.head;
    this.refs[i] = undefined;
    this.data[i] = undefined;
    this.bytes -= this.sizes[i]!;
    this.head = i + 1 === this.cap ? 0 : i + 1;
    this.count--;
  }

  /** Empties the ring; answers how many events it held. */
  clear(): number {
    const n = this.count;
    while (this.count > 0) this.shift();
    return n;
  }
}
