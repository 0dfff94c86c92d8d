// The cron-deliver-webhooks edge function, called by pg_cron through pg_net (see supabase/migrations/*_webhooks.sql).
import { serveFunction } from '../../_shared/serve.ts';

serveFunction('cron-deliver-webhooks');
