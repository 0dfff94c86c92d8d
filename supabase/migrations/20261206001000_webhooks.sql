-- Webhooks (issue 19): an outbox of events written by triggers in the same transaction as the change
-- that causes them, fanned out to the endpoints that subscribe, and delivered by the deliver-webhooks
-- job (src/webhooks/) per Standard Webhooks v1. See docs/webhooks.md.
--
-- Invariants:
-- 1. An event exists only if its cause committed (the triggers below run in the cause's transaction),
--    and every event reaches every endpoint enabled and subscribed at that moment exactly once as a
--    message (fan-out in the same transaction; (endpoint, event) is unique).
-- 2. A message's webhook-id is its event's id: the same on every attempt, replay and endpoint.
-- 3. Users read endpoints, events, messages and attempts of organizations they own or administer;
--    they never read a secret. The job writes messages and attempts; users only through the API.

create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  -- null: an organization endpoint (the organization's own events and every project's).
  project_id uuid,
  -- Stored as the API parsed it (a lowercase http or https scheme and //): the audit's origin relies on it.
  url text not null check (char_length(url) between 1 and 2048 and url ~ '^https?://[^/?#]'),
  description text not null default '' check (char_length(description) <= 500),
  -- Exact types, `prefix.*` wildcards or `*` (checked against the catalogue by the API).
  event_types text[] not null check (cardinality(event_types) between 1 and 50),
  -- Deliveries per second at most; null: no limit of the endpoint's own.
  rate_limit_per_second integer check (rate_limit_per_second between 1 and 1000),
  -- 'v1.<key id>.<iv>.<ciphertext+tag>' of the whsec_ secret, sealed bound to the row's id.
  secret_ciphertext text not null check (secret_ciphertext ~ '^v1\.[0-9a-f]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$'),
  -- After a rotation the old secret also signs until this time (both signatures are sent).
  previous_secret_ciphertext text check (previous_secret_ciphertext ~ '^v1\.[0-9a-f]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$'),
  previous_secret_expires_at timestamptz,
  disabled_at timestamptz,
  disabled_reason text,
  -- The first failed attempt since the last success; an endpoint failing for 5 days is disabled.
  failing_since timestamptz,
  -- The last recovery (`POST .../recover`): one a minute.
  last_recovered_at timestamptz,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, organization_id),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.webhook_endpoints enable row level security;
create index webhook_endpoints_organization_id_idx on public.webhook_endpoints (organization_id) where disabled_at is null;
create index webhook_endpoints_project_id_idx on public.webhook_endpoints (project_id);
comment on table public.webhook_endpoints is 'Where webhook events go: URL, event type filter, rate limit; the signing secret sealed by the server.';

create table public.webhook_events (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  project_id uuid references public.projects (id) on delete cascade,
  -- Set for a test-send: the event goes to that endpoint only.
  endpoint_id uuid references public.webhook_endpoints (id) on delete cascade,
  type text not null check (type ~ '^[a-z_]+(\.[a-z_]+)+$'),
  -- What is sent: {type, timestamp, data}, at most 20,000 bytes (larger data by reference).
  payload jsonb not null,
  created_at timestamptz not null default now()
);
alter table public.webhook_events enable row level security;
create index webhook_events_organization_id_created_idx on public.webhook_events (organization_id, created_at desc);
create index webhook_events_project_id_idx on public.webhook_events (project_id);
create index webhook_events_endpoint_id_idx on public.webhook_events (endpoint_id);
comment on table public.webhook_events is 'The webhook outbox: every event, written in the transaction of the change that caused it.';

create table public.webhook_messages (
  id uuid primary key default gen_random_uuid(),
  endpoint_id uuid not null,
  organization_id uuid not null,
  event_id uuid not null references public.webhook_events (id) on delete cascade,
  event_type text not null,
  status text not null default 'pending' check (status in ('pending', 'sending', 'delivered', 'failed')),
  attempts integer not null default 0,
  -- The attempt a replay restarted the retry schedule at (attempts - schedule_from is the schedule's index).
  schedule_from integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  lease_until timestamptz,
  last_status integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (endpoint_id, event_id),
  foreign key (endpoint_id, organization_id) references public.webhook_endpoints (id, organization_id) on delete cascade
);
alter table public.webhook_messages enable row level security;
-- The claim reads each endpoint's due messages, oldest first.
create index webhook_messages_endpoint_due_idx on public.webhook_messages (endpoint_id, next_attempt_at, created_at)
  where status in ('pending', 'sending');
-- The claim skips an endpoint a pass is still sending to.
create index webhook_messages_sending_idx on public.webhook_messages (endpoint_id) where status = 'sending';
create index webhook_messages_endpoint_created_idx on public.webhook_messages (endpoint_id, created_at desc, id);
create index webhook_messages_event_id_idx on public.webhook_messages (event_id);
create index webhook_messages_organization_id_idx on public.webhook_messages (organization_id);
comment on table public.webhook_messages is 'One event to one endpoint: its delivery state, retried by the deliver-webhooks job.';

create table public.webhook_attempts (
  id bigint generated always as identity primary key,
  message_id uuid not null references public.webhook_messages (id) on delete cascade,
  endpoint_id uuid not null,
  organization_id uuid not null,
  attempt integer not null,
  started_at timestamptz not null,
  duration_ms integer not null,
  ok boolean not null,
  status_code integer,
  error text,
  -- The receiver's answer, its first 1,024 characters.
  response_body text check (char_length(response_body) <= 1024),
  foreign key (endpoint_id, organization_id) references public.webhook_endpoints (id, organization_id) on delete cascade
);
alter table public.webhook_attempts enable row level security;
create index webhook_attempts_message_id_idx on public.webhook_attempts (message_id, attempt);
create index webhook_attempts_endpoint_id_idx on public.webhook_attempts (endpoint_id);
create index webhook_attempts_organization_id_idx on public.webhook_attempts (organization_id);
comment on table public.webhook_attempts is 'Every delivery attempt of a webhook message: status, latency, the truncated response.';

create trigger webhook_endpoints_touch_updated_at before update on public.webhook_endpoints
  for each row execute function private.touch_updated_at();
create trigger webhook_messages_touch_updated_at before update on public.webhook_messages
  for each row execute function private.touch_updated_at();

-- ============================================================================ events
-- Whether an endpoint's filter takes a type: exact, `prefix.*` or `*`.
create function private.webhook_type_matches(filters text[], type text) returns boolean
language sql immutable set search_path = ''
as $$
  select exists (select 1 from unnest(filters) f
                 where f = '*' or f = type or (right(f, 2) = '.*' and starts_with(type, left(f, -1))))
$$;

-- The payload sent: {type, timestamp, data}. Over 20,000 bytes, data becomes a reference: its id,
-- `truncated: true` and a link (an API path) to fetch the whole object.
create function private.webhook_payload(type text, data jsonb, link text) returns jsonb
language plpgsql stable set search_path = ''
as $$
declare
  p jsonb := jsonb_build_object('type', type, 'timestamp', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', data);
begin
  if octet_length(p::text) > 20000 then
    p := jsonb_set(p, '{data}', jsonb_build_object('id', data -> 'id', 'truncated', true, 'link', link));
  end if;
  return p;
end
$$;

-- Whether an enabled endpoint of the organization would receive an event of this project and type.
create function private.webhook_subscribed(org uuid, project uuid, type text) returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (select 1 from public.webhook_endpoints e
                 where e.organization_id = org and e.disabled_at is null
                   and (e.project_id is null or e.project_id = project)
                   and private.webhook_type_matches(e.event_types, type))
$$;

-- Writes an event when an endpoint subscribes to it (the outbox holds nothing nobody asked for).
create function private.emit_webhook_event(org uuid, project uuid, type text, data jsonb, link text) returns void
language sql security definer set search_path = ''
as $$
  insert into public.webhook_events (organization_id, project_id, type, payload)
  select org, project, type, private.webhook_payload(type, data, link)
  where private.webhook_subscribed(org, project, type)
$$;

-- Fan-out: each new event becomes one message per enabled, subscribed endpoint of its organization
-- (an organization endpoint takes every project's events; a project endpoint its project's; a
-- test-send only its endpoint). New messages are due at once.
create function private.webhook_events_fan_out() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.webhook_messages (endpoint_id, organization_id, event_id, event_type)
  select ep.id, ep.organization_id, ev.id, ev.type
  from new_events ev
  join public.webhook_endpoints ep on ep.organization_id = ev.organization_id
  where case when ev.endpoint_id is not null then ep.id = ev.endpoint_id
             else ep.disabled_at is null and (ep.project_id is null or ep.project_id = ev.project_id)
                  and private.webhook_type_matches(ep.event_types, ev.type) end
  on conflict (endpoint_id, event_id) do nothing;
  return null;
end
$$;
create trigger webhook_events_fan_out after insert on public.webhook_events
  referencing new table as new_events for each statement execute function private.webhook_events_fan_out();

-- alert.firing / alert.resolved: an instance's transition into firing, or from firing to resolved.
create function private.alert_transitions_webhooks() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.webhook_events (organization_id, project_id, type, payload)
  select t.organization_id, t.project_id, e.type,
    private.webhook_payload(e.type, jsonb_build_object(
      'id', t.id::text, 'ruleId', t.rule_id, 'fingerprint', t.fingerprint, 'labels', t.labels,
      'status', t.to_state, 'previousStatus', t.from_state, 'severity', t.severity, 'value', t.value,
      'threshold', t.threshold, 'reason', t.reason,
      'at', to_char(t.at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
      '/functions/v1/alerts/history?fingerprint=' || t.fingerprint)
  from new_transitions t
  cross join lateral (select case when t.to_state = 'firing' then 'alert.firing' else 'alert.resolved' end as type) e
  where ((t.to_state = 'firing' and t.from_state <> 'firing') or (t.to_state = 'resolved' and t.from_state = 'firing'))
    and private.webhook_subscribed(t.organization_id, t.project_id, e.type);
  return null;
end
$$;
create trigger alert_transitions_webhooks after insert on public.alert_transitions
  referencing new table as new_transitions for each statement execute function private.alert_transitions_webhooks();

-- anomaly.episode.opened / anomaly.episode.closed.
create function private.anomaly_episodes_webhooks() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  org uuid := (select p.organization_id from public.projects p where p.id = new.project_id);
  type text := case when tg_op = 'INSERT' then 'anomaly.episode.opened' else 'anomaly.episode.closed' end;
begin
  perform private.emit_webhook_event(org, new.project_id, type, jsonb_build_object(
    'id', new.id, 'projectId', new.project_id, 'seriesId', new.series_id, 'metric', new.metric, 'detector', new.detector,
    'status', new.status, 'startedAt', new.started_at, 'endedAt', new.ended_at, 'peakScore', new.peak_score,
    'peakAt', new.peak_at, 'explanation', new.explanation),
    '/functions/v1/anomalies/episodes/' || new.id);
  return null;
end
$$;
create trigger anomaly_episodes_webhooks_opened after insert on public.anomaly_episodes
  for each row execute function private.anomaly_episodes_webhooks();
create trigger anomaly_episodes_webhooks_closed after update on public.anomaly_episodes
  for each row when (old.status = 'open' and new.status = 'closed') execute function private.anomaly_episodes_webhooks();

-- export.completed / export.failed.
create function private.export_runs_webhooks() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  type text := case when new.status = 'succeeded' then 'export.completed' else 'export.failed' end;
begin
  perform private.emit_webhook_event(new.organization_id, new.project_id, type, jsonb_build_object(
    'id', new.id, 'projectId', new.project_id, 'destinationId', new.destination_id, 'scheduleId', new.schedule_id,
    'signal', new.signal, 'from', new.from_time, 'to', new.to_time, 'status', new.status, 'rows', new.row_count,
    'bytes', new.byte_count, 'files', cardinality(new.files), 'error', new.error),
    '/functions/v1/logs/exports/runs/' || new.id);
  return null;
end
$$;
-- A failed run the job will retry by itself (next_attempt_at set) has not failed for good yet.
create trigger export_runs_webhooks after update on public.export_runs
  for each row when (old.status is distinct from new.status
                     and (new.status = 'succeeded' or (new.status = 'failed' and new.next_attempt_at is null)))
  execute function private.export_runs_webhooks();

-- api_key.created / api_key.revoked (never the secret or its hash).
create function private.api_keys_webhooks() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  type text := case when tg_op = 'INSERT' then 'api_key.created' else 'api_key.revoked' end;
begin
  perform private.emit_webhook_event(new.organization_id, new.project_id, type, jsonb_build_object(
    'id', new.id, 'projectId', new.project_id, 'name', new.name, 'prefix', new.prefix, 'scopes', to_jsonb(new.scopes),
    'expiresAt', new.expires_at, 'revokedAt', new.revoked_at, 'createdBy', new.created_by),
    '/functions/v1/api-keys/' || new.id);
  return null;
end
$$;
create trigger api_keys_webhooks_created after insert on public.api_keys
  for each row execute function private.api_keys_webhooks();
create trigger api_keys_webhooks_revoked after update on public.api_keys
  for each row when (old.revoked_at is null and new.revoked_at is not null) execute function private.api_keys_webhooks();

-- member.added / member.removed (organization events: no project).
create function private.organization_members_webhooks() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  m public.organization_members := case when tg_op = 'DELETE' then old else new end;
begin
  perform private.emit_webhook_event(m.organization_id, null, case when tg_op = 'DELETE' then 'member.removed' else 'member.added' end,
    jsonb_build_object('id', m.user_id, 'organizationId', m.organization_id, 'userId', m.user_id, 'role', m.role),
    '/functions/v1/orgs/' || m.organization_id || '/members');
  return null;
end
$$;
create trigger organization_members_webhooks after insert or delete on public.organization_members
  for each row execute function private.organization_members_webhooks();

-- webhook.endpoint.disabled: the server disabled an endpoint (410 Gone, failing for 5 days), told to
-- the organization's other endpoints; a user's own disable is not an event.
create function private.webhook_endpoints_disabled() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if not private.is_end_user() then
    perform private.emit_webhook_event(new.organization_id, new.project_id, 'webhook.endpoint.disabled', jsonb_build_object(
      'id', new.id, 'projectId', new.project_id, 'url', regexp_replace(new.url, '^([a-z]+://[^/?#]*).*$', '\1', 'i'),
      'reason', new.disabled_reason, 'disabledAt', new.disabled_at),
      '/functions/v1/webhooks/endpoints/' || new.id);
  end if;
  return null;
end
$$;
create trigger webhook_endpoints_disabled after update on public.webhook_endpoints
  for each row when (old.disabled_at is null and new.disabled_at is not null) execute function private.webhook_endpoints_disabled();

-- Audit: every endpoint change, without secrets; the URL only as its origin (a path or query may
-- carry a token, and the audit log keeps it forever).
create function private.webhook_endpoints_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  r jsonb := to_jsonb(case when tg_op = 'DELETE' then old else new end);
  verb text := case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'changed' else 'deleted' end;
begin
  r := r - 'secret_ciphertext' - 'previous_secret_ciphertext' - 'created_at' - 'updated_at'
    || jsonb_build_object('url', regexp_replace(r ->> 'url', '^([a-z]+://[^/?#]*).*$', '\1', 'i'));
  if tg_op = 'UPDATE' and old.secret_ciphertext is distinct from new.secret_ciphertext then
    r := r || jsonb_build_object('secret_rotated', true);
  end if;
  perform private.audit((r ->> 'organization_id')::uuid, 'webhook_endpoint.' || verb, 'webhook_endpoint', r ->> 'id', r);
  return null;
end
$$;
create trigger webhook_endpoints_audit after insert or delete on public.webhook_endpoints
  for each row execute function private.webhook_endpoints_audit();
create trigger webhook_endpoints_audit_update after update on public.webhook_endpoints
  for each row when ((to_jsonb(old) - 'updated_at' - 'failing_since') is distinct from (to_jsonb(new) - 'updated_at' - 'failing_since'))
  execute function private.webhook_endpoints_audit();

revoke all on function private.webhook_type_matches(text[], text), private.webhook_payload(text, jsonb, text),
  private.webhook_subscribed(uuid, uuid, text),
  private.emit_webhook_event(uuid, uuid, text, jsonb, text), private.webhook_events_fan_out(), private.alert_transitions_webhooks(),
  private.anomaly_episodes_webhooks(), private.export_runs_webhooks(), private.api_keys_webhooks(),
  private.organization_members_webhooks(), private.webhook_endpoints_disabled(), private.webhook_endpoints_audit() from public;

-- ============================================================================ grants
revoke all on public.webhook_endpoints, public.webhook_events, public.webhook_messages, public.webhook_attempts from anon, authenticated;
grant select (id, organization_id, project_id, url, description, event_types, rate_limit_per_second, previous_secret_expires_at,
  disabled_at, disabled_reason, failing_since, created_by, created_at, updated_at) on public.webhook_endpoints to authenticated;
-- Endpoints are made and re-aimed only through the API (as the service role, after it authorized the
-- caller): it generates and seals the secret, checks the URL and the event types against the
-- catalogue, and holds the organization's limit, none of which a row policy can. Users never read a
-- secret back, and nobody can keep a rotated-out secret signing past its grace period through the
-- Data API. What users may change directly: the description, the rate limit and enabled/disabled.
grant update (description, rate_limit_per_second, disabled_at, disabled_reason) on public.webhook_endpoints to authenticated;
grant delete on public.webhook_endpoints to authenticated;
grant select on public.webhook_events, public.webhook_messages, public.webhook_attempts to authenticated;
grant select, insert, update, delete on public.webhook_endpoints, public.webhook_events, public.webhook_messages,
  public.webhook_attempts to service_role;

-- ============================================================================ policies
-- Owners and admins of the organization; an admin-scoped API key for its own project's endpoints.
create policy "Owners and admins can read webhook endpoints" on public.webhook_endpoints
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or project_id in (select private.key_project_ids('admin')));
create policy "Owners and admins can change webhook endpoints" on public.webhook_endpoints
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])) or project_id in (select private.key_project_ids('admin')))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])) or project_id in (select private.key_project_ids('admin')));
create policy "Owners and admins can remove webhook endpoints" on public.webhook_endpoints
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or project_id in (select private.key_project_ids('admin')));
create policy "Service role manages webhook endpoints" on public.webhook_endpoints
  for all to service_role using (true) with check (true);

create policy "Owners and admins can read webhook events" on public.webhook_events
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or project_id in (select private.key_project_ids('admin')));
create policy "Service role manages webhook events" on public.webhook_events
  for all to service_role using (true) with check (true);

create policy "Owners and admins can read webhook messages" on public.webhook_messages
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or endpoint_id in (select e.id from public.webhook_endpoints e where e.project_id in (select private.key_project_ids('admin'))));
create policy "Service role manages webhook messages" on public.webhook_messages
  for all to service_role using (true) with check (true);

create policy "Owners and admins can read webhook attempts" on public.webhook_attempts
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or endpoint_id in (select e.id from public.webhook_endpoints e where e.project_id in (select private.key_project_ids('admin'))));
create policy "Service role manages webhook attempts" on public.webhook_attempts
  for all to service_role using (true) with check (true);

-- ============================================================================ schedule
do $outer$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not enabled here; the Node scheduler runs deliver-webhooks';
    return;
  end if;
  perform cron.schedule('observai-deliver-webhooks', '* * * * *', $job$select private.invoke_job('deliver-webhooks')$job$);
end
$outer$;
