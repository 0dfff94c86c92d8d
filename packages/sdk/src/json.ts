/**
 * JSON for events the app hands over: JSON.stringify, and only when it throws (a cycle, a BigInt)
 * a second pass that writes BigInts as strings and cycles as "[Circular]", so a log call with an odd
 * attribute still arrives instead of being refused.
 */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    const seen = new WeakSet<object>();
    return (
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === 'bigint') return v.toString();
        if (typeof v === 'object' && v !== null) {
          if (seen.has(v)) return '[Circular]';
          seen.add(v);
        }
        return v;
      }) ?? 'null'
    );
  }
}

/** Errors as attributes: JSON.stringify(new Error()) is "{}". */
export function errorAttributes(err: unknown): Record<string, string> {
  if (err instanceof Error) {
    return { 'exception.type': err.name, 'exception.message': err.message, ...(err.stack ? { 'exception.stacktrace': err.stack } : {}) };
  }
  return { 'exception.message': String(err) };
}
