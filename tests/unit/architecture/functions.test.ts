/**
 * The deploy artifacts follow the function table (src/app/functions.ts), which follows the job
 * registry (src/app/jobs.ts): every function has its source entry point and its config.toml block,
 * and nothing else has either. A job added to the registry without its cron entry and config block
 * (or a block left behind by a removed function) fails here, before a deploy would.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../../src/app/functions.ts';
import { EDGE_JOBS, JOBS } from '../../../src/app/jobs.ts';
import { sourceEntry as entryOf } from '../../../scripts/build-functions.ts';

const ROOT = join(import.meta.dirname, '../../..');

describe('functions, entry points and config.toml', () => {
  it('every job that runs at the edge has its cron function, and every cron function is such a job', () => {
    expect(FUNCTIONS.filter((f) => f.name.startsWith('cron-')).map((f) => f.name)).toEqual(EDGE_JOBS.map((j) => `cron-${j.name}`));
    for (const job of EDGE_JOBS) expect(JOBS[job.name]).toBe(job);
  });

  it.each(FUNCTIONS.map((f) => [f.name]))('%s has its entry point, serving itself', (name) => {
    const path = join(ROOT, entryOf(name));
    expect(existsSync(path), entryOf(name)).toBe(true);
    expect(readFileSync(path, 'utf8')).toMatch(new RegExp(`serveFunction\\('${name}'\\)`));
  });

  it('no entry point is left without a function', () => {
    const dirs = (dir: string) => readdirSync(join(ROOT, dir), { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('_')).map((d) => d.name);
    const entries = [...dirs('supabase/functions').filter((d) => d !== 'cron'), ...dirs('supabase/functions/cron').map((d) => `cron-${d}`)];
    expect(entries.sort()).toEqual(FUNCTIONS.map((f) => f.name).sort());
  });

  it('config.toml has one block per function, deploying its bundle without the platform JWT check, and no other', () => {
    const toml = readFileSync(join(ROOT, 'supabase/config.toml'), 'utf8');
    const blocks = [...toml.matchAll(/^\[functions\.([a-z0-9-]+)\]\n((?:[^[\n].*\n?)*)/gm)].map((m) => ({ name: m[1]!, body: m[2]! }));
    expect(blocks.map((b) => b.name).sort()).toEqual(FUNCTIONS.map((f) => f.name).sort());
    for (const b of blocks) {
      expect(b.body, b.name).toMatch(/^verify_jwt = false$/m);
      expect(b.body, b.name).toMatch(new RegExp(`^entrypoint = "\\./functions/_bundles/${b.name}/index\\.js"$`, 'm'));
    }
  });
});
