-- A Stripe meter event carries the time of the usage it reports. A report that failed is sent again
-- with the same identifier and must be the same event: its timestamp is the one decided with it,
-- stored beside the pending identifier, not the time of the resend.
--
-- Invariant: a pending report has a time, and only a pending report has one.

alter table public.usage_reported add column pending_at timestamptz;
update public.usage_reported set pending_at = updated_at where pending_identifier is not null;
alter table public.usage_reported add constraint usage_reported_pending_at_check
  check ((pending_identifier is null) = (pending_at is null));
comment on column public.usage_reported.pending_at is 'When the pending report was decided: the meter event''s timestamp, the same on every resend.';
