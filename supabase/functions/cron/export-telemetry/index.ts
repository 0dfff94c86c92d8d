// The cron-export-telemetry edge function, called by pg_cron through pg_net (see supabase/migrations/*_exports.sql).
import { serveFunction } from '../../_shared/serve.ts';

serveFunction('cron-export-telemetry');
