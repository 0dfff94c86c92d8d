/**
 * Offline scoring: `npm run -s detect -- [--detector NAME] < series.csv`
 *
 * Reads `timestamp,value` rows from stdin (optional header; ISO 8601, `YYYY-MM-DD HH:MM:SS` taken as
 * UTC, or epoch seconds/milliseconds; blank lines ignored) and prints one anomaly score in [0, 1]
 * per data row, in input order, computed causally by the same detector code and defaults a scanner
 * uses. Nothing else goes to stdout.
 *
 * A row whose value does not parse (empty, text, NaN, Infinity) still prints a score of 0 so the
 * output stays aligned with the input; the detector skips it. A data row whose timestamp does not
 * parse is an error: a message naming the line on stderr, exit 1. Bad usage exits 2.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DEFAULT_DETECTOR, DETECTOR_NAMES, createDetectorState, isDetectorName, stepDetector } from '../src/anomalies/detectors/index.ts';

const USAGE = `usage: npm run -s detect -- [--detector NAME] < series.csv\n  detectors: ${DETECTOR_NAMES.join(', ')} (default ${DEFAULT_DETECTOR})\n`;

const LOCAL_DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const ZONED_ISO = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const EPOCH = /^-?\d+(?:\.\d+)?$/;

/** Milliseconds since the epoch, or null. Zone-less date-times are UTC, never the machine's zone. */
function parseTimestamp(raw: string): number | null {
  const s = unquote(raw);
  const m = LOCAL_DATETIME.exec(s);
  if (m) {
    const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms);
    return Number.isFinite(t) ? t : null;
  }
  if (ZONED_ISO.test(s)) {
    const t = Date.parse(s.replace(' ', 'T'));
    return Number.isFinite(t) ? t : null;
  }
  if (EPOCH.test(s)) {
    const n = Number(s);
    // Ten-digit epochs are seconds (until 5138); anything larger is milliseconds.
    return Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  return null;
}

/** The value, or NaN for anything that is not a number (so the row still gets a score of 0). */
function parseValue(raw: string | undefined): number {
  if (raw === undefined) return Number.NaN;
  const s = unquote(raw);
  return s === '' ? Number.NaN : Number(s);
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
}

function splitRow(line: string): string[] {
  if (line.includes(',')) return line.split(',');
  if (line.includes('\t')) return line.split('\t');
  return line.split(';');
}

/**
 * Six decimals, rounded down: a printed score reaches 0.500000 exactly when the detector calls the
 * row anomalous (score >= ANOMALY_THRESHOLD), so thresholding the output agrees with the scanner.
 */
function formatScore(score: number): string {
  return (Math.floor(score * 1e6) / 1e6).toFixed(6);
}

function fail(message: string, code: number): never {
  process.stderr.write(`detect: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let detector: string;
  try {
    const { values } = parseArgs({
      options: { detector: { type: 'string', short: 'd' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stderr.write(USAGE);
      process.exit(0);
    }
    detector = values.detector ?? DEFAULT_DETECTOR;
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (!isDetectorName(detector)) fail(`unknown detector '${detector}'; valid detectors: ${DETECTOR_NAMES.join(', ')}`, 2);

  const state = createDetectorState({ detector });
  const out: string[] = [];
  const flush = () => {
    if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
    out.length = 0;
  };
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // A closed pipe (`| head`) is the reader's choice, not our failure.
    process.exit(err.code === 'EPIPE' ? 0 : 1);
  });

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineNo = 0;
  let seenData = false;
  for await (const rawLine of lines) {
    lineNo++;
    const line = lineNo === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
    if (line.trim() === '') continue;
    const fields = splitRow(line);
    const timestamp = parseTimestamp(fields[0] ?? '');
    if (timestamp === null) {
      // Only the first non-blank line may be a header.
      if (!seenData) {
        seenData = true;
        continue;
      }
      flush();
      fail(`line ${lineNo}: cannot parse timestamp '${(fields[0] ?? '').trim()}'`, 1);
    }
    seenData = true;
    const { score } = stepDetector(state, { timestamp, value: parseValue(fields[1]) });
    out.push(formatScore(score));
    if (out.length >= 8192) flush();
  }
  flush();
}

await main();
