-- Alerting (issue 18): rules, their instances and history, notification policies, contact points,
-- silences, and the dispatcher's groups and notification log. The evaluate-alerts job
-- (src/alerts/evaluate-alerts.ts) advances instances; the dispatch-notifications job
-- (src/alerts/dispatch-notifications.ts) routes them into groups and sends the notification log.
--
-- Invariants (the pure cores under src/alerts/ say the rest):
-- - An instance is one (project, fingerprint): a rule's instance fingerprints hash the rule id and
--   labels, an external (Alertmanager API) alert's fingerprint hashes its labels, as Alertmanager's does.
-- - Every state change of an instance is a row of alert_transitions, written in the transaction that
--   changes the instance.
-- - A notification is created once: unique (contact_point_id, md5(group_key), seq), inserted in the
--   transaction that advances its group's seq. Sending claims it with a lease (status 'sending',
--   lease_until); a crash between the receiver's answer and the record re-sends it after the lease
--   with the same id, which receivers take as the idempotency key (webhook-id, PagerDuty dedup_key).
-- - Secrets of contact points are AES-256-GCM ciphertext bound to the contact point id
--   (src/core/secret-box.ts); no API role can read the column.
-- - Users change rules, silences, policies and contact points through granted columns; instances,
--   transitions, groups and notifications are written by the service role only (the jobs).

-- ============================================================================ tables
create table public.alert_rules (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  -- The rule's name in rules-as-code files: PUT /rules applies a file by key.
  key text not null check (key ~ '^[a-zA-Z0-9][a-zA-Z0-9_.:-]{0,127}$'),
  -- The alertname label of its instances.
  name text not null check (char_length(name) between 1 and 200),
  kind text not null check (kind in ('metric', 'anomaly', 'log', 'trace', 'nodata')),
  -- Kind-specific query and condition, validated by src/alerts/schemas.ts.
  query jsonb not null check (jsonb_typeof(query) = 'object'),
  condition jsonb not null default '{}'::jsonb check (jsonb_typeof(condition) = 'object'),
  severity text not null default 'critical' check (severity in ('critical', 'warning', 'info')),
  labels jsonb not null default '{}'::jsonb check (jsonb_typeof(labels) = 'object'),
  annotations jsonb not null default '{}'::jsonb check (jsonb_typeof(annotations) = 'object'),
  for_seconds integer not null default 0 check (for_seconds between 0 and 86400),
  keep_firing_for_seconds integer not null default 0 check (keep_firing_for_seconds between 0 and 86400),
  interval_seconds integer not null default 60 check (interval_seconds between 60 and 86400),
  delay_seconds integer not null default 0 check (delay_seconds between 0 and 3600),
  max_instances integer not null default 1000 check (max_instances between 1 and 100000),
  enabled boolean not null default true,
  -- The evaluator's bookkeeping (service role only).
  next_eval_at timestamptz not null default now(),
  last_eval_at timestamptz,
  last_eval_ms integer,
  last_error text,
  -- Groups left without an instance at the last evaluation because max_instances was reached.
  instances_over_cap integer not null default 0,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, key),
  unique (id, project_id),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.alert_rules enable row level security;
create index alert_rules_organization_id_idx on public.alert_rules (organization_id);
create index alert_rules_due_idx on public.alert_rules (next_eval_at) where enabled;
comment on table public.alert_rules is 'Alert rules of a project: a query over metrics, anomalies, logs, traces or their absence, thresholds and timing.';

create table public.alert_instances (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  -- Null for alerts received through the Alertmanager API, and for a deleted rule's instances until they resolve.
  rule_id uuid references public.alert_rules (id) on delete set null,
  source text not null check (source in ('rule', 'external')),
  fingerprint text not null check (fingerprint ~ '^[0-9a-f]{16,64}$'),
  labels jsonb not null check (jsonb_typeof(labels) = 'object'),
  annotations jsonb not null default '{}'::jsonb check (jsonb_typeof(annotations) = 'object'),
  state text not null check (state in ('pending', 'firing', 'resolved')),
  severity text not null check (severity in ('critical', 'warning', 'info')),
  value double precision,
  threshold double precision,
  reason text,
  active_at timestamptz not null,
  fired_at timestamptz,
  resolved_at timestamptz,
  last_true_at timestamptz,
  last_eval_at timestamptz not null,
  -- External alerts: the lease (Alertmanager's endsAt); the alert resolves when it passes unrenewed.
  ends_at timestamptz,
  generator_url text,
  flapping boolean not null default false,
  -- Times of recent firing/resolved changes (flap damping), newest last.
  changes_at timestamptz[] not null default '{}',
  updated_at timestamptz not null default now(),
  unique (project_id, fingerprint),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.alert_instances enable row level security;
create index alert_instances_organization_id_idx on public.alert_instances (organization_id);
create index alert_instances_rule_id_idx on public.alert_instances (rule_id);
create index alert_instances_active_idx on public.alert_instances (project_id, state);
comment on table public.alert_instances is 'The current state of each alert (one rule and label set, or one external alert): pending, firing or recently resolved.';

create table public.alert_transitions (
  id bigint generated always as identity primary key,
  project_id uuid not null,
  organization_id uuid not null,
  rule_id uuid references public.alert_rules (id) on delete set null,
  fingerprint text not null,
  labels jsonb not null,
  from_state text not null check (from_state in ('inactive', 'pending', 'firing', 'resolved')),
  to_state text not null check (to_state in ('inactive', 'pending', 'firing', 'resolved')),
  severity text not null check (severity in ('critical', 'warning', 'info')),
  value double precision,
  threshold double precision,
  reason text not null default '',
  at timestamptz not null,
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.alert_transitions enable row level security;
create index alert_transitions_project_at_idx on public.alert_transitions (project_id, at desc, id desc);
-- The alert stream follows a project's transitions by id (src/alerts/stream-alerts.ts).
create index alert_transitions_project_id_idx on public.alert_transitions (project_id, id);
create index alert_transitions_organization_id_idx on public.alert_transitions (organization_id);
create index alert_transitions_rule_id_idx on public.alert_transitions (rule_id);
create index alert_transitions_fingerprint_idx on public.alert_transitions (project_id, fingerprint, at desc);
comment on table public.alert_transitions is 'Alert history: every state change of every instance, with the value, threshold and reason.';

create table public.notification_policies (
  project_id uuid primary key,
  organization_id uuid not null,
  -- {route, inhibit_rules, time_intervals} in Alertmanager's shape, validated by src/alerts/routing.ts.
  document jsonb not null check (jsonb_typeof(document) = 'object'),
  updated_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.notification_policies enable row level security;
create index notification_policies_organization_id_idx on public.notification_policies (organization_id);
comment on table public.notification_policies is 'A project''s notification routing tree, inhibition rules and time intervals (Alertmanager''s model).';

create table public.contact_points (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  -- Routes name a receiver; every contact point of that name gets the notification (one delivery each).
  name text not null check (char_length(name) between 1 and 100),
  kind text not null check (kind in ('webhook', 'slack', 'pagerduty', 'alertmanager', 'email')),
  settings jsonb not null default '{}'::jsonb check (jsonb_typeof(settings) = 'object'),
  -- 'v1.<key id>.<iv>.<ciphertext+tag>'; readable by the service role only.
  secret_ciphertext text check (secret_ciphertext ~ '^v1\.[0-9a-f]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$'),
  send_resolved boolean not null default true,
  -- Set when a receiver answered 410 Gone; cleared by an update.
  disabled_at timestamptz,
  disabled_reason text,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, project_id),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.contact_points enable row level security;
create index contact_points_organization_id_idx on public.contact_points (organization_id);
create index contact_points_project_name_idx on public.contact_points (project_id, name);
comment on table public.contact_points is 'Where notifications go (email, Slack, PagerDuty, webhooks, Alertmanager receivers); secrets sealed by the server.';

create table public.alert_silences (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  -- [{name, op, value}], validated by src/alerts/matchers.ts.
  matchers jsonb not null check (jsonb_typeof(matchers) = 'array' and jsonb_array_length(matchers) between 1 and 32),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  comment text not null check (char_length(comment) between 1 and 2000),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (ends_at > starts_at),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.alert_silences enable row level security;
create index alert_silences_organization_id_idx on public.alert_silences (organization_id);
create index alert_silences_project_ends_idx on public.alert_silences (project_id, ends_at);
comment on table public.alert_silences is 'Silences: label matchers and a time range during which matching alerts notify no one.';

create table public.alert_groups (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  -- Includes the route's id: the same labels routed twice (continue) are two groups.
  group_key text not null,
  route_id text not null,
  receiver text not null,
  group_labels jsonb not null,
  first_seen_at timestamptz not null,
  next_flush_at timestamptz not null,
  last_notified_at timestamptz,
  -- Fingerprints last notified as firing: they get a resolved notice when they resolve.
  notified_firing text[] not null default '{}',
  seq integer not null default 0,
  updated_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.alert_groups enable row level security;
-- Keys hold label values (up to 1 KiB each): indexed by their md5, since a btree row is at most 2.7 KB.
create unique index alert_groups_key_idx on public.alert_groups (project_id, md5(group_key));
create index alert_groups_organization_id_idx on public.alert_groups (organization_id);
create index alert_groups_due_idx on public.alert_groups (next_flush_at);
comment on table public.alert_groups is 'Notification groups (Alertmanager aggregation groups): their timers and what was last notified.';

create table public.alert_notifications (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  contact_point_id uuid not null,
  group_key text not null,
  seq integer not null,
  receiver text not null,
  -- The Notification sent (src/alerts/model.ts), fixed at creation so every retry sends the same content.
  payload jsonb not null,
  -- 'folded': held back during a storm (over the contact point's cap) and told in a summary instead.
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'dropped', 'folded')),
  firing_count integer not null default 0,
  resolved_count integer not null default 0,
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  lease_until timestamptz,
  last_status integer,
  last_error text,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (contact_point_id, project_id) references public.contact_points (id, project_id) on delete cascade,
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.alert_notifications enable row level security;
-- Created once: (contact point, group key, seq), the key by its md5 (see alert_groups_key_idx).
create unique index alert_notifications_once_idx on public.alert_notifications (contact_point_id, md5(group_key), seq);
create index alert_notifications_organization_id_idx on public.alert_notifications (organization_id);
create index alert_notifications_project_created_idx on public.alert_notifications (project_id, created_at desc, id);
-- A group that starts again continues its key's sequence (dispatch-store.ts lastSequences).
create index alert_notifications_group_key_idx on public.alert_notifications (project_id, md5(group_key), seq);
create index alert_notifications_due_idx on public.alert_notifications (next_attempt_at) where status in ('pending', 'sending');
comment on table public.alert_notifications is 'The notification log: each notification of a group to a contact point, created once and sent with retries.';

create table public.alert_notification_attempts (
  id bigint generated always as identity primary key,
  notification_id uuid not null references public.alert_notifications (id) on delete cascade,
  project_id uuid not null,
  organization_id uuid not null,
  attempt integer not null,
  started_at timestamptz not null,
  duration_ms integer not null,
  ok boolean not null,
  status_code integer,
  error text,
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.alert_notification_attempts enable row level security;
create index alert_notification_attempts_notification_idx on public.alert_notification_attempts (notification_id, attempt);
create index alert_notification_attempts_project_idx on public.alert_notification_attempts (project_id);
create index alert_notification_attempts_organization_id_idx on public.alert_notification_attempts (organization_id);
comment on table public.alert_notification_attempts is 'Every delivery attempt of a notification: when, how long, the answer.';

-- ============================================================================ triggers
create trigger alert_rules_touch_updated_at before update on public.alert_rules
  for each row execute function private.touch_updated_at();
create trigger alert_instances_touch_updated_at before update on public.alert_instances
  for each row execute function private.touch_updated_at();
create trigger notification_policies_touch_updated_at before update on public.notification_policies
  for each row execute function private.touch_updated_at();
create trigger contact_points_touch_updated_at before update on public.contact_points
  for each row execute function private.touch_updated_at();
create trigger alert_silences_touch_updated_at before update on public.alert_silences
  for each row execute function private.touch_updated_at();
create trigger alert_groups_touch_updated_at before update on public.alert_groups
  for each row execute function private.touch_updated_at();
create trigger alert_notifications_touch_updated_at before update on public.alert_notifications
  for each row execute function private.touch_updated_at();

-- A user may end a silence early (ends_at to now or earlier; a silence that has not begun also moves its
-- start back, so that it never begins) or edit its comment. Matchers are the silence's identity and are
-- not granted: changing them is a new silence, as in Alertmanager.
create function private.alert_silences_guard_user_changes() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if private.is_end_user() then
    if new.ends_at > greatest(old.ends_at, now()) then
      raise exception 'A silence can be ended early, not extended; create a new silence' using errcode = 'OA400';
    end if;
    if new.starts_at <> old.starts_at and new.starts_at > now() then
      raise exception 'A silence''s start can only move back to end it' using errcode = 'OA400';
    end if;
  end if;
  return new;
end
$$;
create trigger alert_silences_guard_user_changes before update on public.alert_silences
  for each row execute function private.alert_silences_guard_user_changes();

-- The last writer of a policy is whoever wrote it: users write only `document`, this stamps the rest.
create function private.notification_policies_stamp() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if private.is_end_user() then
    new.updated_by := (select auth.uid());
  end if;
  return new;
end
$$;
create trigger notification_policies_stamp before insert or update on public.notification_policies
  for each row execute function private.notification_policies_stamp();

-- Who changed what the pager does is worth a line in the audit log: rules, silences, policies, contact points.
create function private.alerting_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  r jsonb := to_jsonb(case when tg_op = 'DELETE' then old else new end);
  entity text := tg_argv[0];
  verb text := case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'changed' else 'deleted' end;
begin
  -- The sealed secret and the evaluator's bookkeeping are not audit material; nor are a contact point's
  -- settings, whose URLs may carry tokens (Teams, Discord, Google Chat) and the audit log keeps forever:
  -- which settings there are is recorded, not their values.
  r := r - 'secret_ciphertext' - 'next_eval_at' - 'last_eval_at' - 'last_eval_ms' - 'last_error' - 'instances_over_cap'
        - 'created_at' - 'updated_at';
  if r ? 'settings' then
    r := r - 'settings' || jsonb_build_object('settings_keys', coalesce((select jsonb_agg(k order by k) from jsonb_object_keys(r -> 'settings') k), '[]'::jsonb));
  end if;
  perform private.audit((r ->> 'organization_id')::uuid, entity || '.' || verb, entity,
    coalesce(r ->> 'id', r ->> 'project_id'), r);
  return null;
end
$$;
create trigger alert_rules_audit after insert or delete on public.alert_rules
  for each row execute function private.alerting_audit('alert_rule');
create trigger alert_rules_audit_update after update on public.alert_rules
  for each row when ((to_jsonb(old) - 'next_eval_at' - 'last_eval_at' - 'last_eval_ms' - 'last_error' - 'instances_over_cap' - 'updated_at')
                     is distinct from (to_jsonb(new) - 'next_eval_at' - 'last_eval_at' - 'last_eval_ms' - 'last_error' - 'instances_over_cap' - 'updated_at'))
  execute function private.alerting_audit('alert_rule');
create trigger alert_silences_audit after insert or update or delete on public.alert_silences
  for each row execute function private.alerting_audit('alert_silence');
create trigger notification_policies_audit after insert or update or delete on public.notification_policies
  for each row execute function private.alerting_audit('notification_policy');
create trigger contact_points_audit after insert or delete on public.contact_points
  for each row execute function private.alerting_audit('contact_point');
-- Every change, disabling included (by a user, or by the dispatcher after a 410 Gone): turning a pager
-- off is worth a line.
create trigger contact_points_audit_update after update on public.contact_points
  for each row when ((to_jsonb(old) - 'updated_at') is distinct from (to_jsonb(new) - 'updated_at'))
  execute function private.alerting_audit('contact_point');

revoke all on function private.alert_silences_guard_user_changes(), private.notification_policies_stamp(), private.alerting_audit() from public;

-- ============================================================================ grants
revoke all on public.alert_rules, public.alert_instances, public.alert_transitions, public.notification_policies,
  public.contact_points, public.alert_silences, public.alert_groups, public.alert_notifications,
  public.alert_notification_attempts from anon, authenticated;
grant select on public.alert_rules to authenticated;
-- next_eval_at: a new or changed rule is due at once, by the server's clock (the evaluator's).
grant insert (project_id, organization_id, key, name, kind, query, condition, severity, labels, annotations, for_seconds,
  keep_firing_for_seconds, interval_seconds, delay_seconds, max_instances, enabled, next_eval_at),
  update (name, kind, query, condition, severity, labels, annotations, for_seconds, keep_firing_for_seconds,
  interval_seconds, delay_seconds, max_instances, enabled, next_eval_at) on public.alert_rules to authenticated;
grant delete on public.alert_rules to authenticated;
grant select on public.alert_instances, public.alert_transitions, public.alert_groups, public.notification_policies,
  public.alert_notification_attempts to authenticated;
grant select (id, project_id, organization_id, contact_point_id, group_key, seq, receiver, payload, status, firing_count,
  resolved_count, attempts, next_attempt_at, last_status, last_error, sent_at, created_at, updated_at)
  on public.alert_notifications to authenticated;
grant insert (project_id, organization_id, document), update (document) on public.notification_policies to authenticated;
grant delete on public.notification_policies to authenticated;
grant select (id, project_id, organization_id, name, kind, settings, send_resolved, disabled_at, disabled_reason, created_by,
  created_at, updated_at) on public.contact_points to authenticated;
grant insert (id, project_id, organization_id, name, kind, settings, secret_ciphertext, send_resolved),
  update (name, settings, secret_ciphertext, send_resolved, disabled_at, disabled_reason) on public.contact_points to authenticated;
grant delete on public.contact_points to authenticated;
grant select on public.alert_silences to authenticated;
grant insert (project_id, organization_id, matchers, starts_at, ends_at, comment), update (starts_at, ends_at, comment)
  on public.alert_silences to authenticated;
grant select, insert, update, delete on public.alert_rules, public.alert_instances, public.alert_transitions,
  public.notification_policies, public.contact_points, public.alert_silences, public.alert_groups,
  public.alert_notifications, public.alert_notification_attempts to service_role;

-- ============================================================================ policies
create policy "Members can read alert rules of projects they may see" on public.alert_rules
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Members who may change a project can add its alert rules" on public.alert_rules
  for insert to authenticated with check (project_id in (select private.writable_project_ids()));
create policy "Members who may change a project can change its alert rules" on public.alert_rules
  for update to authenticated
  using (project_id in (select private.writable_project_ids()))
  with check (project_id in (select private.writable_project_ids()));
create policy "Members who may change a project can remove its alert rules" on public.alert_rules
  for delete to authenticated using (project_id in (select private.writable_project_ids()));
create policy "Service role manages alert rules" on public.alert_rules
  for all to service_role using (true) with check (true);

create policy "Members can read alert instances of projects they may see" on public.alert_instances
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages alert instances" on public.alert_instances
  for all to service_role using (true) with check (true);

create policy "Members can read alert history of projects they may see" on public.alert_transitions
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages alert history" on public.alert_transitions
  for all to service_role using (true) with check (true);

create policy "Members can read notification policies of projects they may see" on public.notification_policies
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can set notification policies" on public.notification_policies
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can change notification policies" on public.notification_policies
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can remove notification policies" on public.notification_policies
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages notification policies" on public.notification_policies
  for all to service_role using (true) with check (true);

create policy "Members can read contact points of projects they may see" on public.contact_points
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can add contact points" on public.contact_points
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can change contact points" on public.contact_points
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can remove contact points" on public.contact_points
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages contact points" on public.contact_points
  for all to service_role using (true) with check (true);

create policy "Members can read silences of projects they may see" on public.alert_silences
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Members who may change a project can silence its alerts" on public.alert_silences
  for insert to authenticated with check (project_id in (select private.writable_project_ids()));
create policy "Members who may change a project can end its silences" on public.alert_silences
  for update to authenticated
  using (project_id in (select private.writable_project_ids()))
  with check (project_id in (select private.writable_project_ids()));
create policy "Service role manages silences" on public.alert_silences
  for all to service_role using (true) with check (true);

create policy "Members can read alert groups of projects they may see" on public.alert_groups
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages alert groups" on public.alert_groups
  for all to service_role using (true) with check (true);

create policy "Members can read notifications of projects they may see" on public.alert_notifications
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages notifications" on public.alert_notifications
  for all to service_role using (true) with check (true);

create policy "Members can read delivery attempts of projects they may see" on public.alert_notification_attempts
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages delivery attempts" on public.alert_notification_attempts
  for all to service_role using (true) with check (true);

-- ============================================================================ realtime
-- On Supabase a dashboard subscribes to alert changes with supabase-js; Realtime applies RLS. In every
-- mode the alerts function also streams transitions over SSE (GET /alerts/stream).
do $$
begin
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    alter publication supabase_realtime add table public.alert_instances, public.alert_transitions, public.alert_notifications;
  end if;
end
$$;

-- ============================================================================ schedule
do $outer$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not enabled here; the Node scheduler runs evaluate-alerts and dispatch-notifications';
    return;
  end if;
  perform cron.schedule('observai-evaluate-alerts', '* * * * *', $job$select private.invoke_job('evaluate-alerts')$job$);
  -- Each run ticks every few seconds for most of the minute (src/alerts/dispatch-notifications.ts).
  perform cron.schedule('observai-dispatch-notifications', '* * * * *', $job$select private.invoke_job('dispatch-notifications')$job$);
end
$outer$;
