import { MAX_ANY_VALUE_DEPTH, decimalInt64, decimalNanosToMs, depthError, setKey, tagValue } from './convert.ts';
import { ItemFault, OtlpDecodeError } from './errors.ts';
import type { Scope } from './protobuf-common.ts';

/**
 * OTLP/JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): proto3 JSON with
 * lowerCamelCase keys only, hex trace/span ids, integer enums, 64-bit integers as numbers or
 * decimal strings. Unknown keys are ignored; null means "not set".
 *
 * The accessors below throw ItemFault(field, message); inside an item that rejects the item, and
 * one escaping to the top of a decode (the request's structure is wrong) becomes an
 * OtlpDecodeError via `requestLevel`.
 */

/** Deepest JSON nesting accepted before parsing (AnyValue nesting needs 4 levels per level). */
export const MAX_JSON_DEPTH = 320;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type JsonObject = Record<string, unknown>;

/** Parses the body into its root object; an empty body is an empty request. */
export function parseJsonBody(body: Uint8Array): JsonObject {
  checkJsonDepth(body);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new OtlpDecodeError('invalid UTF-8 in the JSON body');
  }
  if (text.trim() === '') return {};
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new OtlpDecodeError(`invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(root)) throw new OtlpDecodeError('the JSON body must be an object');
  return root;
}

/**
 * Rejects nesting beyond MAX_JSON_DEPTH before JSON.parse builds it. Bytes, not characters: no
 * byte of a multi-byte UTF-8 sequence is ASCII, so brackets and quotes are found exactly.
 */
function checkJsonDepth(body: Uint8Array): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw new OtlpDecodeError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels at byte ${i}`);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}

/** Runs the request-level part of a decode, turning a structural ItemFault into an OtlpDecodeError. */
export function requestLevel<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof ItemFault) throw new OtlpDecodeError(`${e.field}: ${e.message}`);
    throw e;
  }
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function expected(field: string, what: string, v: unknown): ItemFault {
  return new ItemFault(field, `expected ${what}, got ${typeName(v)}`);
}

/** An array; absent or null is empty. */
export function jArray(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw expected(field, 'an array', v);
  return v;
}

/** An object; absent or null is undefined. */
export function jObject(v: unknown, field: string): JsonObject | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw expected(field, 'an object', v);
  return v;
}

export function jString(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw expected(field, 'a string', v);
  return v;
}

export function jBool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw expected(field, 'a boolean', v);
  return v;
}

/** An integer (int32, enum, uint32, or a 64-bit count) as a number; strings of digits accepted. */
export function jInt(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const n = decimalInt64(v);
    if (n !== undefined) return Number(n);
  }
  throw expected(field, 'an integer', v);
}

/** A non-negative integer count (uint64/fixed64). */
export function jCount(v: unknown, field: string): number {
  const n = jInt(v, field);
  if (n < 0) throw new ItemFault(field, 'must not be negative');
  return n;
}

const DECIMAL_RE = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A double; proto3 JSON also allows "NaN", "Infinity", "-Infinity" and numeric strings. Absent is undefined. */
export function jDouble(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return Number.NaN;
    if (v === 'Infinity') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (DECIMAL_RE.test(v)) return Number(v);
  }
  throw expected(field, 'a number', v);
}

/** A fixed64 nanosecond timestamp to epoch ms (microsecond fraction); absent is 0. */
export function jTime(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'string') {
    const ms = decimalNanosToMs(v);
    if (ms !== undefined) return ms;
  } else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
    return Math.floor(v / 1000) / 1000;
  }
  throw new ItemFault(field, 'expected nanoseconds since the epoch as a decimal string or integer');
}

/** An AnyValue object to its JS value (see readAnyValue); absent or empty is null. */
export function jAnyValue(v: unknown, field: string, depth: number): unknown {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw expected(field, 'an AnyValue object', v);
  if (v.stringValue !== undefined && v.stringValue !== null) return jString(v.stringValue, `${field}.stringValue`);
  if (v.boolValue !== undefined && v.boolValue !== null) return jBool(v.boolValue, `${field}.boolValue`);
  if (v.intValue !== undefined && v.intValue !== null) {
    const i = v.intValue;
    if (typeof i === 'number' && Number.isInteger(i)) return i;
    if (typeof i === 'string') {
      const n = decimalInt64(i);
      if (n !== undefined) return n;
    }
    throw expected(`${field}.intValue`, 'a 64-bit integer', i);
  }
  if (v.doubleValue !== undefined && v.doubleValue !== null) return jDouble(v.doubleValue, `${field}.doubleValue`);
  if (v.arrayValue !== undefined && v.arrayValue !== null) {
    if (depth + 1 > MAX_ANY_VALUE_DEPTH) throw depthError(`at ${field}`);
    const arr = jObject(v.arrayValue, `${field}.arrayValue`);
    const values = jArray(arr?.values, `${field}.arrayValue.values`);
    const out: unknown[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = jAnyValue(values[i], `${field}.arrayValue.values.${i}`, depth + 1);
    return out;
  }
  if (v.kvlistValue !== undefined && v.kvlistValue !== null) {
    if (depth + 1 > MAX_ANY_VALUE_DEPTH) throw depthError(`at ${field}`);
    const kv = jObject(v.kvlistValue, `${field}.kvlistValue`);
    const obj: Record<string, unknown> = {};
    jKeyValues(kv?.values, `${field}.kvlistValue.values`, obj, depth + 1, false);
    return obj;
  }
  if (v.bytesValue !== undefined && v.bytesValue !== null) return jString(v.bytesValue, `${field}.bytesValue`);
  return null;
}

/** A repeated KeyValue into `into` (later duplicates win); `asTag` stores tag strings. */
export function jKeyValues(v: unknown, field: string, into: Record<string, unknown>, depth: number, asTag: boolean): void {
  const list = jArray(v, field);
  for (let i = 0; i < list.length; i++) {
    const kv = list[i];
    if (!isObject(kv)) throw expected(`${field}.${i}`, 'a KeyValue object', kv);
    const key = jString(kv.key, `${field}.${i}.key`);
    const value = kv.value === undefined || kv.value === null ? null : jAnyValue(kv.value, `${field}.${i}.value`, depth);
    setKey(into, key, asTag ? tagValue(value) : value);
  }
}

/** A Resource object's attributes. */
export function jResource(v: unknown, field: string): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  const res = jObject(v, field);
  if (res) jKeyValues(res.attributes, `${field}.attributes`, attributes, 0, false);
  return attributes;
}

/** An InstrumentationScope's name and version. */
export function jScope(v: unknown, field: string): Scope {
  const scope = jObject(v, field);
  if (!scope) return { name: '', version: '' };
  return { name: jString(scope.name, `${field}.name`), version: jString(scope.version, `${field}.version`) };
}
