import type { Deps } from '../core/deps.ts';
import { asServiceRole } from '../db/scoped.ts';
import { externalFingerprint } from './fingerprint.ts';
import { loadExternalInstances, saveInstances, type InstanceWrite, type TransitionWrite } from './instance-store.ts';
import { receiveExternal, type ReceivedAlert } from './external-alerts.ts';

/** Alertmanager's resolve_timeout: an alert sent without endsAt fires for this long unless re-sent. */
export const RESOLVE_TIMEOUT_MS = 5 * 60_000;

/**
 * Stores alerts received through the Alertmanager API v2 for the API key's project, in one
 * transaction: each alert's instance (by the fingerprint of its labels) and its transitions. The
 * answer is sent after the commit, so a 200 means every valid alert was stored.
 */
export async function receiveAlerts(
  deps: Pick<Deps, 'db' | 'clock'>,
  project: { projectId: string; organizationId: string },
  alerts: ReceivedAlert[],
): Promise<{ firing: number; resolved: number; ignored: number }> {
  const now = deps.clock.now().getTime();
  // The last of several sends of one alert in a batch wins, as it would in sequence.
  const byFp = new Map<string, ReceivedAlert>();
  for (const a of alerts) byFp.set(await externalFingerprint(a.labels), a);
  return asServiceRole(deps.db, async (tx) => {
    const stored = new Map((await loadExternalInstances(tx, project.projectId, [...byFp.keys()])).map((i) => [i.fingerprint, i]));
    const writes: InstanceWrite[] = [];
    const transitions: TransitionWrite[] = [];
    const counts = { firing: 0, resolved: 0, ignored: 0 };
    for (const [fp, a] of byFp) {
      const prev = stored.get(fp);
      // An instance of a rule never shares a fingerprint with an external alert (fingerprint.ts).
      const { next, transitions: ts } = receiveExternal(prev ?? null, a, now);
      if (!next) {
        counts.ignored += 1;
        continue;
      }
      counts[next.state === 'firing' ? 'firing' : 'resolved'] += 1;
      if (next === prev) continue;
      writes.push({ ...next, fingerprint: fp, labels: a.labels, threshold: null, reason: ts[0]?.reason ?? prev?.reason ?? null });
      for (const t of ts) transitions.push({ ...t, fingerprint: fp, labels: a.labels });
    }
    await saveInstances(tx, { ...project, ruleId: null, source: 'external' }, writes, [], transitions);
    return counts;
  });
}
