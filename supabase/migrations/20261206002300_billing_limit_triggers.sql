-- Billing limits the Data API cannot bypass (issue 24): the plan's alert-rule limit held by a trigger,
-- as the member limit is (migration 20261206002100), since users may insert alert_rules directly
-- through PostgREST (a column grant on insert, migration 20261206000800) and so past the API's check.
--
-- Invariants:
-- - An organization never gains an alert rule past its plan's alert_rules_limit, whichever way the
--   row comes (the alerts function, a user's direct insert, the service role). Counted across the
--   organization, serialised per organization by the same advisory lock the API takes
--   (src/billing/plan-limits.ts assertWithinPlan), so the API's check and this one cannot interleave.
-- - webhook_endpoints needs no trigger: users hold no INSERT grant on it (migration 20261206001000);
--   endpoints are made only by the webhooks function, which checks the plan's limit.
-- - A plan is billed through Stripe when it names Stripe prices: the base price (licensed, quantity 1)
--   and one metered price per signal (the meter-usage job's meter events). Moving an organization to
--   such a plan creates its Stripe customer (once) and subscription before the plan changes; moving
--   to a plan without prices cancels the subscription (src/billing/change-plan.ts).

-- ============================================================================ tables
alter table public.billing_plans
  add column stripe_base_price_id text check (stripe_base_price_id ~ '^price_[A-Za-z0-9]+$'),
  add column metrics_stripe_price_id text check (metrics_stripe_price_id ~ '^price_[A-Za-z0-9]+$'),
  add column logs_stripe_price_id text check (logs_stripe_price_id ~ '^price_[A-Za-z0-9]+$'),
  add column traces_stripe_price_id text check (traces_stripe_price_id ~ '^price_[A-Za-z0-9]+$');
comment on column public.billing_plans.stripe_base_price_id is 'The Stripe price of the monthly base (quantity 1); with the per-signal metered prices, the items of the plan''s subscription. No price at all: the plan is not billed through Stripe.';

-- ============================================================================ triggers
create function private.alert_rules_within_plan() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  lim integer;
  plan_name text;
  have integer;
begin
  select b.alert_rules_limit, b.name into lim, plan_name
  from public.organizations o join public.billing_plans b on b.id = o.plan where o.id = new.organization_id;
  if lim is null then
    return new;
  end if;
  -- The API's key (hashtext('observai.plan:' || kind || ':' || org)): one queue per organization.
  perform pg_advisory_xact_lock(hashtext('observai.plan:alertRules:' || new.organization_id::text));
  select count(*) into have from public.alert_rules where organization_id = new.organization_id;
  if have + 1 > lim then
    raise exception 'The organization already has % alert rules, and its % plan allows %; remove one or upgrade the plan first', have, plan_name, lim
      using errcode = 'OA400';
  end if;
  return new;
end
$$;
comment on function private.alert_rules_within_plan() is 'Refuses an alert rule past the organization''s plan limit, however it is inserted (the Data API included).';
create trigger alert_rules_within_plan before insert on public.alert_rules
  for each row execute function private.alert_rules_within_plan();

-- ============================================================================ grants
revoke all on function private.alert_rules_within_plan() from public, anon, authenticated;
