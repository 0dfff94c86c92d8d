import { MAX_ANY_VALUE_DEPTH, base64, depthError, int64Value, setKey, tagValue } from './convert.ts';
import { type ProtoReader, WIRE_I64, WIRE_LEN, WIRE_VARINT, messageSpec, tagOf } from './wire.ts';

/** opentelemetry/proto/common/v1/common.proto and resource/v1/resource.proto. */

const ANY_VALUE = messageSpec('AnyValue', {
  1: ['string_value', WIRE_LEN],
  2: ['bool_value', WIRE_VARINT],
  3: ['int_value', WIRE_VARINT],
  4: ['double_value', WIRE_I64],
  5: ['array_value', WIRE_LEN],
  6: ['kvlist_value', WIRE_LEN],
  7: ['bytes_value', WIRE_LEN],
});
const ARRAY_VALUE = messageSpec('ArrayValue', { 1: ['values', WIRE_LEN] });
const KEY_VALUE_LIST = messageSpec('KeyValueList', { 1: ['values', WIRE_LEN] });
const KEY_VALUE = messageSpec('KeyValue', { 1: ['key', WIRE_LEN], 2: ['value', WIRE_LEN] });
const RESOURCE = messageSpec('Resource', {
  1: ['attributes', WIRE_LEN],
  2: ['dropped_attributes_count', WIRE_VARINT],
  3: ['entity_refs', WIRE_LEN],
});
const SCOPE = messageSpec('InstrumentationScope', {
  1: ['name', WIRE_LEN],
  2: ['version', WIRE_LEN],
  3: ['attributes', WIRE_LEN],
  4: ['dropped_attributes_count', WIRE_VARINT],
});

const T_1_LEN = tagOf(1, WIRE_LEN);
const T_2_LEN = tagOf(2, WIRE_LEN);
const T_2_VARINT = tagOf(2, WIRE_VARINT);
const T_3_VARINT = tagOf(3, WIRE_VARINT);
const T_4_I64 = tagOf(4, WIRE_I64);
const T_5_LEN = tagOf(5, WIRE_LEN);
const T_6_LEN = tagOf(6, WIRE_LEN);
const T_7_LEN = tagOf(7, WIRE_LEN);

/**
 * An AnyValue as a plain JS value: string, boolean, number (int64 as a number when safe, else a
 * decimal string), array, object (kvlist), base64 string (bytes); null when no value is set.
 */
export function readAnyValue(r: ProtoReader, end: number, depth: number): unknown {
  let v: unknown = null;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case T_1_LEN:
        v = r.string(end);
        break;
      case T_2_VARINT:
        v = r.bool(end);
        break;
      case T_3_VARINT:
        r.varint(end);
        v = int64Value(r.lo, r.hi);
        break;
      case T_4_I64:
        v = r.double(end);
        break;
      case T_5_LEN:
        v = readArrayValue(r, r.lengthEnd(end), depth + 1);
        break;
      case T_6_LEN: {
        const e = r.lengthEnd(end);
        if (depth + 1 > MAX_ANY_VALUE_DEPTH) throw depthError(`at byte ${r.pos}`);
        const obj: Record<string, unknown> = {};
        while (r.pos < e) {
          const t2 = r.tag(e);
          if (t2 === T_1_LEN) readKeyValue(r, r.lengthEnd(e), obj, depth + 1, false);
          else r.skip(t2, e, KEY_VALUE_LIST);
        }
        v = obj;
        break;
      }
      case T_7_LEN:
        v = base64(r.bytes(end));
        break;
      default:
        r.skip(t, end, ANY_VALUE);
    }
  }
  return v;
}

function readArrayValue(r: ProtoReader, end: number, depth: number): unknown[] {
  if (depth > MAX_ANY_VALUE_DEPTH) throw depthError(`at byte ${r.pos}`);
  const out: unknown[] = [];
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T_1_LEN) out.push(readAnyValue(r, r.lengthEnd(end), depth));
    else r.skip(t, end, ARRAY_VALUE);
  }
  return out;
}

/**
 * Reads one KeyValue into `into` (later duplicates win). With `asTag`, the value is stored as
 * its tag string (metrics), else as the JS value.
 */
export function readKeyValue(r: ProtoReader, end: number, into: Record<string, unknown>, depth: number, asTag: boolean): void {
  let key = '';
  let value: unknown = null;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T_1_LEN) key = r.key(end);
    else if (t === T_2_LEN) value = readAnyValue(r, r.lengthEnd(end), depth);
    else r.skip(t, end, KEY_VALUE);
  }
  setKey(into, key, asTag ? tagValue(value) : value);
}

/** Reads a Resource's attributes into `into`. */
export function readResource(r: ProtoReader, end: number, into: Record<string, unknown>): void {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T_1_LEN) readKeyValue(r, r.lengthEnd(end), into, 0, false);
    else r.skip(t, end, RESOURCE);
  }
}

export interface Scope {
  name: string;
  version: string;
}

/** Reads an InstrumentationScope's name and version into `into` (its attributes are not kept). */
export function readScope(r: ProtoReader, end: number, into: Scope): void {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T_1_LEN) into.name = r.string(end);
    else if (t === T_2_LEN) into.version = r.string(end);
    else r.skip(t, end, SCOPE);
  }
}
