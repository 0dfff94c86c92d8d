/**
 * OTLP/HTTP response bodies, in the request's encoding:
 * - Export{Metrics,Logs,Trace}ServiceResponse { partial_success (1) { rejected_<items> (1, int64),
 *   error_message (2, string) } }, empty when nothing was rejected and there is nothing to say;
 * - google.rpc.Status { code (1, int32), message (2, string) } for failures.
 */

export type OtlpEncoding = 'json' | 'protobuf';
export type OtlpSignal = 'metrics' | 'logs' | 'traces';

const REJECTED_FIELD: Record<OtlpSignal, string> = {
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
  traces: 'rejectedSpans',
};

const utf8 = new TextEncoder();

export function encodeExportResponse(signal: OtlpSignal, rejected: number, errorMessage: string, contentType: 'protobuf'): Uint8Array;
export function encodeExportResponse(signal: OtlpSignal, rejected: number, errorMessage: string, contentType: 'json'): string;
export function encodeExportResponse(signal: OtlpSignal, rejected: number, errorMessage: string, contentType: OtlpEncoding): Uint8Array | string;
export function encodeExportResponse(signal: OtlpSignal, rejected: number, errorMessage: string, contentType: OtlpEncoding): Uint8Array | string {
  const count = Number.isFinite(rejected) && rejected > 0 ? Math.floor(rejected) : 0;
  if (contentType === 'json') {
    if (count === 0 && errorMessage === '') return '{}';
    const partial: Record<string, string> = {};
    // proto3 JSON writes int64 as a decimal string.
    if (count !== 0) partial[REJECTED_FIELD[signal]] = String(count);
    if (errorMessage !== '') partial.errorMessage = errorMessage;
    return JSON.stringify({ partialSuccess: partial });
  }
  if (count === 0 && errorMessage === '') return new Uint8Array(0);
  const inner: number[] = [];
  if (count !== 0) {
    inner.push(0x08); // field 1, varint
    pushVarint(inner, BigInt(count));
  }
  if (errorMessage !== '') pushString(inner, 2, errorMessage);
  const out: number[] = [0x0a]; // field 1, length-delimited
  pushVarint(out, BigInt(inner.length));
  for (const b of inner) out.push(b);
  return Uint8Array.from(out);
}

export function encodeStatus(code: number, message: string, contentType: 'protobuf'): Uint8Array;
export function encodeStatus(code: number, message: string, contentType: 'json'): string;
export function encodeStatus(code: number, message: string, contentType: OtlpEncoding): Uint8Array | string;
export function encodeStatus(code: number, message: string, contentType: OtlpEncoding): Uint8Array | string {
  const c = code | 0;
  if (contentType === 'json') return JSON.stringify({ code: c, message });
  const out: number[] = [];
  if (c !== 0) {
    out.push(0x08); // field 1, varint; a negative int32 is sign-extended to 10 bytes
    pushVarint(out, BigInt.asUintN(64, BigInt(c)));
  }
  if (message !== '') pushString(out, 2, message);
  return Uint8Array.from(out);
}

function pushVarint(out: number[], v: bigint): void {
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function pushString(out: number[], field: number, s: string): void {
  const bytes = utf8.encode(s);
  out.push((field << 3) | 2);
  pushVarint(out, BigInt(bytes.length));
  for (const b of bytes) out.push(b);
}
