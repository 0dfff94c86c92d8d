/**
 * Follows the rows of a table as they become visible, by an id from a sequence (an identity column
 * is one): the live log tail and the alert stream are both one of these.
 *
 * A sequence hands ids out in order, but transactions commit them in any order: a row with a smaller
 * id can become visible after a larger one was already read. The follower therefore re-reads a settle
 * window behind its head: everything above `low` that it has not fetched yet. Invariants:
 *   - every id <= low was either fetched or is treated as never coming: `low` only moves to a head
 *     observed at least `settleMs` ago, longer than any writing transaction holds an id uncommitted
 *     (ingest's and the alert jobs' transactions are short; the settle window is a minute by default);
 *   - `fetched` holds exactly the fetched ids above `low`, so nothing is read twice;
 *   - a poll that reads the unseen rows in id order, however few of them, leaves no visible unseen id
 *     below the head it reaches, so a reader may take at most N rows a poll and leave the rest for the
 *     next (the alert stream) or skip them (`advance`'s skipTo: the log tail's rate bound).
 * Resuming after an id, or starting after the newest row, is `start`: low = head = that id; a row
 * still uncommitted below it then is not waited for.
 */
export interface IdFollower {
  /** The highest id read (or the start): what a client resumes after. */
  readonly head: bigint;
  /**
   * The predicate on `column` (an int8) that selects the ids not read yet: above `low` and not among
   * those fetched above it. Its two parameters are pushed on `params`.
   */
  unseen(column: string, params: unknown[]): string;
  /**
   * After a poll at `now` (ms) read `ids`: remembers them, and moves `low` to the head observed
   * `settleMs` ago. `skipTo`: rows up to this id were skipped on purpose and are gone for this
   * follower; it starts afresh from there.
   */
  advance(now: number, ids: Iterable<bigint>, skipTo?: bigint): void;
}

export function createIdFollower(start: bigint, settleMs: number): IdFollower {
  let low = start;
  let head = start;
  const fetched = new Set<bigint>();
  const checkpoints: Array<{ at: number; head: bigint }> = [];
  return {
    get head() {
      return head;
    },
    unseen(column, params) {
      params.push(low.toString(), [...fetched].map(String));
      return `${column} > $${params.length - 1}::int8 and ${column} <> all($${params.length}::text[]::int8[])`;
    },
    advance(now, ids, skipTo) {
      for (const id of ids) {
        fetched.add(id);
        if (id > head) head = id;
      }
      if (skipTo !== undefined && skipTo > head) {
        head = skipTo;
        low = head;
        fetched.clear();
        checkpoints.length = 0;
      }
      checkpoints.push({ at: now, head });
      while (checkpoints.length > 0 && checkpoints[0]!.at <= now - settleMs) {
        const settled = checkpoints.shift()!.head;
        if (settled > low) low = settled;
      }
      for (const id of fetched) if (id <= low) fetched.delete(id);
    },
  };
}
