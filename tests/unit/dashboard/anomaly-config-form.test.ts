import { describe, expect, it } from 'vitest';
import { emptyConfigForm, fromConfig, toConfigBody, type Config } from '../../../dashboard/components/anomalies/config-form.ts';
import { formatTags, parseTags } from '../../../dashboard/lib/metrics.ts';

const PROJECT = '6f1c1d52-8a43-4b7e-9d0a-3f5e2b7c9a10';
const saved: Config = {
  id: 'c1',
  metric: 'http.latency',
  filter: { service: 'checkout', region: 'eu' },
  config: { detector: 'onset', sensitivity: 3.5, direction: 'up', minAbsDeviation: 5, minRelDeviation: 0.1, window: 120, seasonality: 'daily', warmup: 30 },
  enabled: true,
  updatedAt: '2026-12-07T04:00:00.000Z',
};

describe('the anomaly configuration form', () => {
  it('edits a saved configuration without losing the settings it does not show', () => {
    const form = fromConfig(saved);
    expect(form).toMatchObject({ metric: 'http.latency', filter: 'service=checkout, region=eu', sensitivity: '3.5', minRelPct: '10' });
    const made = toConfigBody({ ...form, direction: 'both' }, PROJECT);
    expect(made).toEqual({
      body: {
        projectId: PROJECT,
        metric: 'http.latency',
        filter: { service: 'checkout', region: 'eu' },
        enabled: true,
        // A numeric sensitivity stays a number; window, seasonality and warmup go back as they were.
        config: { detector: 'onset', sensitivity: 3.5, direction: 'both', minAbsDeviation: 5, minRelDeviation: 0.1, window: 120, seasonality: 'daily', warmup: 30 },
      },
    });
  });

  it('sends a new configuration with only what the form shows', () => {
    const made = toConfigBody({ ...emptyConfigForm(), metric: ' cpu.usage ', sensitivity: 'high' }, PROJECT);
    expect(made).toEqual({ body: { projectId: PROJECT, metric: 'cpu.usage', filter: {}, enabled: true, config: { detector: 'onset', sensitivity: 'high', direction: 'both', minAbsDeviation: 0, minRelDeviation: 0 } } });
  });

  it.each([
    [{ filter: 'service=checkout, region eu' }, 'Series filter: "region eu" is not tag=value'],
    [{ filter: '=x' }, 'Series filter: "=x" is not tag=value'],
    [{ minAbs: '-1' }, 'Minimum change must be a number, 0 or more.'],
    [{ minAbs: '' }, 'Minimum change must be a number, 0 or more.'],
    [{ minRelPct: 'ten' }, 'Minimum relative change must be a percentage, 0 or more.'],
  ])('names what is wrong before sending: %o', (change, error) => {
    expect(toConfigBody({ ...emptyConfigForm(), metric: 'm', ...change }, PROJECT)).toEqual({ error });
  });

  it('reads and writes tags as key=value pairs', () => {
    expect(parseTags('a=1, b = 2\nc=x=y')).toEqual({ tags: { a: '1', b: '2', c: 'x=y' } });
    expect(parseTags('  ')).toEqual({ tags: {} });
    expect(formatTags({ a: '1', b: '2' })).toBe('a=1, b=2');
  });
});
