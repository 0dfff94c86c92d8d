-- Quota warnings to alert channels (issue 24 item 3: "events for webhooks and alert channels"): an
-- owner names contact points of the organization's projects (Slack, email, PagerDuty, webhook, ...)
-- that get each warning as a notification on the alerting notification log, sent by the one
-- delivery engine with its retries (src/billing/meter-store.ts recordWarnings). Ids of contact points
-- removed later are skipped when a warning is made. Written by the billing function only (owners'
-- billing details); read with the rest of organization_billing.
alter table public.organization_billing
  add column warning_contact_point_ids uuid[] not null default '{}'
    check (cardinality(warning_contact_point_ids) <= 10);
comment on column public.organization_billing.warning_contact_point_ids is 'Contact points (of the organization''s projects) that get quota warnings as notifications; set by owners through the billing function.';

-- The audit names the fields given on a new row: an empty list of contact points is the default, not given.
create or replace function private.organization_billing_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  changed text[] := array(
    select key from jsonb_each(to_jsonb(new)) n
    where key not in ('updated_at', 'organization_id')
      -- A new row: the fields given (not null, not a default); an update: the fields changed.
      and case when tg_op = 'INSERT' then n.value <> 'null'::jsonb and not (key = 'subscription_status' and n.value = '"none"'::jsonb)
                                          and not (key = 'warning_contact_point_ids' and n.value = '[]'::jsonb)
               else n.value is distinct from (to_jsonb(old) -> key) end);
begin
  if cardinality(changed) > 0 then
    perform private.audit(new.organization_id, 'billing.details_changed', 'organization', new.organization_id::text,
      jsonb_build_object('fields', to_jsonb(changed)));
  end if;
  return null;
end
$$;
