-- Closing the open anomaly episodes of series that stop sending data (src/anomalies/detect-anomalies.ts,
-- invariant 7).
--
-- Every detect-anomalies run looks for states with an open episode whose last anomalous minute is
-- older than the quiet period. Few series have an open episode at any time, so a partial index on
-- exactly those keeps that lookup independent of the number of series (and never touches the
-- detector states themselves, which are large jsonb).

-- ============================================================================ indexes
create index anomaly_detector_states_open_episode_idx on public.anomaly_detector_states (last_anomalous_at)
  where open_episode_id is not null;
comment on index public.anomaly_detector_states_open_episode_idx is
  'Open episodes by last anomalous minute: the scanner closes those of series silent for the quiet period.';
