import { describe, expect, it } from 'vitest';
import { loadRecordedSet } from '../../fixtures/anomalies/recorded-set.ts';
import { PROBATION_FRACTION } from '../../fixtures/anomalies/window-score.ts';

/** The recorded suite's files (tests/fixtures/anomalies/recorded/) load as the evaluation expects. */
describe('recorded evaluation set', () => {
  const set = loadRecordedSet();
  const sessions = [...new Set(set.map((s) => s.session))];

  it('has the six sessions, one series per metric column, with increasing timestamps at the session cadence', () => {
    expect(sessions).toEqual(['session1', 'session2', 'session3', 'session4', 'session5', 'session6']);
    for (const session of sessions) {
      const series = set.filter((s) => s.session === session);
      expect(series).toHaveLength(29);
      const { timestamps, cadenceMs } = series[0]!;
      expect(cadenceMs).toBe(session === 'session1' ? 1000 : session === 'session5' ? 3000 : 2000);
      for (let i = 1; i < timestamps.length; i++) expect(timestamps[i]!).toBeGreaterThan(timestamps[i - 1]!);
      // Most rows are one cadence apart (a stalled sampler leaves a gap, never a duplicate).
      const steps = timestamps.slice(1).map((t, i) => Math.round((t - timestamps[i]!) / cadenceMs));
      expect(steps.filter((k) => k === 1).length / steps.length).toBeGreaterThan(0.95);
    }
  });

  it('labels windows only from declared events, inside the series, and after the probation from session2 on', () => {
    const windows = (session: string) => set.filter((s) => s.session === session).reduce((n, s) => n + s.windows.length, 0);
    expect(windows('session1')).toBe(50);
    expect(windows('session2')).toBe(59);
    expect(windows('session3')).toBe(59);
    expect(windows('session4')).toBe(59);
    expect(windows('session5')).toBe(59);
    expect(windows('session6')).toBe(59);
    for (const s of set) {
      for (const w of s.windows) {
        expect(w.start).toBeGreaterThanOrEqual(0);
        expect(w.end).toBeLessThan(s.values.length);
        expect(w.onset).toBeGreaterThanOrEqual(w.start);
        expect(w.onset).toBeLessThanOrEqual(w.end);
        if (s.session !== 'session1') expect(w.onset).toBeGreaterThan(PROBATION_FRACTION * s.values.length);
      }
    }
    // A metric no event declares has no windows (a flag on it is a false positive).
    expect(set.find((s) => s.id === 'session2/cpu_system_pct')!.windows).toEqual([]);
    expect(set.find((s) => s.id === 'session2/app_errors_per_s')!.windows.map((w) => w.type)).toEqual(['redis_down', 'db_unavailable']);
  });
});
