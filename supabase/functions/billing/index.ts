// The billing edge function: a thin entry over src/ (see supabase/functions/_shared/serve.ts).
import { serveFunction } from '../_shared/serve.ts';

serveFunction('billing');
