import type { Queryable } from './types.ts';

/**
 * The installation's own secret: 32 random bytes made once by migration
 * 20261206000200_log_ids.sql in private.server_secrets, which only the database owner (the role the
 * server connects as) can read. Cursor signatures and public log ids are keyed by it (through
 * deriveKey), so every gateway process and every edge isolate agrees without configuration, and a
 * database restored from a backup keeps its log ids. Read once per Db and kept; a failed read is
 * retried by the next caller.
 */
const secrets = new WeakMap<Queryable, Promise<Uint8Array>>();

export function serverSecret(db: Queryable): Promise<Uint8Array> {
  let secret = secrets.get(db);
  if (!secret) {
    secret = db.query<{ hex: string }>(`select encode(secret, 'hex') as hex from private.server_secrets where name = 'instance'`).then(([row]) => {
      if (!row) throw new Error('private.server_secrets has no instance secret (migration 20261206000200_log_ids.sql not applied?)');
      return Uint8Array.from(row.hex.match(/../g)!.map((h) => parseInt(h, 16)));
    });
    secret.catch(() => secrets.delete(db));
    secrets.set(db, secret);
  }
  return secret;
}
