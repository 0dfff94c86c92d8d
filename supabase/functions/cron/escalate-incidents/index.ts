// The cron-escalate-incidents edge function, called by pg_cron through pg_net (see supabase/migrations/*_incident_pages.sql).
import { serveFunction } from '../../_shared/serve.ts';

serveFunction('cron-escalate-incidents');
