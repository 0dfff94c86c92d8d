import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    // expect.poll: the browser tests wait on pages of a loaded 2-core machine.
    expect: { poll: { timeout: 15_000, interval: 50 } },
    hookTimeout: 120_000,
    // Each file makes its own database (a PGlite instance or a fresh Postgres database).
    fileParallelism: true,
    // At least two files at a time: most files wait on a spawned gateway, Postgres or Chromium, and
    // vitest's default (cores - 1) runs one file at a time on a 2-core machine.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // No test reads a developer's .env (scripts/gateway.ts loads it; its children inherit this).
    env: { OBSERVAI_ENV_FILE: '' },
  },
});
