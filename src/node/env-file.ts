import { existsSync } from 'node:fs';

/**
 * Loads the `.env` file (or the file OBSERVAI_ENV_FILE names; empty: none) into process.env before
 * the entry point parses its configuration, as `.env.example` promises. Variables already set in the
 * real environment win over the file (process.loadEnvFile never overwrites them). A missing default
 * `.env` is normal; a missing file named by OBSERVAI_ENV_FILE is an error naming it. Only Node entry
 * points call this (the gateway, `npm run token`): src/ never reads the environment, and the tests
 * set OBSERVAI_ENV_FILE to empty (vitest.config.ts) so a developer's `.env` cannot change them.
 * Returns the file loaded, if any.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.OBSERVAI_ENV_FILE;
  if (named === '') return undefined;
  const file = named ?? '.env';
  if (!existsSync(file)) {
    if (named === undefined) return undefined;
    throw new Error(`OBSERVAI_ENV_FILE: ${file} does not exist`);
  }
  // process.loadEnvFile came in Node 20.12; package.json allows 20.11.
  if (typeof process.loadEnvFile !== 'function') throw new Error(`Reading ${file} needs Node.js 20.12 or later (this is ${process.version}); upgrade, or set the variables in the environment`);
  process.loadEnvFile(file);
  return file;
}
