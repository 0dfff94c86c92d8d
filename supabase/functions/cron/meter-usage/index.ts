// The cron-meter-usage edge function, called by pg_cron through pg_net (see supabase/migrations/*_cron_schedule.sql).
import { serveFunction } from '../../_shared/serve.ts';

serveFunction('cron-meter-usage');
