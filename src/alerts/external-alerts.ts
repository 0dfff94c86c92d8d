import type { Instance, Transition } from './instances.ts';
import type { Labels, Severity } from './model.ts';

/**
 * Alerts that Prometheus, Grafana or vmalert send through the Alertmanager API v2, as a pure step:
 * receiveExternal(stored instance, received alert, now) -> (instance, transitions). The sender
 * evaluates the rule; we keep its alert's lease (Alertmanager's model, api/v2 and types/alert.go):
 * - an alert whose endsAt is in the future fires (there is no pending: senders never send it);
 *   re-sends renew the lease (endsAt) and replace the annotations, with no transition;
 * - an alert whose endsAt has passed is resolved: a firing instance resolves at that endsAt; a
 *   resolved one stays as it is, and one we never saw firing is ignored (nothing to tell anyone):
 *   repeated resolved sends, which Prometheus makes for 15 minutes, are harmless;
 * - a resolved instance that is sent firing again fires again (a new activeAt);
 * - a lease that passes unrenewed is resolved by the evaluator (instance-store.ts resolveOrphans).
 * Severity comes from the `severity` label when it names one we know, else critical: an alert sent
 * to an Alertmanager is usually meant to reach someone.
 */
export interface ReceivedAlert {
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  endsAt: number;
  generatorUrl: string | null;
}

export interface ExternalState extends Instance {
  endsAt: number | null;
  annotations: Labels;
  generatorUrl: string | null;
}

const SEVERITIES: Record<string, Severity> = {
  critical: 'critical',
  error: 'critical',
  page: 'critical',
  warning: 'warning',
  warn: 'warning',
  info: 'info',
  none: 'info',
  low: 'info',
};

export const severityOf = (labels: Labels): Severity => SEVERITIES[(labels.severity ?? '').toLowerCase()] ?? 'critical';

export function receiveExternal(prev: ExternalState | null, a: ReceivedAlert, now: number): { next: ExternalState | null; transitions: Transition[] } {
  const severity = severityOf(a.labels);
  const firing = a.endsAt > now;
  const base = { value: null, threshold: null };
  if (firing) {
    if (prev && prev.state === 'firing') {
      const next: ExternalState = { ...prev, severity, endsAt: a.endsAt, annotations: a.annotations, generatorUrl: a.generatorUrl, lastEvalAt: now, lastTrueAt: now };
      const transitions: Transition[] =
        severity === prev.severity ? [] : [{ from: 'firing', to: 'firing', at: now, severity, ...base, reason: `severity changed to ${severity} by the sender` }];
      return { next, transitions };
    }
    const activeAt = Math.min(a.startsAt, now);
    const next: ExternalState = {
      state: 'firing',
      severity,
      activeAt,
      firedAt: now,
      resolvedAt: null,
      lastTrueAt: now,
      lastEvalAt: now,
      value: null,
      flapping: false,
      changesAt: recent([...(prev?.changesAt ?? []), now], now),
      endsAt: a.endsAt,
      annotations: a.annotations,
      generatorUrl: a.generatorUrl,
    };
    return { next, transitions: [{ from: prev ? prev.state : 'inactive', to: 'firing', at: now, severity, ...base, reason: 'received firing through the Alertmanager API' }] };
  }
  if (!prev || prev.state !== 'firing') return { next: prev, transitions: [] };
  const resolvedAt = Math.max(a.endsAt, prev.activeAt);
  const next: ExternalState = {
    ...prev,
    state: 'resolved',
    resolvedAt,
    endsAt: a.endsAt,
    annotations: a.annotations,
    generatorUrl: a.generatorUrl,
    lastEvalAt: now,
    changesAt: recent([...prev.changesAt, now], now),
  };
  return { next, transitions: [{ from: 'firing', to: 'resolved', at: resolvedAt, severity: prev.severity, ...base, reason: 'received resolved through the Alertmanager API' }] };
}

/** The changes of the last hour: bounded, as instances.ts keeps its flap history. */
const recent = (times: number[], now: number) => times.filter((t) => t > now - 3_600_000);
