-- On-call schedules (issue 20 item 4, ADR 0011): an organization's schedules, each a document the
-- schedule core evaluates (src/oncall/schedule.ts, validated by schedule-schemas.ts), and the
-- tokens of their iCalendar feeds. The oncall function (src/oncall/http/schedule-routes.ts) serves
-- them; the escalation job reads who is on call through src/oncall/schedule-store.ts (onCallUsers).
-- See docs/oncall.md.
--
-- Invariants:
-- 1. A schedule's document is written only by the API, as the service role, after Schedule
--    (schedule-schemas.ts) validated it and the caller's claims authorized the change: the
--    escalation job trusts it. Users may rename a schedule (owners and admins) and delete it; they
--    hold no grant on `document`, `time_zone` or `version`.
-- 2. `time_zone` is the document's zone (`document ->> 'zone'`, canonical), kept together by a check.
-- 3. Every document write bumps `version` and is made `where version = <the version it was computed
--    from>` (compare-and-set): two concurrent edits (an override each) both land, one after the
--    other retried over the other's result; neither is lost.
-- 4. A feed token is stored as its sha256 (hex) only, shown once when created; nobody reads the hash
--    back. A feed is a schedule's (schedule_id) or a person's across the organization's schedules
--    (user_id), exactly one of them. Tokens are created by the API (as the service role, after
--    checking the caller); users revoke them (revoked_at: the creator, or an owner or admin), and a
--    revoked token stays revoked. The feed answers only while its creator (and, for a person's feed,
--    that person) is still a member of the organization.

-- ============================================================================ tables
create table public.oncall_schedules (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 200),
  time_zone text not null check (char_length(time_zone) between 1 and 64),
  -- {zone, layers, overrides}: schedule-schemas.ts' Schedule as the API accepted it (without id and
  -- name, which are the row's), validated in the API (invariant 1).
  document jsonb not null check (jsonb_typeof(document) = 'object' and octet_length(document::text) <= 2097152),
  -- +1 on every document write: the compare-and-set column (invariant 3).
  version integer not null default 1,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, name),
  unique (id, organization_id),
  check (time_zone = document ->> 'zone')
);
alter table public.oncall_schedules enable row level security;
comment on table public.oncall_schedules is 'Who is on call when: an organization''s on-call schedules (layers of rotations, overrides), written by the API after validation.';

create table public.oncall_feed_tokens (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  -- A schedule's feed (every shift), or a person's feed (their shifts across the organization's schedules).
  schedule_id uuid,
  user_id uuid references auth.users (id) on delete cascade,
  -- sha256 (hex) of the 32-byte random token in the feed's URL, shown once when the feed is created.
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  last_used_at timestamptz,
  check ((schedule_id is null) <> (user_id is null)),
  foreign key (schedule_id, organization_id) references public.oncall_schedules (id, organization_id) on delete cascade
);
alter table public.oncall_feed_tokens enable row level security;
create index oncall_feed_tokens_organization_id_idx on public.oncall_feed_tokens (organization_id);
create index oncall_feed_tokens_schedule_id_idx on public.oncall_feed_tokens (schedule_id);
create index oncall_feed_tokens_user_id_idx on public.oncall_feed_tokens (user_id);
create index oncall_feed_tokens_created_by_idx on public.oncall_feed_tokens (created_by);
comment on table public.oncall_feed_tokens is 'iCalendar feed tokens of on-call schedules and of people (sha256 only; revocable).';

-- ============================================================================ triggers
create trigger oncall_schedules_touch_updated_at before update on public.oncall_schedules
  for each row execute function private.touch_updated_at();

-- A revoked feed stays revoked: revocation is the user's lever, and undoing it would bring back a
-- URL that may have been shared.
create function private.oncall_feed_tokens_stay_revoked() returns trigger
language plpgsql set search_path = ''
as $$
begin
  if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
    raise exception 'a revoked feed stays revoked' using errcode = 'OA403';
  end if;
  return new;
end
$$;
comment on function private.oncall_feed_tokens_stay_revoked() is 'Keeps a feed token''s revoked_at once set (invariant 4).';
create trigger oncall_feed_tokens_stay_revoked before update on public.oncall_feed_tokens
  for each row execute function private.oncall_feed_tokens_stay_revoked();

-- Audit: schedules as escalation policies (private.oncall_audit); feeds created and revoked (never
-- the token's hash, nor each use).
create trigger oncall_schedules_audit after insert or delete on public.oncall_schedules
  for each row execute function private.oncall_audit('oncall_schedule');
create trigger oncall_schedules_audit_update after update on public.oncall_schedules
  for each row when ((to_jsonb(old) - 'updated_at') is distinct from (to_jsonb(new) - 'updated_at'))
  execute function private.oncall_audit('oncall_schedule');

create function private.oncall_feed_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  r jsonb := to_jsonb(new) - 'token_hash' - 'last_used_at' - 'created_at';
begin
  perform private.audit(new.organization_id, 'oncall_feed.' || case when tg_op = 'INSERT' then 'created' else 'revoked' end, 'oncall_feed',
    new.id::text, r);
  return null;
end
$$;
comment on function private.oncall_feed_audit() is 'Audits a feed token''s creation and revocation, without its hash.';
create trigger oncall_feed_tokens_audit after insert on public.oncall_feed_tokens
  for each row execute function private.oncall_feed_audit();
create trigger oncall_feed_tokens_audit_revoke after update on public.oncall_feed_tokens
  for each row when (old.revoked_at is null and new.revoked_at is not null)
  execute function private.oncall_feed_audit();

revoke all on function private.oncall_feed_tokens_stay_revoked(), private.oncall_feed_audit() from public;

-- ============================================================================ grants
revoke all on public.oncall_schedules, public.oncall_feed_tokens from anon, authenticated;
grant select on public.oncall_schedules to authenticated;
-- The document is the API's (invariant 1): users may rename and remove.
grant update (name) on public.oncall_schedules to authenticated;
grant delete on public.oncall_schedules to authenticated;
-- Never the token's hash; revoking is the only change a user makes (invariant 4).
grant select (id, organization_id, schedule_id, user_id, created_by, created_at, revoked_at, last_used_at) on public.oncall_feed_tokens to authenticated;
grant update (revoked_at) on public.oncall_feed_tokens to authenticated;
grant select, insert, update, delete on public.oncall_schedules, public.oncall_feed_tokens to service_role;

-- ============================================================================ policies
create policy "Members can read on-call schedules of their organizations" on public.oncall_schedules
  for select to authenticated using (organization_id in (select private.member_org_ids()));
create policy "Owners and admins can change on-call schedules" on public.oncall_schedules
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can remove on-call schedules" on public.oncall_schedules
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages on-call schedules" on public.oncall_schedules
  for all to service_role using (true) with check (true);

create policy "Members can read their own feeds, owners and admins every feed of their organizations" on public.oncall_feed_tokens
  for select to authenticated
  using ((created_by = (select auth.uid()) and organization_id in (select private.member_org_ids()))
         or organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Creators, owners and admins can revoke feeds" on public.oncall_feed_tokens
  for update to authenticated
  using ((created_by = (select auth.uid()) and organization_id in (select private.member_org_ids()))
         or organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check ((created_by = (select auth.uid()) and organization_id in (select private.member_org_ids()))
         or organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages feeds" on public.oncall_feed_tokens
  for all to service_role using (true) with check (true);
