-- A contact point's settings hold its URLs, and webhook, Alertmanager and chat URLs often carry a
-- token in their path or query (Teams, Discord, Google Chat). Readers of a project (members, viewers,
-- read keys) could select them through the Data API; now only the API reads them (as the service
-- role, after authorizing the caller): in full for the organization's owners and admins, with every
-- URL reduced to its origin for everyone else. Owners and admins still write them (update grant).
revoke select (settings) on public.contact_points from authenticated;
