-- Slack interactive requests (issue 20 item 5): an organization's Slack app, whose signing secret
-- verifies the requests Slack sends when someone presses Acknowledge or Resolve on a page
-- (src/oncall/slack-actions.ts). Its Request URL names this row's id, never the organization.
--
-- Invariants:
-- 1. The signing secret is sealed (AES-256-GCM under SECRET_ENCRYPTION_KEY, bound to the row's id);
--    nobody reads the column but the service role; the audit row never carries it.
-- 2. Written only by the API, for the organization's owners and admins; one app per organization.

create table public.oncall_slack_apps (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null unique references public.organizations (id) on delete cascade,
  signing_secret_ciphertext text not null check (signing_secret_ciphertext ~ '^v1\.[0-9a-f]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$'),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.oncall_slack_apps enable row level security;
comment on table public.oncall_slack_apps is 'An organization''s Slack app: the sealed signing secret that verifies its interactive requests.';

create trigger oncall_slack_apps_touch_updated_at before update on public.oncall_slack_apps
  for each row execute function private.touch_updated_at();

-- The audit rows of on-call objects never carry a secret (a routing key's hash, a signing secret).
create or replace function private.oncall_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  r jsonb := to_jsonb(case when tg_op = 'DELETE' then old else new end);
  entity text := tg_argv[0];
  verb text := case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'changed' else 'deleted' end;
begin
  r := r - 'integration_key_hash' - 'signing_secret_ciphertext' - 'token_hash' - 'created_at' - 'updated_at';
  perform private.audit((r ->> 'organization_id')::uuid, entity || '.' || verb, entity, r ->> 'id', r);
  return null;
end
$$;
revoke all on function private.oncall_audit() from public;

create trigger oncall_slack_apps_audit after insert or update or delete on public.oncall_slack_apps
  for each row execute function private.oncall_audit('oncall_slack_app');

revoke all on public.oncall_slack_apps from anon, authenticated;
grant select (id, organization_id, created_by, created_at, updated_at) on public.oncall_slack_apps to authenticated;
grant select, insert, update, delete on public.oncall_slack_apps to service_role;

create policy "Owners and admins read their organization's Slack app" on public.oncall_slack_apps
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages Slack apps" on public.oncall_slack_apps
  for all to service_role using (true) with check (true);
