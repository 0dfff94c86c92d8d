/**
 * Where exported objects go in the bucket (prefix may be empty):
 *   <prefix>/<projectId>/<signal>/_schema.json                                    BigQuery schema
 *   <prefix>/<projectId>/<signal>/dt=YYYY-MM-DD/part-NNNNN-<runId>.ndjson.gz      gzipped NDJSON
 *   <prefix>/<projectId>/_observai-check.json                                     connection check
 * `dt=` folders are Hive-style partitions (BigQuery, Athena and Spark read the day from the path).
 * A part key depends only on the run, the day and the part number: rewriting it is idempotent.
 */
import type { Signal } from './schemas.ts';

const base = (prefix: string, projectId: string) => (prefix ? `${prefix}/${projectId}` : projectId);

export function partKey(prefix: string, projectId: string, signal: Signal, day: string, part: number, runId: string): string {
  return `${base(prefix, projectId)}/${signal}/dt=${day}/part-${String(part).padStart(5, '0')}-${runId}.ndjson.gz`;
}

export function schemaKey(prefix: string, projectId: string, signal: Signal): string {
  return `${base(prefix, projectId)}/${signal}/_schema.json`;
}

export function checkKey(prefix: string, projectId: string): string {
  return `${base(prefix, projectId)}/_observai-check.json`;
}
