/**
 * `npm run build:functions`: one self-contained bundle per edge function of the function table, at
 * supabase/functions/_bundles/<name>/index.js, which is what supabase/config.toml deploys (ADR 0007).
 *
 * The entry points under supabase/functions/ import ../_shared and, through it, ../../../src: files
 * that `supabase functions deploy` may not upload (supabase/cli#3467). `deno bundle` inlines all of it,
 * npm packages included (so our patches/postgres+3.4.9.patch reaches the edge), and leaves only `node:`
 * builtins to the runtime. A bundle that would still reach outside its folder fails the build.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { FUNCTIONS } from '../src/app/functions.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');

/** Where the bundles go, relative to the repository (config.toml names them relative to supabase/). */
export const BUNDLES_DIR = 'supabase/functions/_bundles';

/** The source entry point of a function: cron-<job> lives at supabase/functions/cron/<job>/. */
export function sourceEntry(name: string): string {
  return name.startsWith('cron-') ? `supabase/functions/cron/${name.slice('cron-'.length)}/index.ts` : `supabase/functions/${name}/index.ts`;
}

/** The bundle of a function under `outDir` (default: the one config.toml deploys). */
export function bundleEntry(name: string, outDir = BUNDLES_DIR): string {
  return posix.join(outDir, name, 'index.js');
}

export interface BundleReferences {
  /** Specifiers the module loads: static import/export-from, import(), and the bundle's __require() of CommonJS code. */
  imports: string[];
  /**
   * Local files the Supabase CLI would upload with the bundle: its upload path finds them with a
   * regular expression over the whole text (supabase/cli pkg/function/deno.go, WalkImportPaths), so
   * an import-like line inside a string or comment counts too. Relative to the bundle's folder.
   */
  uploads: string[];
  /** file: URLs anywhere in the text (a path of the machine that built it). */
  fileUrls: string[];
}

// The CLI's pattern, as it is in supabase/cli pkg/function/deno.go (importPathPattern).
const CLI_IMPORT_PATTERN = /(?:import|export)\s+(?:{[^{}]+}|.*?)\s*(?:from)?\s*['"](.*?)['"]|import\(\s*['"](.*?)['"]\)/gi;
const STATIC_IMPORT = /^\s*(?:import|export)\s[^'"`;]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
const BUNDLED_REQUIRE = /\b__require\(\s*["']([^"']+)["']\s*\)/g;

export function bundleReferences(text: string): BundleReferences {
  const imports = new Set<string>();
  for (const re of [STATIC_IMPORT, DYNAMIC_IMPORT, BUNDLED_REQUIRE]) {
    for (const m of text.matchAll(re)) imports.add((m[1] ?? m[2])!);
  }
  const uploads = new Set<string>();
  for (const m of text.matchAll(CLI_IMPORT_PATTERN)) {
    const mod = (m[1] || m[2] || '').trim();
    // The CLI skips what has no extension (packages, URLs) and what is neither relative nor absolute.
    if (!posix.extname(mod) || !(mod.startsWith('./') || mod.startsWith('../') || mod.startsWith('/'))) continue;
    uploads.add(mod.startsWith('/') ? mod : posix.normalize(mod));
  }
  const fileUrls = [...new Set(text.match(/file:\/\/[^\s"'`)]*/g) ?? [])];
  return { imports: [...imports].sort(), uploads: [...uploads].sort(), fileUrls };
}

/** What makes a bundle not self-contained, in words; empty when it is. */
export function selfContainmentProblems(refs: BundleReferences): string[] {
  const problems: string[] = [];
  for (const spec of refs.imports) if (!spec.startsWith('node:')) problems.push(`imports ${spec} (only node: builtins may stay outside the bundle)`);
  for (const path of refs.uploads) if (path.startsWith('/') || path.startsWith('../')) problems.push(`the CLI would upload ${path}, outside the function's folder`);
  for (const url of refs.fileUrls) problems.push(`names ${url}`);
  return problems;
}

export interface BuiltBundle {
  name: string;
  source: string;
  /** Relative to the repository when outDir is, else absolute. */
  path: string;
  bytes: number;
}

/**
 * Bundles every function of the table into `outDir`, replacing what was there. One `deno bundle`
 * run for all of them: it resolves the entry points through deno.json and node_modules exactly as
 * `deno check` and the Deno e2e tests do.
 */
export async function buildFunctionBundles(opts: { outDir?: string } = {}): Promise<BuiltBundle[]> {
  const outDir = opts.outDir ?? BUNDLES_DIR;
  const names = FUNCTIONS.map((f) => f.name);
  const sources = names.map(sourceEntry);
  const missing = sources.filter((s) => !existsSync(join(ROOT, s)));
  if (missing.length) throw new Error(`functions of the table without an entry point: ${missing.join(', ')}`);
  const staging = mkdtempSync(join(tmpdir(), 'observai-bundle-'));
  const next = resolve(ROOT, `${outDir}.next-${process.pid}`);
  try {
    try {
      await promisify(execFile)(DENO, ['bundle', '--quiet', '--platform', 'deno', '--packages', 'bundle', '--outdir', staging, ...sources], {
        cwd: ROOT,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`deno bundle failed: ${e.stderr || e.message}`);
    }
    // deno bundle (esbuild) writes each output at its entry's path below the entries' common folder.
    const base = commonDir(sources.map((s) => dirname(s)));
    const built: BuiltBundle[] = [];
    for (const [i, name] of names.entries()) {
      const source = sources[i]!;
      const text = readFileSync(join(staging, relative(base, dirname(source)), 'index.js'), 'utf8');
      const problems = selfContainmentProblems(bundleReferences(text));
      if (problems.length) throw new Error(`the ${name} bundle is not self-contained:\n  ${problems.join('\n  ')}`);
      const header = `// Generated by \`npm run build:functions\` from ${source}; do not edit (docs/adr/0007-function-bundles.md).\n`;
      mkdirSync(join(next, name), { recursive: true });
      writeFileSync(join(next, name, 'index.js'), header + text);
      built.push({ name, source, path: bundleEntry(name, outDir), bytes: Buffer.byteLength(header + text) });
    }
    // Swap the whole folder, so a function removed from the table leaves no bundle behind to deploy.
    assertOnlyBundles(resolve(ROOT, outDir));
    rmSync(resolve(ROOT, outDir), { recursive: true, force: true });
    mkdirSync(dirname(resolve(ROOT, outDir)), { recursive: true });
    renameSync(next, resolve(ROOT, outDir));
    return built;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(next, { recursive: true, force: true });
  }
}

/** The folder about to be replaced must hold nothing but earlier bundles (a mistyped outDir must not delete files). */
function assertOnlyBundles(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const files = entry.isDirectory() ? readdirSync(join(dir, entry.name)) : [];
    if (!entry.isDirectory() || files.some((f) => f !== 'index.js')) {
      throw new Error(`refusing to replace ${dir}: ${entry.name} is not a bundle folder (only <name>/index.js belong there)`);
    }
  }
}

function commonDir(dirs: string[]): string {
  const split = dirs.map((d) => d.split('/'));
  const first = split[0]!;
  let n = 0;
  while (n < first.length && split.every((parts) => parts[n] === first[n])) n++;
  return first.slice(0, n).join('/');
}

async function main() {
  const started = performance.now();
  const built = await buildFunctionBundles();
  for (const b of built) console.log(`${b.path}  ${(b.bytes / 1024 / 1024).toFixed(2)} MB  (from ${b.source})`);
  console.log(`${built.length} bundles in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
