-- API-key verification in one statement. verifyApiKey looked a key up in its own service-role
-- transaction (BEGIN, set role, select, COMMIT: three round trips on every request); this security
-- definer function is called outside any transaction, one round trip, and reads only the row of the
-- prefix given. bench:ingest with batches of 100 events: 12-15% less CPU an event in all, 13-21%
-- more events/s (two alternating runs each).
create function private.api_key_by_prefix(key_prefix text)
returns table (id uuid, organization_id uuid, project_id uuid, secret_hash text, scopes text[], expires_at timestamptz, revoked_at timestamptz)
language sql stable security definer set search_path = ''
as $$
  select k.id, k.organization_id, k.project_id, k.secret_hash, k.scopes, k.expires_at, k.revoked_at
  from public.api_keys k
  where k.prefix = key_prefix
$$;
comment on function private.api_key_by_prefix(text) is 'The API key with this prefix, for the server to verify a key (hash compare, revoked, expired) in one round trip. Not for anon or authenticated.';
revoke all on function private.api_key_by_prefix(text) from public, anon, authenticated;
grant execute on function private.api_key_by_prefix(text) to service_role;
