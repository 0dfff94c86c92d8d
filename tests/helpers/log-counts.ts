import type { Db } from '../../src/db/types.ts';

/**
 * Where public.log_counts disagrees with counting public.logs per project, minute, service and level
 * (its invariant, supabase/migrations/20261126001500_log_counts.sql): empty when they agree.
 */
export function logCountsDrift(db: Db) {
  return db.query(
    `select * from (
       select project_id, date_bin('1 minute', time, timestamptz 'epoch') as minute, service, level, count(*) as n from public.logs group by 1, 2, 3, 4
     ) raw full join public.log_counts c using (project_id, minute, service, level)
     where raw.n is distinct from c.n`,
  );
}
