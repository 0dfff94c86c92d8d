import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root (the folder with the lock file): Turbopack's root, as the SDK's sources live outside this folder. */
function repoRoot() {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package-lock.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const root = repoRoot();

/**
 * A static export: every page is a client component that reads through the functions under the
 * signed-in user's session, so there is nothing to render on a server. The Node gateway serves the
 * exported files (`out/`, or DASHBOARD_OUT_DIR) at `/`; on Supabase any static host serves them.
 * See docs/DASHBOARD.md.
 */
export default {
  output: 'export',
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  // The typed query client is imported from the SDK's sources (packages/sdk/src), outside this folder.
  turbopack: { root },
  outputFileTracingRoot: root,
  typescript: { tsconfigPath: 'tsconfig.json' },
};
