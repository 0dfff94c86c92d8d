-- Billing and usage (issue 24): plans as data, per-organization billing details and Stripe ids, the
-- metered usage the meter-usage job rolls up from ingest_usage, the quota warnings sent once per
-- threshold and period, and the Stripe webhook events applied once (docs/BILLING.md, ADR 0012).
--
-- Invariants:
-- - organizations.plan names a billing_plans row (it was a closed list of three names); a custom plan
--   (organization_id set) is only ever the plan of its own organization (trigger).
-- - A plan does not contradict itself: no negative number, nothing included above its limit, no
--   'block' policy without a limit (CHECK constraints; the API says the same in words first).
-- - usage_daily is a pure function of the ingest_usage rows below the meter's watermark: the job adds
--   each ingest transaction's row exactly once (transaction-id order below the oldest running
--   transaction, as the rollups do), in the transaction that moves the watermark.
-- - Users write none of these tables: plan changes, details and Stripe state go through the billing
--   function (owners only, audited by trigger); usage and warnings are the job's.

-- ============================================================================ tables
create table public.billing_plans (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text not null check (char_length(name) between 1 and 100),
  -- Set for a custom plan: the one organization that may be on it.
  organization_id uuid references public.organizations (id) on delete cascade,
  -- Per month, in cents.
  base_price_cents bigint not null default 0 check (base_price_cents >= 0),
  -- Per signal: monthly events allowed (null: no limit), included in the base price, the price of each
  -- million beyond the included amount (cents), and what happens past the limit.
  metrics_events_limit bigint check (metrics_events_limit >= 0),
  metrics_events_included bigint not null default 0 check (metrics_events_included >= 0),
  metrics_price_per_million_cents bigint not null default 0 check (metrics_price_per_million_cents >= 0),
  metrics_policy text not null default 'overage' check (metrics_policy in ('overage', 'block')),
  logs_events_limit bigint check (logs_events_limit >= 0),
  logs_events_included bigint not null default 0 check (logs_events_included >= 0),
  logs_price_per_million_cents bigint not null default 0 check (logs_price_per_million_cents >= 0),
  logs_policy text not null default 'overage' check (logs_policy in ('overage', 'block')),
  traces_events_limit bigint check (traces_events_limit >= 0),
  traces_events_included bigint not null default 0 check (traces_events_included >= 0),
  traces_price_per_million_cents bigint not null default 0 check (traces_price_per_million_cents >= 0),
  traces_policy text not null default 'overage' check (traces_policy in ('overage', 'block')),
  -- Organization-wide counts (null: no limit of the plan's own).
  active_series_limit integer check (active_series_limit >= 0),
  members_limit integer check (members_limit >= 1),
  alert_rules_limit integer check (alert_rules_limit >= 0),
  webhook_endpoints_limit integer check (webhook_endpoints_limit >= 0),
  api_requests_per_minute integer check (api_requests_per_minute >= 1),
  retention_days_limit integer not null check (retention_days_limit between 1 and 3650),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint billing_plans_metrics_included_within_limit check (metrics_events_limit is null or metrics_events_included <= metrics_events_limit),
  constraint billing_plans_logs_included_within_limit check (logs_events_limit is null or logs_events_included <= logs_events_limit),
  constraint billing_plans_traces_included_within_limit check (traces_events_limit is null or traces_events_included <= traces_events_limit),
  constraint billing_plans_metrics_block_needs_limit check (metrics_policy = 'overage' or metrics_events_limit is not null),
  constraint billing_plans_logs_block_needs_limit check (logs_policy = 'overage' or logs_events_limit is not null),
  constraint billing_plans_traces_block_needs_limit check (traces_policy = 'overage' or traces_events_limit is not null)
);
alter table public.billing_plans enable row level security;
create index billing_plans_organization_id_idx on public.billing_plans (organization_id);
comment on table public.billing_plans is 'Plans as data: limits, included amounts and prices per signal; shared (free, pro, enterprise) or custom to one organization.';

create table public.organization_billing (
  organization_id uuid primary key references public.organizations (id) on delete cascade,
  company_name text check (char_length(company_name) between 1 and 200),
  address text check (char_length(address) between 1 and 1000),
  tax_id text check (char_length(tax_id) between 1 and 64),
  stripe_customer_id text unique check (stripe_customer_id ~ '^cus_[A-Za-z0-9]+$'),
  stripe_subscription_id text unique check (stripe_subscription_id ~ '^sub_[A-Za-z0-9]+$'),
  -- Stripe's subscription status, as its webhooks last told it; 'none' until there is a subscription.
  subscription_status text not null default 'none'
    check (subscription_status in ('none', 'incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')),
  -- The last invoice Stripe reported paid or failed.
  last_invoice_id text,
  last_invoice_status text check (last_invoice_status in ('paid', 'payment_failed')),
  updated_at timestamptz not null default now()
);
alter table public.organization_billing enable row level security;
comment on table public.organization_billing is 'Billing details and Stripe state of an organization; owners only.';

alter table public.ingest_usage
  add column api_key_id uuid,
  add column metric_events integer not null default 0 check (metric_events >= 0),
  add column log_events integer not null default 0 check (log_events >= 0),
  add column span_events integer not null default 0 check (span_events >= 0);
-- The meter reads every ingest transaction in tx_id order (the rollups' index holds metric rows only).
create index ingest_usage_tx_id_all_idx on public.ingest_usage (tx_id);

create table public.usage_daily (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  -- No foreign key: a deleted project's usage stays on the organization's statements.
  project_id uuid not null,
  -- The API key that wrote; null for rows written before keys were recorded.
  api_key_id uuid,
  day date not null,
  signal text not null check (signal in ('metrics', 'logs', 'traces')),
  events bigint not null default 0 check (events >= 0),
  bytes bigint not null default 0 check (bytes >= 0),
  -- Ingest requests that carried this signal (a mixed request counts once per signal it carried).
  requests bigint not null default 0 check (requests >= 0),
  constraint usage_daily_key unique nulls not distinct (organization_id, day, project_id, api_key_id, signal)
);
alter table public.usage_daily enable row level security;
create index usage_daily_project_id_day_idx on public.usage_daily (project_id, day);
comment on table public.usage_daily is 'Metered usage per organization, project, API key, UTC day and signal: the meter-usage job''s exact roll-up of ingest_usage.';

create table public.usage_series_daily (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  project_id uuid not null,
  day date not null,
  -- Series that received a point this period, as of the job's last run that day.
  active_series integer not null check (active_series >= 0),
  primary key (organization_id, day, project_id)
);
alter table public.usage_series_daily enable row level security;
create index usage_series_daily_project_id_idx on public.usage_series_daily (project_id, day);
comment on table public.usage_series_daily is 'Active metric series per project per day (the month''s statement shows the peak).';

create table public.billing_quota_warnings (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  -- The first day of the billing period (a UTC calendar month).
  period date not null,
  signal text not null check (signal in ('metrics', 'logs', 'traces')),
  threshold smallint not null check (threshold in (80, 100)),
  used bigint not null check (used >= 0),
  events_limit bigint not null check (events_limit >= 0),
  created_at timestamptz not null default now(),
  -- Once per threshold per period: the meter inserts with on conflict do nothing.
  primary key (organization_id, period, signal, threshold)
);
alter table public.billing_quota_warnings enable row level security;
comment on table public.billing_quota_warnings is 'Quota warnings sent (80 % and 100 % of a signal''s monthly limit), one per threshold per period; each emits a billing.quota_warning webhook event.';

create table public.usage_reported (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  period date not null,
  signal text not null check (signal in ('metrics', 'logs', 'traces')),
  -- Events of the period already reported to Stripe as meter events (including a pending report).
  events bigint not null check (events >= 0),
  -- A report decided but not yet confirmed by Stripe: sent again, with the same identifier (Stripe
  -- deduplicates by it), until it is; so a report is neither lost nor counted twice.
  pending_identifier text,
  pending_value bigint check (pending_value > 0),
  updated_at timestamptz not null default now(),
  primary key (organization_id, period, signal)
);
alter table public.usage_reported enable row level security;
comment on table public.usage_reported is 'How much of each period''s usage has been reported to Stripe (the meter reports the difference, with an identifier Stripe deduplicates).';

-- Stripe webhook events already applied (by Stripe's event id): a replay is acknowledged, not applied twice.
create table private.stripe_events (
  id text primary key,
  type text not null,
  organization_id uuid,
  received_at timestamptz not null default now()
);
alter table private.stripe_events enable row level security;
comment on table private.stripe_events is 'Stripe webhook events applied, by event id: the idempotency record.';

-- ============================================================================ plans (seed)
-- free blocks at its limits; pro and enterprise keep accepting and bill the overage.
insert into public.billing_plans (id, name, base_price_cents,
  metrics_events_limit, metrics_events_included, metrics_price_per_million_cents, metrics_policy,
  logs_events_limit, logs_events_included, logs_price_per_million_cents, logs_policy,
  traces_events_limit, traces_events_included, traces_price_per_million_cents, traces_policy,
  active_series_limit, members_limit, alert_rules_limit, webhook_endpoints_limit, api_requests_per_minute, retention_days_limit)
values
  ('free', 'Free', 0,
   100000000, 100000000, 0, 'block',
   10000000, 10000000, 0, 'block',
   10000000, 10000000, 0, 'block',
   10000, 10, 100, 10, 6000, 90),
  ('pro', 'Pro', 4900,
   2000000000, 500000000, 20, 'overage',
   500000000, 50000000, 50, 'overage',
   500000000, 50000000, 50, 'overage',
   100000, 50, 1000, 50, 60000, 400),
  ('enterprise', 'Enterprise', 99900,
   null, 5000000000, 10, 'overage',
   null, 1000000000, 30, 'overage',
   null, 1000000000, 30, 'overage',
   null, null, null, 1000, null, 400);

alter table public.organizations drop constraint organizations_plan_check;
update public.organizations set plan = 'pro' where plan = 'team';
alter table public.organizations add constraint organizations_plan_fkey foreign key (plan) references public.billing_plans (id);
create index organizations_plan_idx on public.organizations (plan);

-- ============================================================================ triggers
-- The plan's member limit holds however a member joins (an accepted invitation, an insert by an owner).
create function private.organization_members_within_plan() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  lim integer;
  plan_name text;
  have integer;
begin
  select b.members_limit, b.name into lim, plan_name
  from public.organizations o join public.billing_plans b on b.id = o.plan where o.id = new.organization_id;
  if lim is null then
    return new;
  end if;
  -- Serialises joins to one organization, so two cannot both take the last place.
  perform pg_advisory_xact_lock(hashtext('observai.plan:members:' || new.organization_id::text));
  select count(*) into have from public.organization_members where organization_id = new.organization_id;
  if have + 1 > lim then
    raise exception 'The organization already has % members, and its % plan allows %; remove a member or upgrade the plan first', have, plan_name, lim
      using errcode = 'OA400';
  end if;
  return new;
end
$$;
create trigger organization_members_within_plan before insert on public.organization_members
  for each row execute function private.organization_members_within_plan();

create trigger billing_plans_touch_updated_at before update on public.billing_plans
  for each row execute function private.touch_updated_at();
create trigger organization_billing_touch_updated_at before update on public.organization_billing
  for each row execute function private.touch_updated_at();

-- A custom plan serves its own organization only.
create function private.organizations_plan_is_theirs() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if exists (select 1 from public.billing_plans b where b.id = new.plan and b.organization_id is not null and b.organization_id <> new.id) then
    raise exception 'Plan % is not available to this organization', new.plan using errcode = 'OA400';
  end if;
  return new;
end
$$;
create trigger organizations_plan_is_theirs before insert or update of plan on public.organizations
  for each row execute function private.organizations_plan_is_theirs();

-- Billing details and Stripe state are audited (never their values: which fields changed).
create function private.organization_billing_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  changed text[] := array(
    select key from jsonb_each(to_jsonb(new)) n
    where key not in ('updated_at', 'organization_id')
      -- A new row: the fields given (not null, not the default status); an update: the fields changed.
      and case when tg_op = 'INSERT' then n.value <> 'null'::jsonb and not (key = 'subscription_status' and n.value = '"none"'::jsonb)
               else n.value is distinct from (to_jsonb(old) -> key) end);
begin
  if cardinality(changed) > 0 then
    perform private.audit(new.organization_id, 'billing.details_changed', 'organization', new.organization_id::text,
      jsonb_build_object('fields', to_jsonb(changed)));
  end if;
  return null;
end
$$;
create trigger organization_billing_audit after insert or update on public.organization_billing
  for each row execute function private.organization_billing_audit();

-- A custom plan's creation and changes are audited in its organization.
create function private.billing_plans_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.organization_id is not null then
    perform private.audit(new.organization_id, case when tg_op = 'INSERT' then 'billing.plan_created' else 'billing.plan_updated' end,
      'plan', new.id, to_jsonb(new) - 'created_at' - 'updated_at');
  end if;
  return null;
end
$$;
create trigger billing_plans_audit after insert or update on public.billing_plans
  for each row execute function private.billing_plans_audit();

-- billing.quota_warning: each warning row is one event to the organization's endpoints.
create function private.billing_quota_warnings_webhooks() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform private.emit_webhook_event(new.organization_id, null, 'billing.quota_warning', jsonb_build_object(
    'id', new.organization_id::text || ':' || to_char(new.period, 'YYYY-MM') || ':' || new.signal || ':' || new.threshold,
    'organizationId', new.organization_id, 'period', to_char(new.period, 'YYYY-MM'), 'signal', new.signal,
    'threshold', new.threshold, 'used', new.used, 'limit', new.events_limit,
    'policy', (select case new.signal when 'metrics' then b.metrics_policy when 'logs' then b.logs_policy else b.traces_policy end
               from public.organizations o join public.billing_plans b on b.id = o.plan where o.id = new.organization_id)),
    '/functions/v1/billing/' || new.organization_id || '/usage');
  return null;
end
$$;
create trigger billing_quota_warnings_webhooks after insert on public.billing_quota_warnings
  for each row execute function private.billing_quota_warnings_webhooks();

-- ============================================================================ grants
-- Trigger functions only: nobody calls them.
revoke all on function private.organization_members_within_plan(), private.organizations_plan_is_theirs(), private.organization_billing_audit(),
  private.billing_plans_audit(), private.billing_quota_warnings_webhooks() from public, anon, authenticated;
revoke all on public.billing_plans, public.organization_billing, public.usage_daily, public.usage_series_daily,
  public.billing_quota_warnings, public.usage_reported from anon, authenticated;
grant select on public.billing_plans, public.usage_daily, public.usage_series_daily, public.billing_quota_warnings to authenticated;
-- Owners read billing details and Stripe ids; writes go through the billing function.
grant select on public.organization_billing to authenticated;
grant select, insert, update, delete on public.billing_plans, public.organization_billing, public.usage_daily, public.usage_series_daily,
  public.billing_quota_warnings, public.usage_reported to service_role;
grant select, insert, update, delete on private.stripe_events to service_role;
-- The plan changes only through the billing function, which checks that the organization fits it.
revoke update (plan) on public.organizations from authenticated;

-- ============================================================================ policies
create policy "Members can read shared plans and their organization's custom plan" on public.billing_plans
  for select to authenticated using (organization_id is null or organization_id in (select private.member_org_ids()));
create policy "Service role manages plans" on public.billing_plans
  for all to service_role using (true) with check (true);

create policy "Owners can read their organization's billing" on public.organization_billing
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner'])));
create policy "Service role manages organization billing" on public.organization_billing
  for all to service_role using (true) with check (true);

create policy "Owners and admins read their organization's usage, others their projects'" on public.usage_daily
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or project_id in (select private.readable_project_ids()));
create policy "Service role manages usage" on public.usage_daily
  for all to service_role using (true) with check (true);

create policy "Owners and admins read their organization's series usage, others their projects'" on public.usage_series_daily
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or project_id in (select private.readable_project_ids()));
create policy "Service role manages series usage" on public.usage_series_daily
  for all to service_role using (true) with check (true);

create policy "Owners and admins can read quota warnings" on public.billing_quota_warnings
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages quota warnings" on public.billing_quota_warnings
  for all to service_role using (true) with check (true);

create policy "Service role manages reported usage" on public.usage_reported
  for all to service_role using (true) with check (true);

create policy "Service role manages Stripe events" on private.stripe_events
  for all to service_role using (true) with check (true);

-- ============================================================================ schedule
do $outer$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not enabled here; the Node scheduler runs meter-usage';
    return;
  end if;
  perform cron.schedule('observai-meter-usage', '* * * * *', $job$select private.invoke_job('meter-usage')$job$);
end
$outer$;
