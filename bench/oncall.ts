/**
 * `npm run bench:oncall`: the on-call cores at size, pure (no database).
 * 1. Year of shifts: finalShifts over a year of a 3-layer schedule (weekly New York, daily London
 *    restricted to weekdays 09:00-17:00, 12-hour Sydney restricted to weekends) with 50 overrides
 *    (2 to 48 hours, spread over the year, some on top of others). Median of RUNS (default 7) runs,
 *    each over another year, after one warm-up run.
 * 2. Who is on call: onCallAt once for each of 1,000 different schedules (zones, rotations, handoffs,
 *    members, starts and overrides vary); median of RUNS passes over all of them, each at another
 *    instant, after a warm-up pass.
 * 3. Escalation tick over 10,000 open incidents (INCIDENTS), on a fresh database next to
 *    DATABASE_URL's: every incident due at once at level 1 of a policy that pages a person (by their
 *    default rule) and a contact point; the escalate-incidents job's passes (claim, resolve targets,
 *    the cores, the version-guarded write of state, timeline, pages and notifications; the person's
 *    rules) until none is due. Nothing is sent (the bench measures the tick, not receivers). Median
 *    of RUNS ticks, each after resetting the incidents to due and removing what the last one wrote.
 *    ESCALATION=0 skips it (no database).
 * Prints `oncall: year of shifts <ms> ms, escalation tick <ms> ms (10000 incidents)`.
 * Targets (issue 20): year of shifts under 50 ms, escalation tick under 2 s.
 */
import { fakeClock } from '../src/core/clock.ts';
import { parseConfig } from '../src/core/config.ts';
import { escalateDue } from '../src/oncall/escalate-incidents.ts';
import { finalShifts, onCallAt } from '../src/oncall/schedule.ts';
import { Schedule, type ScheduleInput } from '../src/oncall/schedule-schemas.ts';
import { createNodeDeps } from '../src/node/deps.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import { createBenchDatabase, median } from './harness.ts';

const RUNS = Number(process.env.RUNS ?? 7);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const YEAR_START = Date.parse('2026-01-01T00:00:00Z');
const YEAR_END = Date.parse('2027-01-01T00:00:00Z');
const yearStart = (run: number) => Date.parse(`${2026 + run}-01-01T00:00:00Z`);

/** A fixed pseudo-random sequence (mulberry32), so every run measures the same schedules. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const people = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const iso = (t: number) => new Date(t).toISOString();

function overrides(rand: () => number, n: number, from: number, to: number): ScheduleInput['overrides'] {
  return Array.from({ length: n }, () => {
    const start = from + Math.floor((rand() * (to - from)) / HOUR) * HOUR;
    return { user: `sub${Math.floor(rand() * 10)}`, start: iso(start), end: iso(start + (2 + Math.floor(rand() * 47)) * HOUR) };
  });
}

/** The schedule for the year starting at `from` (its overrides in that year). */
function threeLayers(from: number, to: number): Schedule {
  const weekdays = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const;
  return Schedule.parse({
    id: 'bench',
    name: 'Bench primary',
    zone: 'America/New_York',
    layers: [
      { id: 'base', versions: [{ effectiveFrom: '2025-12-29T14:00:00Z', rotation: { type: 'weekly' }, handoff: '09:00', members: people('nyc', 6) }] },
      {
        id: 'emea-days',
        versions: [
          {
            effectiveFrom: '2025-12-29T09:00:00Z',
            zone: 'Europe/London',
            rotation: { type: 'daily' },
            handoff: '09:00',
            members: people('lon', 5),
            restrictions: weekdays.map((day) => ({ day, start: '09:00', end: '17:00' })),
          },
        ],
      },
      {
        id: 'apac-weekends',
        versions: [
          {
            effectiveFrom: '2025-12-26T22:00:00Z',
            zone: 'Australia/Sydney',
            rotation: { type: 'custom', turnLength: '12h' },
            handoff: '09:00',
            members: people('syd', 4),
            restrictions: (['saturday', 'sunday'] as const).map((day) => ({ day, start: '00:00', end: '24:00' })),
          },
        ],
      },
    ],
    overrides: overrides(random(1), 50, from, to - 48 * HOUR),
  });
}

const ZONES = ['Europe/London', 'America/New_York', 'America/Los_Angeles', 'Australia/Sydney', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Europe/Berlin', 'UTC'];
const ROTATIONS = [{ type: 'daily' }, { type: 'weekly' }, { type: 'custom', turnLength: '12h' }, { type: 'custom', turnLength: '3d' }] as const;

function manySchedules(n: number): Schedule[] {
  const rand = random(2);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const layers = Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, j) => ({
      id: `l${j}`,
      versions: [
        {
          effectiveFrom: iso(YEAR_START + Math.floor(rand() * 300 * 24) * HOUR),
          zone: pick(ZONES),
          rotation: pick(ROTATIONS),
          handoff: `${String(Math.floor(rand() * 24)).padStart(2, '0')}:${pick(['00', '30'])}`,
          members: people(`s${i}u`, 1 + Math.floor(rand() * 8)),
          restrictions: j > 0 ? [{ start: '09:00', end: '17:00' }] : [],
        },
      ],
    }));
    return Schedule.parse({ id: `s${i}`, name: `Schedule ${i}`, zone: pick(ZONES), layers, overrides: overrides(rand, Math.floor(rand() * 5), YEAR_END - 60 * 24 * HOUR, YEAR_END - 48 * HOUR) });
  });
}

/** Wall milliseconds of fn; its CPU milliseconds are pushed to `cpu` (wall time is noisy on a busy machine). */
function time(fn: () => void, cpu: number[]): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  return performance.now() - t0;
}

// Each run renders another year (2026, 2027, ...): zoned-time.ts caches the offsets it computed, so
// repeating the same instants would measure the cache, not the work.
const years = Array.from({ length: RUNS + 1 }, (_, run) => {
  const [from, to] = [yearStart(run), yearStart(run + 1)];
  return { from, to, schedule: threeLayers(from, to) };
});
const shiftCounts: number[] = [];
const yearCpu: number[] = [];
const yearMs = years.map(({ from, to, schedule }) => time(() => shiftCounts.push(finalShifts(schedule, from, to).length), yearCpu));
const year = median(yearMs.slice(1)); // the first run warms up the JIT
console.log(`year of shifts: ${shiftCounts.slice(1).join(', ')} final shifts a year (2027..${2026 + RUNS}), median ${year.toFixed(1)} ms over ${RUNS} runs (CPU ${median(yearCpu.slice(1)).toFixed(1)} ms; first, cold: ${yearMs[0]!.toFixed(1)} ms)`);

const schedules = manySchedules(1000);
// A different instant each pass (a week apart), for the same reason.
const instant = (pass: number) => Date.parse('2026-11-01T14:00:00Z') + pass * 7 * DAY + pass * 37 * 60_000;
let covered = 0;
const whoCpu: number[] = [];
const whoMs = Array.from({ length: RUNS + 1 }, (_, pass) => time(() => (covered = schedules.filter((s) => onCallAt(s, instant(pass)) !== null).length), whoCpu));
const who = median(whoMs.slice(1));
console.log(`who-is-on-call: ${covered} of ${schedules.length} schedules have someone at ${iso(instant(RUNS))}, median ${who.toFixed(1)} ms a pass over ${RUNS} passes (CPU ${median(whoCpu.slice(1)).toFixed(1)} ms)`);

const INCIDENTS = Number(process.env.INCIDENTS ?? 10_000);

/** Median milliseconds of RUNS escalation ticks over INCIDENTS due incidents (after one warm-up tick). */
async function escalationTick(): Promise<number> {
  const bench = await createBenchDatabase('observai_oncallbench');
  try {
    const { sql, demo } = bench;
    const T0 = Math.floor(Date.now() / 60_000) * 60_000;
    const clock = fakeClock(new Date(T0).toISOString());
    const config = parseConfig({ OBSERVAI_MODE: 'local', DATABASE_URL: bench.url.toString(), OBSERVAI_DATA_DIR: bench.dataDir, JWT_SECRET: demo.jwtSecret, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' });
    // No outbound guard: the tick writes the notifications, nothing sends them.
    const { outbound: _none, ...deps } = createNodeDeps(config, { logger: createNodeLogger(config), clock, db: bench.db });
    const [cp] = await sql<{ id: string }[]>`
      insert into public.contact_points (project_id, organization_id, name, kind, settings)
      values (${demo.projectId}, ${demo.organizationId}, 'bench-hook', 'webhook', '{"url": "https://hooks.example.com/bench"}') returning id`;
    const policy = {
      levels: [
        { delayMinutes: 0, targets: [{ type: 'user', id: demo.ownerUserId }, { type: 'contact_point', id: cp!.id }] },
        { delayMinutes: 5, targets: [{ type: 'contact_point', id: cp!.id }] },
      ],
      repeat: 1,
      ackTimeoutMinutes: 30,
    };
    const [svc] = await sql<{ id: string }[]>`
      insert into public.oncall_services (organization_id, project_id, name, integration_key_hash)
      values (${demo.organizationId}, ${demo.projectId}, 'bench', repeat('b', 64)) returning id`;
    const due = { cycle: 1, cycleStartedAt: T0, nextStep: 0, nextAt: T0, ackExpiresAt: null };
    await sql`
      insert into public.incidents (organization_id, project_id, service_id, group_key, title, urgency, policy, escalation, next_wake_at, created_at)
      select ${demo.organizationId}, ${demo.projectId}, ${svc!.id}, 'bench/' || g, 'Bench incident ' || g, 'high', ${sql.json(policy)}, ${sql.json(due)},
        to_timestamp(${T0} / 1000.0), to_timestamp(${T0} / 1000.0)
      from generate_series(1, ${INCIDENTS}) g`;
    await sql`vacuum analyze public.incidents`;
    const ticks: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      await sql`delete from public.alert_notifications where incident_id is not null`;
      await sql`delete from public.incident_pages`;
      await sql`delete from public.incident_timeline`;
      await sql`delete from private.oncall_rate_state`;
      await sql`update public.incidents set version = 1, escalation = ${sql.json(due)}, next_wake_at = to_timestamp(${T0} / 1000.0)`;
      await sql`vacuum analyze public.incidents, public.incident_pages, public.alert_notifications, public.incident_timeline`;
      const t0 = performance.now();
      let stepped = 0;
      let pages = 0;
      let notifications = 0;
      for (;;) {
        const pass = await escalateDue(deps);
        stepped += pass.stepped;
        pages += pass.pages;
        notifications += pass.notifications;
        // Until a pass finds nothing: the people's rules of the last incidents stepped included.
        if (pass.stepped + pass.stale + pass.notifications + pass.undeliverable + pass.folded === 0) break;
      }
      const ms = performance.now() - t0;
      if (stepped !== INCIDENTS) throw new Error(`the tick stepped ${stepped} of ${INCIDENTS} incidents`);
      if (run > 0) ticks.push(ms);
      console.log(`escalation tick ${run === 0 ? '(warm-up)' : run}: ${ms.toFixed(0)} ms, ${stepped} incidents stepped, ${pages} pages, ${notifications} notifications made`);
    }
    return median(ticks);
  } finally {
    await bench.cleanup();
  }
}

const tick = process.env.ESCALATION === '0' ? null : await escalationTick();
if (tick !== null) console.log(`escalation tick: median ${tick.toFixed(0)} ms over ${RUNS} ticks (${INCIDENTS} due incidents)`);
console.log(`oncall: year of shifts ${year.toFixed(1)} ms, who-is-on-call ${who.toFixed(1)} ms (1000 schedules)`);
console.log(`oncall: year of shifts ${year.toFixed(1)} ms, escalation tick ${tick === null ? 'skipped' : tick.toFixed(0)} ms (${INCIDENTS} incidents)`);
