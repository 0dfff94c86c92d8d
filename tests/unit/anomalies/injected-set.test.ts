import { describe, expect, it } from 'vitest';
import { injectSeries, loadInjectedSet, loadPublicSeries, typesFor } from '../../fixtures/anomalies/injected-set.ts';
import { PROBATION_FRACTION } from '../../fixtures/anomalies/window-score.ts';

/** The injected suite (tests/fixtures/anomalies/injected/): real public backgrounds, anomalies where its labels say. */
describe('injected evaluation set', () => {
  const backgrounds = loadPublicSeries();
  const set = loadInjectedSet();

  it('has the fifteen backgrounds, each clean once and once per type that applies to it', () => {
    expect(backgrounds.map((b) => b.id.split('/')[0])).toEqual([...Array(8).fill('weather'), ...Array(3).fill('normals'), 'co2', ...Array(3).fill('births')]);
    expect(set).toHaveLength(backgrounds.reduce((n, b) => n + 1 + typesFor(b).length, 0));
    // Rain is zero most days: no flatline, variance drop or dip on it; a seasonal break needs a cycle.
    const rain = backgrounds.find((b) => b.id === 'weather/seattle/precipitation_mm')!;
    expect(typesFor(rain)).toEqual(['spike', 'level_shift', 'variance_change', 'drift']);
    expect(typesFor(backgrounds.find((b) => b.id === 'births/us-cdc-1994-2003/count')!)).toContain('seasonal_break');
    expect(typesFor(backgrounds.find((b) => b.id === 'normals/seattle/pressure_hpa')!)).not.toContain('variance_drop');
  });

  it('keeps the clean variant equal to its background, with no windows', () => {
    for (const b of backgrounds) {
      const clean = set.find((s) => s.id === `${b.id}/none`)!;
      expect(clean.windows).toEqual([]);
      expect(clean.values).toEqual(b.values.map((x) => (x === null ? Number.NaN : x)));
    }
  });

  it('changes the background only from each labelled onset on, and within its window', () => {
    for (const s of set.filter((x) => x.anomalyType !== 'none')) {
      const bg = set.find((x) => x.id === `${s.background}/none`)!;
      expect(s.windows).toHaveLength(2);
      const first = s.windows[0]!.onset;
      expect(first).toBeGreaterThan(PROBATION_FRACTION * s.values.length);
      for (let i = 0; i < first; i++) expect(s.values[i]).toBe(bg.values[i]);
      for (const w of s.windows) {
        expect(w.start).toBeGreaterThanOrEqual(0);
        expect(w.end).toBeLessThan(s.values.length);
        expect(w.onset).toBeGreaterThanOrEqual(w.start);
        expect(w.onset).toBeLessThanOrEqual(w.end);
        // A slow drift on a smooth background moves less than its rounding for a while: within the window.
        const changed = s.values.slice(w.onset, w.end + 1).some((v, k) => v !== bg.values[w.onset + k]);
        expect(changed, `${s.id} @${w.onset}`).toBe(true);
      }
    }
  });

  it('is deterministic for a seed, and the seed moves the anomalies', () => {
    const b = backgrounds[0]!;
    expect(injectSeries(b, 'spike', 11)).toEqual(injectSeries(b, 'spike', 11));
    expect(injectSeries(b, 'spike', 12).windows).not.toEqual(injectSeries(b, 'spike', 11).windows);
  });
});
