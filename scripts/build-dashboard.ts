/**
 * `npm run build:dashboard [-- --force]`: builds the dashboard (dashboard/, `next build`, a static
 * export in dashboard/out) when it is missing or older than its sources. `npm install` runs it
 * (postinstall), so `npm start` serves the console at once.
 */
import { dashboardBuildState, ensureDashboardBuilt } from '../src/node/dashboard.ts';

const force = process.argv.includes('--force');
const before = dashboardBuildState();
const t0 = Date.now();
ensureDashboardBuilt({ force, log: (line) => console.log(line) })
  .then((r) => console.log(r === 'current' && !force ? `dashboard: current (${before}), nothing to build` : `dashboard: built in ${((Date.now() - t0) / 1000).toFixed(1)} s (dashboard/out)`))
  .catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
