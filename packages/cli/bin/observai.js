#!/usr/bin/env node
// The `observai` command. Installed from npm it runs the built dist/main.js. In the ObservAI
// repository (src/ is next to it; a publish leaves src/ out) it runs the TypeScript source through
// tsx, the repository's dev dependency, so `npx observai` works without a build and is never stale.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const source = new URL('../src/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  // Registered after tsx, so it runs first: `#sdk` resolves to the SDK's source (package.json#imports).
  register('./source-condition.mjs', import.meta.url);
  await import(source.href);
} else {
  await import('../dist/main.js');
}
