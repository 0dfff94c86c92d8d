import { OtlpDecodeError } from './errors.ts';

/**
 * A small protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/).
 *
 * Every read takes the end of the enclosing message and never reads past it, so a length that
 * overruns its parent, a truncated varint or fixed field, or a huge declared length is an
 * OtlpDecodeError naming the byte offset, never an out-of-bounds read or a hang (each loop step
 * consumes at least one byte). 64-bit values land in `lo`/`hi` (unsigned 32-bit halves) so that
 * reading them allocates nothing.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_SGROUP = 3;
export const WIRE_EGROUP = 4;
export const WIRE_I32 = 5;

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

/** Deprecated groups are skipped, but not nested without bound. */
const MAX_GROUP_DEPTH = 32;

/** Distinct attribute keys remembered per request (a bound against hostile input). */
const MAX_CACHED_KEYS = 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What a message's known fields look like: their names and wire types, for error messages and type checks. */
export interface MessageSpec {
  name: string;
  /** Indexed by field number: the expected wire type, or undefined for fields we do not know. */
  wire: (number | undefined)[];
  fields: (string | undefined)[];
}

export function messageSpec(name: string, fields: Record<number, [string, number]>): MessageSpec {
  const wire: (number | undefined)[] = [];
  const names: (string | undefined)[] = [];
  for (const [n, [fieldName, w]] of Object.entries(fields)) {
    wire[Number(n)] = w;
    names[Number(n)] = fieldName;
  }
  return { name, wire, fields: names };
}

export class ProtoReader {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  pos = 0;
  /** Where the last tag started (for error messages). */
  tagPos = 0;
  /** Low and high unsigned 32-bit halves of the last varint or fixed64 read. */
  lo = 0;
  hi = 0;
  private readonly keys = new Map<number, string>();

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get length(): number {
    return this.buf.length;
  }

  /** Reads a field key: returns (field number << 3) | wire type. */
  tag(end: number): number {
    this.tagPos = this.pos;
    const t = this.varint(end);
    if (this.hi !== 0 || t >>> 3 === 0) {
      throw new OtlpDecodeError(`invalid field number 0 or above 2^29 at byte ${this.tagPos}`);
    }
    return t;
  }

  /** Reads a varint of up to 10 bytes into lo/hi and returns lo (unsigned). */
  varint(end: number): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= end) throw this.truncated('varint', p);
    let byte = b[p++]!;
    if (byte < 0x80) {
      this.pos = p;
      this.lo = byte;
      this.hi = 0;
      return byte;
    }
    const start = p - 1;
    let lo = byte & 0x7f;
    let hi = 0;
    for (let shift = 7; shift < 28; shift += 7) {
      if (p >= end) throw this.truncated('varint', start);
      byte = b[p++]!;
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.setVarint(p, lo, 0);
    }
    if (p >= end) throw this.truncated('varint', start);
    byte = b[p++]!;
    lo |= (byte & 0x0f) << 28;
    hi = (byte & 0x7f) >> 4;
    if (byte < 0x80) return this.setVarint(p, lo, hi);
    for (let shift = 3; shift < 32; shift += 7) {
      if (p >= end) throw this.truncated('varint', start);
      byte = b[p++]!;
      hi |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.setVarint(p, lo, hi);
    }
    throw new OtlpDecodeError(`varint longer than 10 bytes at byte ${start}`);
  }

  private setVarint(p: number, lo: number, hi: number): number {
    this.pos = p;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this.lo;
  }

  /** int32/enum: the low 32 bits as a signed number (negative int32 values are sign-extended to 10 bytes). */
  int32(end: number): number {
    return this.varint(end) | 0;
  }

  /** uint64 as a JS number (exact up to 2^53). */
  uint64(end: number): number {
    this.varint(end);
    return this.hi * 0x1_0000_0000 + this.lo;
  }

  /** sint32 (zigzag). */
  sint32(end: number): number {
    const v = this.varint(end);
    return (v >>> 1) ^ -(v & 1);
  }

  bool(end: number): boolean {
    this.varint(end);
    return this.lo !== 0 || this.hi !== 0;
  }

  /** Reads 8 little-endian bytes into lo/hi. */
  fixed64(end: number): void {
    const p = this.pos;
    if (p + 8 > end) throw this.truncated('fixed64 field', p);
    this.lo = this.view.getUint32(p, true);
    this.hi = this.view.getUint32(p + 4, true);
    this.pos = p + 8;
  }

  /** fixed64/uint64 as a JS number (exact up to 2^53). */
  fixed64Number(end: number): number {
    this.fixed64(end);
    return this.hi * 0x1_0000_0000 + this.lo;
  }

  /** sfixed64 as a JS number (exact up to 2^53 in magnitude). */
  sfixed64Number(end: number): number {
    this.fixed64(end);
    return (this.hi | 0) * 0x1_0000_0000 + this.lo;
  }

  fixed32(end: number): number {
    const p = this.pos;
    if (p + 4 > end) throw this.truncated('fixed32 field', p);
    this.pos = p + 4;
    return this.view.getUint32(p, true);
  }

  double(end: number): number {
    const p = this.pos;
    if (p + 8 > end) throw this.truncated('fixed64 field', p);
    this.pos = p + 8;
    return this.view.getFloat64(p, true);
  }

  /** Reads a length prefix and returns the end offset of the payload, which starts at `pos`. */
  lengthEnd(end: number): number {
    const start = this.pos;
    this.varint(end);
    const len = this.lo;
    if (this.hi !== 0 || len > end - this.pos) {
      const declared = this.hi !== 0 ? 'more than 4 GiB' : `${len} bytes`;
      throw new OtlpDecodeError(
        `truncated length-delimited field at byte ${start}: declares ${declared}, ${end - this.pos} remain`,
      );
    }
    return this.pos + len;
  }

  string(end: number): string {
    const stop = this.lengthEnd(end);
    return this.stringAt(this.pos, stop);
  }

  /** Decodes buf[p, stop) as UTF-8 (rejecting invalid sequences) and moves past it. */
  private stringAt(p: number, stop: number): string {
    this.pos = stop;
    const len = stop - p;
    if (len === 0) return '';
    const b = this.buf;
    // Short ASCII strings (keys, names, most values) skip TextDecoder, which is slow per call.
    if (len <= 32) {
      let s = '';
      let i = p;
      for (; i < stop; i++) {
        const c = b[i]!;
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === stop) return s;
    }
    try {
      return utf8.decode(b.subarray(p, stop));
    } catch {
      throw new OtlpDecodeError(`invalid UTF-8 in a string field at byte ${p}`);
    }
  }

  /**
   * A string that repeats across a request (attribute keys): short ASCII keys come from a per-request
   * cache, so each distinct key is built once and property stores see the same string again.
   */
  key(end: number): string {
    const stop = this.lengthEnd(end);
    const p = this.pos;
    const len = stop - p;
    if (len === 0 || len > 64) return this.stringAt(p, stop);
    const b = this.buf;
    let h = 0x811c9dc5;
    for (let i = p; i < stop; i++) {
      const c = b[i]!;
      if (c >= 0x80) return this.stringAt(p, stop);
      h = Math.imul(h ^ c, 0x01000193);
    }
    h = (h ^ len) >>> 0;
    const cached = this.keys.get(h);
    if (cached !== undefined && cached.length === len) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (cached.charCodeAt(i) !== b[p + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.pos = stop;
        return cached;
      }
    }
    const s = this.stringAt(p, stop);
    if (this.keys.size < MAX_CACHED_KEYS) this.keys.set(h, s);
    return s;
  }

  /** A bytes field as a view into the buffer (no copy). */
  bytes(end: number): Uint8Array {
    const stop = this.lengthEnd(end);
    const p = this.pos;
    this.pos = stop;
    return this.buf.subarray(p, stop);
  }

  /**
   * Skips the field whose tag was just read. A known field (per `spec`) arriving with another wire
   * type is malformed, as in the reference implementations.
   */
  skip(tag: number, end: number, spec: MessageSpec): void {
    const field = tag >>> 3;
    const wt = tag & 7;
    const expected = spec.wire[field];
    if (expected !== undefined && expected !== wt) {
      throw new OtlpDecodeError(
        `field ${field} (${spec.fields[field]}) of ${spec.name} has wire type ${wireName(wt)}, expected ${wireName(expected)}, at byte ${this.tagPos}`,
      );
    }
    this.skipValue(wt, field, end);
  }

  private skipValue(wt: number, field: number, end: number): void {
    switch (wt) {
      case WIRE_VARINT:
        this.varint(end);
        return;
      case WIRE_I64:
        if (this.pos + 8 > end) throw this.truncated('fixed64 field', this.pos);
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.pos = this.lengthEnd(end);
        return;
      case WIRE_I32:
        if (this.pos + 4 > end) throw this.truncated('fixed32 field', this.pos);
        this.pos += 4;
        return;
      case WIRE_SGROUP:
        this.skipGroup(field, end);
        return;
      case WIRE_EGROUP:
        throw new OtlpDecodeError(`unexpected end-group at byte ${this.tagPos}`);
      default:
        throw new OtlpDecodeError(`invalid wire type ${wt} at byte ${this.tagPos}`);
    }
  }

  private skipGroup(field: number, end: number): void {
    const open = [field];
    const start = this.tagPos;
    while (open.length > 0) {
      if (this.pos >= end) throw new OtlpDecodeError(`unterminated group at byte ${start}`);
      const t = this.tag(end);
      const wt = t & 7;
      if (wt === WIRE_SGROUP) {
        if (open.length >= MAX_GROUP_DEPTH) {
          throw new OtlpDecodeError(`groups nested deeper than ${MAX_GROUP_DEPTH} levels at byte ${this.tagPos}`);
        }
        open.push(t >>> 3);
      } else if (wt === WIRE_EGROUP) {
        if (open.pop() !== t >>> 3) throw new OtlpDecodeError(`mismatched end-group at byte ${this.tagPos}`);
      } else {
        this.skipValue(wt, t >>> 3, end);
      }
    }
  }

  private truncated(what: string, at: number): OtlpDecodeError {
    return new OtlpDecodeError(`truncated ${what} at byte ${at}`);
  }
}

function wireName(wt: number): string {
  return WIRE_NAMES[wt] ?? String(wt);
}

/** Tag value for a field number and wire type, for `switch` cases. */
export function tagOf(field: number, wireType: number): number {
  return (field << 3) | wireType;
}
