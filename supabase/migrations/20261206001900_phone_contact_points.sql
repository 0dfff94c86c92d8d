-- SMS and voice (issue 20 item 3): contact points of kinds `sms` and `voice` send through a
-- Twilio-compatible API (src/alerts/notifiers/phone.ts); a service names the ones that carry pages to
-- people's phone numbers (page_sms_via, page_voice_via), as it does for email and Slack
-- (migration 20261206001300): tenants choose and pay for the provider, people give only a number.

alter table public.contact_points drop constraint contact_points_kind_check;
alter table public.contact_points add constraint contact_points_kind_check
  check (kind in ('webhook', 'slack', 'pagerduty', 'alertmanager', 'email', 'oncall', 'sms', 'voice'));

alter table public.oncall_services
  add column page_sms_via uuid,
  add column page_voice_via uuid,
  add foreign key (page_sms_via, project_id) references public.contact_points (id, project_id) on delete set null (page_sms_via),
  add foreign key (page_voice_via, project_id) references public.contact_points (id, project_id) on delete set null (page_voice_via);
comment on column public.oncall_services.page_sms_via is 'The SMS contact point (of the service''s project) that texts pages to people''s numbers.';
comment on column public.oncall_services.page_voice_via is 'The voice contact point (of the service''s project) that calls people''s numbers for pages.';
create index oncall_services_page_sms_via_idx on public.oncall_services (page_sms_via);
create index oncall_services_page_voice_via_idx on public.oncall_services (page_voice_via);
grant select (page_sms_via, page_voice_via) on public.oncall_services to authenticated;
grant update (page_sms_via, page_voice_via) on public.oncall_services to authenticated;
