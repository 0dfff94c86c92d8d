import { MAX_ANY_VALUE_DEPTH, base64, depthError, int64Value, serviceName, setKey, tagValue } from './convert.ts';
import type { DecodedBatch } from '../model.ts';
import { type MessageSpec, ProtoReader, WIRE_I64, WIRE_LEN, WIRE_VARINT, messageSpec, tagOf } from './wire.ts';
import { Sink } from './sink.ts';

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

/** What a record decoder gets: its resource's service and attributes, and its scope. */
export interface ScopeContext {
  service: string;
  resource: Record<string, unknown>;
  scopeName: string;
  scopeVersion: string;
}

/**
 * The envelope shared by logs and traces: Request{1: Resource*{1: resource, 2: Scope*{1: scope,
 * 2: record*}}}. Resource and scope are read first (they may come after their children on the
 * wire), then every record is decoded; a record that fails becomes an item error, the rest go on.
 */
export interface EnvelopeSpec<T> {
  request: MessageSpec;
  resourceMessage: MessageSpec;
  scopeMessage: MessageSpec;
  /** JSON-style path segments: resourceLogs / scopeLogs / logRecords, ... */
  paths: { resources: string; scopes: string; records: string };
  list(batch: DecodedBatch): T[];
  record(r: ProtoReader, end: number, ctx: ScopeContext): T;
}

const E1_LEN = tagOf(1, WIRE_LEN);
const E2_LEN = tagOf(2, WIRE_LEN);

export function decodeEnvelope<T>(body: Uint8Array, spec: EnvelopeSpec<T>): DecodedBatch {
  const r = new ProtoReader(body);
  const sink = new Sink();
  const end = r.length;
  let i = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === E1_LEN) envelopeResource(r, r.lengthEnd(end), sink, spec, `${spec.paths.resources}.${i++}`);
    else r.skip(t, end, spec.request);
  }
  return sink.batch;
}

function envelopeResource<T>(r: ProtoReader, end: number, sink: Sink, spec: EnvelopeSpec<T>, path: string): void {
  const start = r.pos;
  const resource: Record<string, unknown> = {};
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === E1_LEN) readResource(r, r.lengthEnd(end), resource);
    else r.skip(t, end, spec.resourceMessage);
  }
  const service = serviceName(resource);
  r.pos = start;
  let i = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === E2_LEN) envelopeScope(r, r.lengthEnd(end), sink, spec, service, resource, `${path}.${spec.paths.scopes}.${i++}`);
    else r.skip(t, end, spec.resourceMessage);
  }
}

function envelopeScope<T>(
  r: ProtoReader,
  end: number,
  sink: Sink,
  spec: EnvelopeSpec<T>,
  service: string,
  resource: Record<string, unknown>,
  path: string,
): void {
  const start = r.pos;
  const scope: Scope = { name: '', version: '' };
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === E1_LEN) readScope(r, r.lengthEnd(end), scope);
    else r.skip(t, end, spec.scopeMessage);
  }
  const ctx: ScopeContext = { service, resource, scopeName: scope.name, scopeVersion: scope.version };
  r.pos = start;
  let i = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t !== E2_LEN) {
      r.skip(t, end, spec.scopeMessage);
      continue;
    }
    const recordEnd = r.lengthEnd(end);
    const index = sink.item();
    const k = i++;
    try {
      const list = spec.list(sink.batch);
      list.push(spec.record(r, recordEnd, ctx));
      sink.origin(list as object[], list.length - 1, index, `${path}.${spec.paths.records}.${k}`);
    } catch (e) {
      sink.fault(e, index, `${path}.${spec.paths.records}.${k}`);
      r.pos = recordEnd;
    }
  }
}
