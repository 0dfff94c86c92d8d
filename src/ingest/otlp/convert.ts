import type { LogLevel, SpanKind, SpanStatus } from '../model.ts';
import { ItemFault, OtlpDecodeError } from './errors.ts';

/** Deepest AnyValue nesting (arrays and kvlists) we follow; deeper is a malformed request. */
export const MAX_ANY_VALUE_DEPTH = 64;

/**
 * Sets an own, enumerable data property, so that a key such as "__proto__" is stored as data and
 * never reaches the Object.prototype setter (no prototype change, no pollution). "constructor"
 * and "prototype" are ordinary own keys on a fresh object and need nothing special.
 */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** A tag value: strings as is, numbers and booleans as String(), the rest as JSON. */
export function tagValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

/** Copies attributes as tag strings into `tags` (later keys win). */
export function addTags(tags: Record<string, string>, attributes: Record<string, unknown>): void {
  for (const key of Object.keys(attributes)) setKey(tags, key, tagValue(attributes[key]));
}

/**
 * A copy of `tags`. Object.assign is several times faster than a spread followed by more keys, but
 * it would hand a "__proto__" key to the prototype setter: copy such objects key by key instead.
 */
export function copyTags(tags: Record<string, string>): Record<string, string> {
  if (!Object.hasOwn(tags, '__proto__')) return Object.assign({}, tags);
  const out: Record<string, string> = {};
  for (const key of Object.keys(tags)) setKey(out, key, tags[key]);
  return out;
}

// ---- time ----------------------------------------------------------------------------------

/**
 * Nanoseconds since the epoch, as unsigned 32-bit halves, to epoch milliseconds with the
 * microseconds as the fraction (sub-microsecond digits are truncated, Postgres keeps microseconds).
 * ns = hi * 2^32 + lo = 1000 * (hi * 4294967) + (hi * 296 + lo), so every product stays exact.
 * Returns 0 for 0 (the proto default, "not set").
 */
export function nanosToMs(lo: number, hi: number): number {
  if (hi === 0 && lo === 0) return 0;
  const micros = hi * 4_294_967 + Math.floor((hi * 296 + lo) / 1000);
  return micros / 1000;
}

/** A decimal nanosecond string (OTLP/JSON's 64-bit form) to milliseconds, exact to the microsecond. */
export function decimalNanosToMs(s: string): number | undefined {
  if (!/^\d{1,20}$/.test(s)) return undefined;
  if (s.length <= 3) return 0;
  return Number(s.slice(0, -3)) / 1000;
}

// ---- integers ------------------------------------------------------------------------------

/** A signed int64 from its halves: a number when it is a safe integer, else its decimal string. */
export function int64Value(lo: number, hi: number): number | string {
  const v = (hi | 0) * 0x1_0000_0000 + lo;
  if (Number.isSafeInteger(v)) return v;
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** A decimal int64 string to a number when safe, else the normalised decimal string. */
export function decimalInt64(s: string): number | string | undefined {
  if (!/^-?\d{1,19}$/.test(s)) return undefined;
  const n = Number(s);
  if (Number.isSafeInteger(n)) return n;
  const big = BigInt(s);
  if (big > 0x7fff_ffff_ffff_ffffn || big < -0x8000_0000_0000_0000n) return undefined;
  return big.toString();
}

// ---- bytes ---------------------------------------------------------------------------------

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!;
  return s;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (what OTLP/JSON uses for bytes). */
export function base64(bytes: Uint8Array): string {
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + B64[(v >>> 6) & 63]! + B64[v & 63]!;
  }
  if (i < n) {
    const rest = n - i;
    const v = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + (rest === 2 ? B64[(v >>> 6) & 63]! : '=') + '=';
  }
  return out;
}

// ---- ids ---------------------------------------------------------------------------------

/**
 * A trace id (16 bytes) or span id (8 bytes) from protobuf bytes, as lowercase hex. Empty means
 * absent: an error when `required`, else undefined. All zero is invalid per the trace spec: an
 * error when required, else treated as absent (log records and parent span ids use it for "none").
 */
export function idFromBytes(bytes: Uint8Array, size: number, field: string, what: string, required: true): string;
export function idFromBytes(bytes: Uint8Array, size: number, field: string, what: string, required: false): string | undefined;
export function idFromBytes(bytes: Uint8Array, size: number, field: string, what: string, required: boolean): string | undefined {
  if (bytes.length === 0) return missingId(field, what, required);
  if (bytes.length !== size) {
    throw new ItemFault(field, `${what} must be ${size} bytes, got ${bytes.length}`);
  }
  let zero = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) {
      zero = false;
      break;
    }
  }
  if (zero) return zeroId(field, what, required);
  return hexOf(bytes);
}

const HEX_RE = /^[0-9a-fA-F]*$/;
const ZERO_RE = /^0+$/;

/** The same from an OTLP/JSON hex string (any case; normalised to lowercase). */
export function idFromHex(value: unknown, size: number, field: string, what: string, required: true): string;
export function idFromHex(value: unknown, size: number, field: string, what: string, required: false): string | undefined;
export function idFromHex(value: unknown, size: number, field: string, what: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') return missingId(field, what, required);
  if (typeof value !== 'string' || !HEX_RE.test(value)) {
    throw new ItemFault(field, `${what} must be a hex string`);
  }
  if (value.length !== size * 2) {
    throw new ItemFault(field, `${what} must be ${size * 2} hex characters (${size} bytes), got ${value.length}`);
  }
  if (ZERO_RE.test(value)) return zeroId(field, what, required);
  return value.toLowerCase();
}

function missingId(field: string, what: string, required: boolean): undefined {
  if (required) throw new ItemFault(field, `${what} is missing`);
  return undefined;
}

function zeroId(field: string, what: string, required: boolean): undefined {
  if (required) throw new ItemFault(field, `${what} must not be all zero`);
  return undefined;
}

// ---- enums ---------------------------------------------------------------------------------

const LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** OTLP SeverityNumber (1-24) to a level; 0 or out of range derives it from the severity text. */
export function logLevel(severityNumber: number, severityText: string): LogLevel {
  if (severityNumber >= 1 && severityNumber <= 24) return LEVELS[Math.floor((severityNumber - 1) / 4)]!;
  switch (severityText.trim().toLowerCase()) {
    case 'trace':
      return 'trace';
    case 'debug':
      return 'debug';
    case 'warn':
    case 'warning':
      return 'warn';
    case 'error':
      return 'error';
    case 'fatal':
    case 'critical':
      return 'fatal';
    default:
      return 'info';
  }
}

const KINDS: SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

/** Span.SpanKind; unknown values (a newer proto) map to "unspecified". */
export function spanKind(kind: number): SpanKind {
  return KINDS[kind] ?? 'unspecified';
}

/** Status.StatusCode; unknown values map to "unset". */
export function spanStatus(code: number): SpanStatus {
  return code === 1 ? 'ok' : code === 2 ? 'error' : 'unset';
}

/** The resource's service.name, or "unknown_service" (the SDK specification's fallback). */
export function serviceName(resource: Record<string, unknown>): string {
  const v = resource['service.name'];
  if (v === undefined || v === null || v === '') return 'unknown_service';
  return tagValue(v);
}

/** Adds otel.scope.name / otel.scope.version (when non-empty) unless the item set them itself. */
export function addScope(attributes: Record<string, unknown>, scopeName: string, scopeVersion: string): void {
  if (scopeName !== '' && !Object.hasOwn(attributes, 'otel.scope.name')) attributes['otel.scope.name'] = scopeName;
  if (scopeVersion !== '' && !Object.hasOwn(attributes, 'otel.scope.version')) attributes['otel.scope.version'] = scopeVersion;
}

export function depthError(at: string): OtlpDecodeError {
  return new OtlpDecodeError(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels ${at}`);
}
