import { describe, expect, it } from 'vitest';
import { checkKey, partKey, schemaKey } from '../../../src/exports/layout.ts';
import { lastCompleteDay } from '../../../src/exports/schedule-daily-runs.ts';
import { CreateDestination, RequestExport } from '../../../src/exports/schemas.ts';
import { bigQuerySchema, lineSql } from '../../../src/exports/signals.ts';

const P = '6f1c2a44-8d2e-4a51-9a57-1b0c2d3e4f50';
const R = '0b7e2d1c-3a4f-4e5d-8c6b-7a8f9e0d1c2b';

describe('object layout', () => {
  it.each([
    // prefix, expected part key
    ['', `${P}/logs/dt=2026-03-09/part-00003-${R}.ndjson.gz`],
    ['exports/prod', `exports/prod/${P}/logs/dt=2026-03-09/part-00003-${R}.ndjson.gz`],
  ])('prefix %j', (prefix, expected) => {
    expect(partKey(prefix, P, 'logs', '2026-03-09', 3, R)).toBe(expected);
    expect(schemaKey(prefix, P, 'spans')).toBe(`${prefix ? `${prefix}/` : ''}${P}/spans/_schema.json`);
    expect(checkKey(prefix, P)).toBe(`${prefix ? `${prefix}/` : ''}${P}/_observai-check.json`);
  });
});

describe('BigQuery schema', () => {
  it.each(['logs', 'spans'] as const)('%s: names the NDJSON fields in order, with types bq accepts', (signal) => {
    const schema = bigQuerySchema(signal);
    const sql = lineSql(signal);
    // Every schema field is a json_build_object key, in the same order.
    const keys = [...sql.matchAll(/'([a-z_]+)', /g)].map((m) => m[1]);
    expect(keys).toEqual(schema.map((f) => f.name));
    for (const f of schema) {
      expect(['STRING', 'INT64', 'FLOAT64', 'TIMESTAMP', 'JSON']).toContain(f.type);
      expect(['REQUIRED', 'NULLABLE']).toContain(f.mode);
      expect(f.name).toMatch(/^[a-z_][a-z0-9_]*$/);
    }
  });
});

describe('schedules', () => {
  it.each([
    // now, newest day with a run (days end at 00:00 UTC; 30 minutes' settle time)
    ['2026-03-10T00:29:59Z', '2026-03-08'],
    ['2026-03-10T00:30:00Z', '2026-03-09'],
    ['2026-03-10T23:59:59Z', '2026-03-09'],
  ])('at %s the last complete day is %s', (now, day) => {
    expect(lastCompleteDay(new Date(now))).toBe(day);
  });
});

describe('request schemas', () => {
  const base = { destinationId: R, signal: 'logs', from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' };
  it.each([
    // body, the field the 400 names
    [{ ...base, to: '2026-02-28T00:00:00Z' }, 'to'],
    [{ ...base, to: base.from }, 'to'],
    [{ ...base, to: '2026-04-02T00:00:01Z' }, 'to'],
    [{ ...base, signal: 'metrics' }, 'signal'],
    [{ ...base, signal: 'spans', filter: { level: ['error'] } }, 'filter.level'],
    [{ ...base, rowsPerFile: 10 }, 'rowsPerFile'],
  ])('refuses %j naming %s', (body, field) => {
    const r = RequestExport.safeParse(body);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path.join('.')).toBe(field);
  });

  it('accepts 31 days exactly and normalises a destination prefix', () => {
    expect(RequestExport.safeParse({ ...base, to: '2026-04-01T00:00:00Z' }).success).toBe(true);
    const d = CreateDestination.parse({ projectId: P, name: 'n', bucket: 'my-bucket', prefix: '/a/b/', accessKeyId: 'k', secretAccessKey: 's' });
    expect(d).toMatchObject({ prefix: 'a/b', region: 'us-east-1', forcePathStyle: false });
    expect(CreateDestination.safeParse({ ...d, prefix: 'a/../b' }).success).toBe(false);
  });
});
