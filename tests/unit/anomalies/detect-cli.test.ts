import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DETECTOR_NAMES, createDetectorState, stepDetector } from '../../../src/anomalies/detectors/index.ts';
import { noiseSeries } from './run-detector.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function detect(input: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync('npx', ['tsx', 'scripts/detect.ts', ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  const lines = r.stdout === '' ? [] : r.stdout.replace(/\n$/, '').split('\n');
  return { status: r.status, lines, stderr: r.stderr };
}

/** 400 one-minute points with a spike at row 300, as `YYYY-MM-DD HH:MM:SS` (UTC) rows. */
function csvRows(): { rows: string[]; values: number[]; timestamps: number[] } {
  const s = noiseSeries(400, { seed: 31 });
  s.values[300]! += 40;
  const rows = s.timestamps.map((t, i) => `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')},${s.values[i]}`);
  return { rows, values: s.values, timestamps: s.timestamps };
}

describe('scripts/detect.ts', { timeout: 30_000 }, () => {
  it('prints one score in [0,1] per data row, skipping the header and blank lines', () => {
    const { rows } = csvRows();
    const withBlanks = [rows.slice(0, 100).join('\n'), '', rows.slice(100).join('\n'), ''].join('\n');
    const out = detect(`timestamp,value\n${withBlanks}\n`);
    expect(out.status).toBe(0);
    expect(out.lines).toHaveLength(rows.length);
    for (const line of out.lines) {
      expect(line).toMatch(/^\d+(\.\d+)?$/);
      const score = Number(line);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    expect(Number(out.lines[300])).toBeGreaterThanOrEqual(0.5);
  });

  it('scores exactly what the library scores with the default detector', () => {
    const { rows, values, timestamps } = csvRows();
    const state = createDetectorState();
    const results = values.map((value, i) => stepDetector(state, { timestamp: timestamps[i]!, value }));
    // Six decimals rounded down, so a printed 0.500000 or more is exactly an anomalous row.
    const expected = results.map((r) => (Math.floor(r.score * 1e6) / 1e6).toFixed(6));
    const out = detect(`${rows.join('\n')}\n`);
    expect(out.lines).toEqual(expected);
    expect(out.lines.map((l) => Number(l) >= 0.5)).toEqual(results.map((r) => r.anomalous));
  });

  it('treats zone-less times as UTC whatever the machine zone, and ISO 8601 the same', () => {
    const { rows } = csvRows();
    const iso = rows.map((r) => r.replace(' ', 'T').replace(',', 'Z,'));
    const local = detect(`${rows.join('\n')}\n`, ['--detector', 'seasonal'], { TZ: 'America/New_York' });
    const zoned = detect(`${iso.join('\n')}\n`, ['--detector', 'seasonal']);
    expect(local.lines).toEqual(zoned.lines);
    expect(local.lines).toHaveLength(rows.length);
  });

  it('keeps the output aligned: an unparseable value scores 0 on its own line', () => {
    const { rows } = csvRows();
    const broken = [...rows];
    broken[250] = `${rows[250]!.split(',')[0]},not-a-number`;
    broken[251] = `${rows[251]!.split(',')[0]},`;
    const out = detect(`timestamp,value\n${broken.join('\n')}\n`);
    expect(out.status).toBe(0);
    expect(out.lines).toHaveLength(rows.length);
    expect(out.lines[250]).toBe('0.000000');
    expect(out.lines[251]).toBe('0.000000');
  });

  it('rejects an unknown detector with exit 2, listing the valid names', () => {
    const out = detect('2024-01-01 00:00:00,1\n', ['--detector', 'nope']);
    expect(out.status).toBe(2);
    expect(out.lines).toEqual([]);
    for (const name of DETECTOR_NAMES) expect(out.stderr).toContain(name);
  });

  it('fails naming the line when a data row has no readable timestamp', () => {
    const out = detect('timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,2\nyesterday,3\n');
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain('line 4');
  });
});
