-- On-call contact points (issue 20, ADR 0011): a route that sends to a contact point of kind
-- `oncall` opens incidents on the service its settings name ({"serviceId": ...}, a service of the
-- contact point's project, checked by the API). Its notifications stay on the notification log; the
-- escalate-incidents job applies them (src/oncall/alert-intake.ts) in the transaction that marks
-- them sent, and the delivery engine never claims them.
--
-- Invariants:
-- 1. A notification of an on-call contact point changes incidents once: applying it and marking it
--    sent (with its attempt row) commit together.
-- 2. The incidents it opens are keyed by (contact point, alert group): `alerts/<contact point>/<group key>`,
--    so one alert group is one incident per service at a time (the partial unique index).

alter table public.contact_points drop constraint contact_points_kind_check;
alter table public.contact_points add constraint contact_points_kind_check
  check (kind in ('webhook', 'slack', 'pagerduty', 'alertmanager', 'email', 'oncall'));

-- The job's claim: pending notifications of on-call contact points, oldest first.
create index contact_points_oncall_idx on public.contact_points (id) where kind = 'oncall';
