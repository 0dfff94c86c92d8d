/**
 * A tiny protobuf encoder for hand-built test payloads (summaries, which the JS SDK never produces,
 * and malformed requests). Each helper returns one encoded field, tag included.
 */

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function rawVarint(v: number | bigint): Uint8Array {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Uint8Array.from(out);
}

export function key(field: number, wireType: number): Uint8Array {
  return rawVarint((field << 3) | wireType);
}

export const pb = {
  varint: (field: number, v: number | bigint) => concat(key(field, 0), rawVarint(v)),
  sint32: (field: number, v: number) => concat(key(field, 0), rawVarint(((v << 1) ^ (v >> 31)) >>> 0)),
  fixed64: (field: number, v: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    return concat(key(field, 1), b);
  },
  double: (field: number, v: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return concat(key(field, 1), b);
  },
  fixed32: (field: number, v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return concat(key(field, 5), b);
  },
  bytes: (field: number, b: Uint8Array) => concat(key(field, 2), rawVarint(b.length), b),
  string: (field: number, s: string) => pb.bytes(field, new TextEncoder().encode(s)),
  message: (field: number, ...parts: Uint8Array[]) => pb.bytes(field, concat(...parts)),
  packedDoubles: (field: number, vs: number[]) => {
    const b = new Uint8Array(vs.length * 8);
    const dv = new DataView(b.buffer);
    vs.forEach((v, i) => dv.setFloat64(i * 8, v, true));
    return pb.bytes(field, b);
  },
  packedFixed64: (field: number, vs: number[]) => {
    const b = new Uint8Array(vs.length * 8);
    const dv = new DataView(b.buffer);
    vs.forEach((v, i) => dv.setBigUint64(i * 8, BigInt(v), true));
    return pb.bytes(field, b);
  },
};

/** common.v1: a KeyValue with a string, int or nested AnyValue. */
export function kv(k: string, anyValue: Uint8Array): Uint8Array {
  return concat(pb.string(1, k), pb.bytes(2, anyValue));
}
export const any = {
  str: (s: string) => pb.string(1, s),
  bool: (b: boolean) => pb.varint(2, b ? 1 : 0),
  int: (v: number | bigint) => pb.varint(3, v),
  double: (v: number) => pb.double(4, v),
  array: (...values: Uint8Array[]) => pb.message(5, ...values.map((v) => pb.bytes(1, v))),
  kvlist: (...kvs: Uint8Array[]) => pb.message(6, ...kvs.map((k) => pb.bytes(1, k))),
  bytes: (b: Uint8Array) => pb.bytes(7, b),
};

/** A resource with string attributes, as ResourceX.resource (field 1). */
export function resource(attrs: Record<string, string>): Uint8Array {
  return pb.message(1, ...Object.entries(attrs).map(([k, v]) => pb.bytes(1, kv(k, any.str(v)))));
}

/** Wraps one metric (Metric message bytes) into a whole ExportMetricsServiceRequest. */
export function metricsRequest(resourceAttrs: Record<string, string>, ...metrics: Uint8Array[]): Uint8Array {
  return pb.message(1, resource(resourceAttrs), pb.message(2, pb.message(1, pb.string(1, 'scope')), ...metrics.map((m) => pb.bytes(2, m))));
}

/** Wraps spans (Span message bytes) into a whole ExportTraceServiceRequest. */
export function tracesRequest(resourceAttrs: Record<string, string>, ...spans: Uint8Array[]): Uint8Array {
  return pb.message(1, resource(resourceAttrs), pb.message(2, ...spans.map((s) => pb.bytes(2, s))));
}

/** Wraps log records (LogRecord message bytes) into a whole ExportLogsServiceRequest. */
export function logsRequest(resourceAttrs: Record<string, string>, ...records: Uint8Array[]): Uint8Array {
  return pb.message(1, resource(resourceAttrs), pb.message(2, ...records.map((r) => pb.bytes(2, r))));
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
}
