import type { Deps } from '../core/deps.ts';
import { asServiceRole } from '../db/scoped.ts';
import { externalFingerprint } from './fingerprint.ts';
import { loadExternalInstances, saveInstances, type InstanceWrite, type TransitionWrite } from './instance-store.ts';
import { receiveExternal, type ReceivedAlert } from './external-alerts.ts';

/** Alertmanager's resolve_timeout: an alert sent without endsAt fires for this long unless re-sent. */
export const RESOLVE_TIMEOUT_MS = 5 * 60_000;

/**
 * External alerts one project may hold (firing, and resolved ones still kept): every dispatcher tick
 * reads a project's alerts, so a sender cannot grow them without bound. New ones past it are refused
 * (counted in the answer); alerts already held are still renewed and resolved.
 */
export const MAX_EXTERNAL_ALERTS = 10_000;

/**
 * Stores alerts received through the Alertmanager API v2 for the API key's project, in one
 * transaction: each alert's instance (by the fingerprint of its labels) and its transitions. The
 * answer is sent after the commit, so a 200 means every valid alert was stored.
 */
export async function receiveAlerts(
  deps: Pick<Deps, 'db' | 'clock'>,
  project: { projectId: string; organizationId: string },
  alerts: ReceivedAlert[],
): Promise<{ firing: number; resolved: number; ignored: number; refused: number }> {
  const now = deps.clock.now().getTime();
  // The last of several sends of one alert in a batch wins, as it would in sequence.
  const byFp = new Map<string, ReceivedAlert>();
  for (const a of alerts) byFp.set(await externalFingerprint(a.labels), a);
  return asServiceRole(deps.db, async (tx) => {
    const stored = new Map((await loadExternalInstances(tx, project.projectId, [...byFp.keys()])).map((i) => [i.fingerprint, i]));
    const [held] = await tx.query<{ n: number }>(`select count(*)::int as n from public.alert_instances where project_id = $1 and source = 'external'`, [project.projectId]);
    let room = MAX_EXTERNAL_ALERTS - (held?.n ?? 0);
    const writes: InstanceWrite[] = [];
    const transitions: TransitionWrite[] = [];
    const counts = { firing: 0, resolved: 0, ignored: 0, refused: 0 };
    for (const [fp, a] of byFp) {
      const prev = stored.get(fp);
      if (!prev && a.endsAt > now) {
        if (room <= 0) {
          counts.refused += 1;
          continue;
        }
        room -= 1;
      }
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
