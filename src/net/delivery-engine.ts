/**
 * The delivery engine's shared half: what alert notifications (src/alerts/deliver-notifications.ts)
 * and webhook messages (src/webhooks/deliver-webhooks.ts) do alike once each has claimed its due
 * rows in its own tables. Invariants both rely on:
 * 1. Fairness (pickFair): a pass takes at most `perQueue` of one destination (a contact point, an
 *    endpoint) and first at most `perTenant` of one tenant, then gives what is left of its capacity
 *    to whoever has more due. One tenant's storm cannot take every claim.
 * 2. Isolation (runQueues): each destination's items are sent by one worker, in order and one at a
 *    time (or, where order does not matter, on up to `lanes` requests at once); different
 *    destinations concurrently. Every send is bounded by its sender's timeout, so a slow or failing
 *    destination holds up only its own queue.
 * 3. A queue's answers are recorded together as soon as that queue is done (its lease covers its
 *    whole length), never waiting for slower queues; a record that fails is logged and leaves that
 *    queue's items leased (sent again, under the same id, when the lease lapses), never the others'.
 * 4. A caller that passes `inflight` gets control back after `waitMs`: sends still running are left
 *    in the set for it to await before it ends, so one slow receiver never holds up the next pass.
 * 5. A job run's totals (`recorded`) count an outcome once its record has committed, whichever pass
 *    started the send: a slow send that finishes during a later pass of the run is counted, and
 *    what is still unrecorded when the run reports (a send left running past its end, a failed
 *    record whose items go out again when the lease lapses) is reported as such, never as delivered.
 */
import type { Logger } from '../core/logger.ts';
import type { DeliveryResult } from './delivery.ts';

/** What the engine needs of an attempt's outcome. */
export interface Attempted {
  result: DeliveryResult;
  /** The next attempt's time, or null when this was the last one. */
  next: number | null;
}

/** A destination that answered 410 Gone takes no more of this pass's items. */
export function stopsWhenGone<O extends Attempted>(o: O): boolean {
  return !o.result.ok && o.result.disable === true;
}

/** A pass's outcomes counted: delivered, to be retried, failed for good. */
export function tally(outcomes: readonly Attempted[]): { ok: number; retried: number; failed: number } {
  let ok = 0;
  let retried = 0;
  let failed = 0;
  for (const o of outcomes) {
    if (o.result.ok) ok++;
    else if (o.next !== null) retried++;
    else failed++;
  }
  return { ok, retried, failed };
}

/**
 * A job run's totals across its passes (invariant 5): items its passes claimed, sends started, and
 * outcomes recorded. Claimed but never started: still queued behind a slow send when the run
 * reported, or left for a later pass after a 410 Gone.
 */
export interface Recorded {
  claimed: number;
  started: number;
  ok: number;
  retried: number;
  failed: number;
}

export function createRecorded(): Recorded {
  return { claimed: 0, started: 0, ok: 0, retried: 0, failed: 0 };
}

/** Sends of the run whose outcome is not recorded (yet): still running, or their record failed. */
export function unrecorded(r: Recorded): number {
  return r.started - r.ok - r.retried - r.failed;
}

export interface FairLimits {
  perQueue: number;
  perTenant: number;
  total: number;
}

/** The candidates a pass takes, in candidate order, by the limits above. Pure. */
export function pickFair<T>(candidates: readonly T[], keys: (c: T) => { queue: string; tenant: string }, limits: FairLimits): T[] {
  const perQueue = new Map<string, number>();
  const perTenant = new Map<string, number>();
  const picked: T[] = [];
  const taken = new Set<number>();
  for (const fair of [true, false]) {
    for (const [i, c] of candidates.entries()) {
      if (picked.length >= limits.total) return picked;
      const { queue, tenant } = keys(c);
      const q = perQueue.get(queue) ?? 0;
      const t = perTenant.get(tenant) ?? 0;
      if (taken.has(i) || q >= limits.perQueue || (fair && t >= limits.perTenant)) continue;
      perQueue.set(queue, q + 1);
      perTenant.set(tenant, t + 1);
      taken.add(i);
      picked.push(c);
    }
  }
  return picked;
}

export interface QueueRun<T, O extends Attempted> {
  /** At most this many queues are worked at once. */
  concurrency: number;
  /** Requests of one queue in flight at once (1: in order, one at a time). */
  lanes?: number;
  /** One attempt of one item; never throws. */
  attempt(item: T): Promise<O>;
  /** After this outcome the rest of its queue is left for a later pass (a destination that is gone). */
  stopsQueue?(outcome: O): boolean;
  /** Records one queue's outcomes (one transaction). */
  record(outcomes: O[]): Promise<void>;
  /** Where to leave sends still running after waitMs (see invariant 4). */
  inflight?: Set<Promise<unknown>> | undefined;
  waitMs?: number | undefined;
  /** A job run's totals, added to as sends start and as their queue's record commits (invariant 5). */
  recorded?: Recorded | undefined;
  logger: Pick<Logger, 'error'>;
}

/**
 * Works the queues (one destination's items each) and returns the outcomes of the attempts made by
 * the time it returns: all of them without `inflight`, those finished within `waitMs` with it.
 */
export async function runQueues<T, O extends Attempted>(queues: T[][], run: QueueRun<T, O>): Promise<O[]> {
  const outcomes: O[] = [];
  if (run.recorded) for (const q of queues) run.recorded.claimed += q.length;
  const pending = [...queues];
  const worker = async () => {
    for (let q = pending.shift(); q; q = pending.shift()) {
      const answered: O[] = [];
      const items = [...q];
      let stopped = false;
      const lane = async () => {
        for (let item = items.shift(); item !== undefined && !stopped; item = items.shift()) {
          if (run.recorded) run.recorded.started += 1;
          const outcome = await run.attempt(item);
          outcomes.push(outcome);
          answered.push(outcome);
          if (run.stopsQueue?.(outcome)) stopped = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(run.lanes ?? 1, items.length) }, lane));
      // One queue's failed record (its items stay leased and are tried again when the lease lapses)
      // must not stop the other queues' work nor their records.
      const recorded = await run.record(answered).then(
        () => true,
        (err) => {
          run.logger.error({ err }, 'recording a queue of deliveries failed');
          return false;
        },
      );
      if (recorded && run.recorded) {
        const t = tally(answered);
        run.recorded.ok += t.ok;
        run.recorded.retried += t.retried;
        run.recorded.failed += t.failed;
      }
    }
  };
  const work = Promise.all(Array.from({ length: Math.min(run.concurrency, pending.length) }, worker));
  if (run.inflight) {
    const inflight = run.inflight;
    const tracked = work.catch((err) => run.logger.error({ err }, 'delivering failed')).finally(() => inflight.delete(tracked));
    inflight.add(tracked);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([tracked, new Promise((resolve) => (timer = setTimeout(resolve, run.waitMs ?? 0)))]);
    clearTimeout(timer);
  } else {
    await work;
  }
  return [...outcomes];
}

/** Queues by destination, in the order items came. */
export function byQueue<T>(items: readonly T[], queueOf: (item: T) => string): T[][] {
  const queues = new Map<string, T[]>();
  for (const item of items) {
    const key = queueOf(item);
    const q = queues.get(key);
    if (q) q.push(item);
    else queues.set(key, [item]);
  }
  return [...queues.values()];
}
