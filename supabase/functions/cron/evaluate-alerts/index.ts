// The cron-evaluate-alerts edge function, called by pg_cron through pg_net (see supabase/migrations/*_alerting.sql).
import { serveFunction } from '../../_shared/serve.ts';

serveFunction('cron-evaluate-alerts');
