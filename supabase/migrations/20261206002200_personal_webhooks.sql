-- People's webhook contact methods (issue 20 item 3): a person's rule may name a webhook URL of
-- theirs; the service names the webhook contact point that carries it (page_webhook_via), as it does
-- for email, Slack, SMS and voice. The carrier posts the page to the person's URL signed with its own
-- secret (Standard Webhooks), so the receiver verifies it with the secret the service's admins hold;
-- the URL passes the SSRF guard at every send.

alter table public.oncall_services
  add column page_webhook_via uuid,
  add foreign key (page_webhook_via, project_id) references public.contact_points (id, project_id) on delete set null (page_webhook_via);
comment on column public.oncall_services.page_webhook_via is 'The webhook contact point (of the service''s project) that posts pages to people''s own webhook URLs, signed with its secret.';
create index oncall_services_page_webhook_via_idx on public.oncall_services (page_webhook_via);
grant select (page_webhook_via) on public.oncall_services to authenticated;
grant update (page_webhook_via) on public.oncall_services to authenticated;
