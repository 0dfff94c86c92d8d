-- Pages (issue 20, ADR 0011): the escalate-incidents job (src/oncall/escalate-incidents.ts) steps
-- every incident that is due through its policy snapshot, records each page here, and hands what is
-- to be sent to the one notification log (alert_notifications), which the delivery engine sends
-- with its retries and attempt log. See docs/incidents.md.
--
-- Invariants:
-- 1. A page exists once per core page key (incident, cycle, round, level, recipient): the job inserts
--    a person's page (incident_pages) or a contact point's notification (`page:<page key>`) `on
--    conflict do nothing`, in the transaction that wrote the step under its version guard, so a
--    step is never paged twice and a step computed before an acknowledgement committed writes
--    nothing.
-- 2. A page of a contact point is one notification (group key `page:<page key>`), and once its
--    incident is resolved one resolved notice per (incident, contact point) (`page-resolved:<id>`),
--    unless the contact point does not send resolved notifications; a page of a person
--    becomes one notification per due notification rule (`page:<page key>/<rule>`), created only
--    while the incident is triggered in the page's cycle: an acknowledgement stops the later rules.
--    The notification log's unique key makes each of them once.
-- 3. A person's notification to their own address goes through a contact point of the service's
--    project (the service's `page_email_via`/`page_slack_via`), with the person's address in the
--    notification's `recipient` (merged over the contact point's settings when sent): tenants choose
--    the mail server and Slack workspace, people only their addresses.
-- 4. Notification rules are written only by the API, after validating them (the job trusts them);
--    each person reads their own. The rate state (private.oncall_rate_state) is the job's.

-- ============================================================================ notification log
alter table public.alert_notifications
  add column recipient jsonb check (recipient is null or (jsonb_typeof(recipient) = 'object' and octet_length(recipient::text) <= 2048)),
  add column incident_id uuid references public.incidents (id) on delete cascade;
comment on column public.alert_notifications.recipient is 'A page to a person: their address on this contact point ({"to": [...]} or {"mention": "<@U..>"}), merged over its settings when sent.';
comment on column public.alert_notifications.incident_id is 'The incident a page notification is for; null for alert group notifications.';
create index alert_notifications_incident_id_idx on public.alert_notifications (incident_id) where incident_id is not null;

-- ============================================================================ services
alter table public.oncall_services
  add column page_email_via uuid,
  add column page_slack_via uuid,
  add foreign key (page_email_via, project_id) references public.contact_points (id, project_id) on delete set null (page_email_via),
  add foreign key (page_slack_via, project_id) references public.contact_points (id, project_id) on delete set null (page_slack_via);
comment on column public.oncall_services.page_email_via is 'The email contact point (of the service''s project) that carries pages to people''s email addresses.';
comment on column public.oncall_services.page_slack_via is 'The Slack contact point (of the service''s project) that carries pages to people, mentioning them.';
create index oncall_services_page_email_via_idx on public.oncall_services (page_email_via);
create index oncall_services_page_slack_via_idx on public.oncall_services (page_slack_via);
grant select (page_email_via, page_slack_via) on public.oncall_services to authenticated;
grant update (page_email_via, page_slack_via) on public.oncall_services to authenticated;

-- ============================================================================ incidents
-- The incident paged a contact point and its resolution is still to be told to the contact points
-- paged (send_resolved; once per incident and contact point: `page-resolved:<incident>`).
alter table public.incidents add column resolve_notice boolean not null default false;
create index incidents_resolve_notice_idx on public.incidents (resolved_at) where resolve_notice;

-- ============================================================================ pages
-- A person's pages (a contact point's page is its notification on the log, `page:<page key>`).
create table public.incident_pages (
  id uuid primary key default gen_random_uuid(),
  incident_id uuid not null references public.incidents (id) on delete cascade,
  organization_id uuid not null,
  project_id uuid not null,
  -- src/oncall/escalation.ts pageKey: incident/cycle/round/level/recipient.
  page_key text not null unique check (char_length(page_key) <= 512),
  cycle integer not null,
  round integer not null,
  level integer not null,
  recipient_type text not null check (recipient_type in ('user', 'contact_point')),
  recipient_id text not null,
  -- The policy target that led to the recipient ({type, id}).
  target jsonb not null check (jsonb_typeof(target) = 'object'),
  urgency text not null check (urgency in ('high', 'low')),
  paged_at timestamptz not null,
  -- A person's page: when their next notification rule is due (null: none left); the rules done.
  next_rule_at timestamptz,
  rules_done text[] not null default '{}',
  -- organization_id and project_id are the incident's (copied for RLS); the incident's own foreign
  -- keys cascade, so pages need none of their own beside the incident's: one check a row, not three.
  created_at timestamptz not null default now()
);
alter table public.incident_pages enable row level security;
create index incident_pages_incident_idx on public.incident_pages (incident_id, paged_at);
create index incident_pages_rules_due_idx on public.incident_pages (next_rule_at) where next_rule_at is not null;
comment on table public.incident_pages is 'The people each escalation step paged, and how far their notification rules have gone: one row per page key, written with the step.';

-- The escalation job writes a timeline row for every level and page of a storm: the timeline's own
-- organization foreign key (and its index) only repeated what its incident's foreign keys already
-- cascade (incident -> project -> organization).
alter table public.incident_timeline drop constraint incident_timeline_organization_id_fkey;
drop index public.incident_timeline_organization_id_idx;

-- ============================================================================ notification rules
create table public.oncall_notification_rules (
  user_id uuid primary key references auth.users (id) on delete cascade,
  -- {methods, high, low}, validated by src/oncall/notification-rules.ts (NotificationRules) in the API.
  document jsonb not null check (jsonb_typeof(document) = 'object' and octet_length(document::text) <= 65536),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.oncall_notification_rules enable row level security;
comment on table public.oncall_notification_rules is 'Each person''s contact methods and notification rules (how and when a page reaches them).';

-- The per-person cap's state (notification-rules.ts RateState), for everyone paged, with rules or
-- not: the escalation job's alone, out of the Data API's schema.
create table private.oncall_rate_state (
  user_id uuid primary key references auth.users (id) on delete cascade,
  state jsonb not null check (jsonb_typeof(state) = 'object'),
  updated_at timestamptz not null default now()
);
alter table private.oncall_rate_state enable row level security;
revoke all on private.oncall_rate_state from public, anon, authenticated;
grant select, insert, update, delete on private.oncall_rate_state to service_role;
create policy "Service role manages rate state" on private.oncall_rate_state for all to service_role using (true) with check (true);

create trigger oncall_notification_rules_touch_updated_at before update on public.oncall_notification_rules
  for each row execute function private.touch_updated_at();

-- ============================================================================ grants
revoke all on public.incident_pages, public.oncall_notification_rules from anon, authenticated;
grant select on public.incident_pages to authenticated;
grant select (user_id, document, created_at, updated_at) on public.oncall_notification_rules to authenticated;
grant delete on public.oncall_notification_rules to authenticated;
grant select, insert, update, delete on public.incident_pages, public.oncall_notification_rules to service_role;

create policy "Members can read pages of projects they may see" on public.incident_pages
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages pages" on public.incident_pages
  for all to service_role using (true) with check (true);

create policy "People read their own notification rules" on public.oncall_notification_rules
  for select to authenticated using (user_id = (select auth.uid()));
create policy "People remove their own notification rules" on public.oncall_notification_rules
  for delete to authenticated using (user_id = (select auth.uid()));
create policy "Service role manages notification rules" on public.oncall_notification_rules
  for all to service_role using (true) with check (true);

-- ============================================================================ schedule
do $outer$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not enabled here; the Node scheduler runs escalate-incidents';
    return;
  end if;
  perform cron.schedule('observai-escalate-incidents', '* * * * *', $job$select private.invoke_job('escalate-incidents')$job$);
end
$outer$;
