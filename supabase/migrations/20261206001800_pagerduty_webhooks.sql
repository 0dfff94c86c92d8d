-- PagerDuty webhooks v3 inbound (issue 20 item 5): a webhook subscription of an organization's
-- PagerDuty account points at `/functions/v1/oncall/pagerduty/webhooks/<id>`; its signing secret
-- (sealed) verifies X-PagerDuty-Signature, so an acknowledge or resolve in PagerDuty of an incident we
-- paged it about (its incident_key is ours: `incident:<id>`) flows back (src/oncall/pagerduty-webhooks.ts).
--
-- Invariants:
-- 1. The secret is sealed, bound to the row's id; only the service role reads the column; audit rows
--    never carry it (private.oncall_audit drops signing_secret_ciphertext).
-- 2. Written only by the API, for the organization's owners and admins.
-- 3. An event changes only an incident of the subscription's own organization.

create table public.oncall_pagerduty_webhooks (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  signing_secret_ciphertext text not null check (signing_secret_ciphertext ~ '^v1\.[0-9a-f]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$'),
  description text check (char_length(description) <= 200),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now()
);
alter table public.oncall_pagerduty_webhooks enable row level security;
create index oncall_pagerduty_webhooks_organization_id_idx on public.oncall_pagerduty_webhooks (organization_id);
comment on table public.oncall_pagerduty_webhooks is 'PagerDuty webhook v3 subscriptions that report acknowledgements and resolutions back; secrets sealed.';

create trigger oncall_pagerduty_webhooks_audit after insert or delete on public.oncall_pagerduty_webhooks
  for each row execute function private.oncall_audit('oncall_pagerduty_webhook');

revoke all on public.oncall_pagerduty_webhooks from anon, authenticated;
grant select (id, organization_id, description, created_by, created_at) on public.oncall_pagerduty_webhooks to authenticated;
grant select, insert, update, delete on public.oncall_pagerduty_webhooks to service_role;

create policy "Owners and admins read their organization's PagerDuty webhooks" on public.oncall_pagerduty_webhooks
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages PagerDuty webhooks" on public.oncall_pagerduty_webhooks
  for all to service_role using (true) with check (true);
