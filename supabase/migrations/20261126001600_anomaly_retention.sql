-- Retention of anomaly history (cleanup-retention): closed episodes and incidents are deleted 90 days
-- after they ended, in batches; these partial indexes let each batch find them without a full scan.
create index anomaly_episodes_closed_ended_at_idx on public.anomaly_episodes (ended_at) where status = 'closed';
create index anomaly_incidents_closed_ended_at_idx on public.anomaly_incidents (ended_at) where status = 'closed';
