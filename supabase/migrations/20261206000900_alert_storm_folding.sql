-- A storm's folded notifications are no longer written one row each: the contact point's storm
-- summary carries their alerts and counts them (`folded`), and their groups record that they were
-- told. (A 10,000-group storm wrote 9,400 rows that were never sent before its first send.)
delete from public.alert_notifications where status = 'folded';
alter table public.alert_notifications drop constraint alert_notifications_status_check;
alter table public.alert_notifications add constraint alert_notifications_status_check
  check (status in ('pending', 'sending', 'sent', 'failed', 'dropped'));
