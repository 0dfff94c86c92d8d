import { z } from 'zod';
import { canonicalZone } from '../core/zoned-time.ts';

/**
 * An on-call schedule as the API takes it (PagerDuty's model: layers of rotations, restrictions,
 * overrides on top), parsed into the numbers the pure core (schedule.ts) works with: instants as epoch
 * milliseconds, wall-clock times as minutes since local midnight, turn lengths as wall-clock
 * milliseconds, weekdays 0 = sunday. Every layer version carries its own zone after parsing (the
 * schedule's unless it names one).
 */

export const SCHEDULE_LIMITS = { layers: 20, versionsPerLayer: 100, members: 100, windows: 50, overrides: 1000 } as const;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

const Zone = z
  .string()
  .max(64)
  .transform((zone, ctx) => {
    const canonical = canonicalZone(zone);
    if (canonical) return canonical;
    ctx.addIssue({ code: 'custom', message: `'${zone}' is not an IANA time zone (like Europe/London; fixed offsets are not accepted)` });
    return z.NEVER;
  });

const Instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 instant with a zone, like 2026-03-08T09:00:00Z' }).transform(Date.parse);

/** `HH:MM` as minutes since midnight; `24:00` only where `end` allows it. */
const clock = (end: boolean) =>
  z.string().transform((text, ctx) => {
    const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
    if (m) return Number(m[1]) * 60 + Number(m[2]);
    if (end && text === '24:00') return 24 * 60;
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a time HH:MM (00:00 .. ${end ? '24:00' : '23:59'})` });
    return z.NEVER;
  });

/** `12h` or `3d`: a turn length on the wall clock (a day is 24 wall-clock hours). */
export function parseTurnLength(text: string): number | null {
  const m = /^([1-9]\d{0,3})([hd])$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * (m[2] === 'h' ? HOUR : DAY);
  return ms <= 365 * DAY ? ms : null;
}

const Rotation = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('daily') }),
  z.strictObject({ type: z.literal('weekly'), handoffDay: z.enum(WEEKDAYS).optional() }),
  z.strictObject({ type: z.literal('custom'), turnLength: z.string().max(8) }),
]);

const Window = z
  .strictObject({ day: z.enum(WEEKDAYS).optional(), start: clock(false), end: clock(true) })
  .refine((w) => w.end > w.start, { path: ['end'], message: 'must be after start (a window may not cross midnight: split it in two)' })
  .transform((w) => ({ day: w.day === undefined ? null : WEEKDAYS.indexOf(w.day), startMinute: w.start, endMinute: w.end }));

const windowText = (w: { day: number | null; startMinute: number; endMinute: number }) => {
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return `${w.day === null ? 'daily' : WEEKDAYS[w.day]} ${hhmm(w.startMinute)}-${hhmm(w.endMinute)}`;
};

/** A layer's settings from `effectiveFrom` until the next version (an edit) or the layer's end. */
const LayerVersion = z
  .strictObject({
    effectiveFrom: Instant,
    /** Default: the schedule's zone. Follow-the-sun is several layers in different zones. */
    zone: Zone.optional(),
    rotation: Rotation,
    /** Local wall-clock time of the handoff, in the version's zone. */
    handoff: clock(false),
    members: z.array(z.string().min(1).max(200)).min(1, 'needs at least one member').max(SCHEDULE_LIMITS.members),
    /** Windows in the version's zone; outside them the layer has nobody. None: always on. */
    restrictions: z.array(Window).max(SCHEDULE_LIMITS.windows).default([]),
  })
  .superRefine((v, ctx) => {
    v.restrictions.forEach((w, i) => {
      const clash = v.restrictions.findIndex(
        (o, j) => j < i && (o.day === null || w.day === null || o.day === w.day) && o.startMinute < w.endMinute && w.startMinute < o.endMinute,
      );
      if (clash >= 0) {
        ctx.addIssue({ code: 'custom', path: ['restrictions', i], message: `${windowText(w)} overlaps restrictions[${clash}] (${windowText(v.restrictions[clash]!)})` });
      }
    });
  })
  .transform((v, ctx) => {
    const r = v.rotation;
    const turnMs = r.type === 'daily' ? DAY : r.type === 'weekly' ? 7 * DAY : parseTurnLength(r.turnLength);
    if (turnMs === null) {
      const text = r.type === 'custom' ? r.turnLength : '';
      ctx.addIssue({ code: 'custom', path: ['rotation', 'turnLength'], message: `'${text}' is not a turn length like 12h or 3d (1h .. 365d)` });
      return z.NEVER;
    }
    return {
      effectiveFrom: v.effectiveFrom,
      zone: v.zone ?? null,
      rotation: r.type,
      turnMs,
      handoffMinute: v.handoff,
      /** Weekly rotations only; null: the weekday of effectiveFrom (local). */
      handoffDay: r.type === 'weekly' && r.handoffDay ? WEEKDAYS.indexOf(r.handoffDay) : null,
      members: v.members,
      restrictions: v.restrictions,
    };
  });

const LayerSchema = z
  .strictObject({
    id: z.string().min(1).max(100),
    name: z.string().max(200).default(''),
    /** The layer's history: its first version starts the layer; later ones are edits. */
    versions: z.array(LayerVersion).min(1, 'needs at least one version').max(SCHEDULE_LIMITS.versionsPerLayer),
    end: Instant.nullable().default(null),
  })
  .superRefine((l, ctx) => {
    l.versions.forEach((v, i) => {
      const prev = l.versions[i - 1];
      if (prev && v.effectiveFrom <= prev.effectiveFrom) {
        ctx.addIssue({ code: 'custom', path: ['versions', i, 'effectiveFrom'], message: `must be after versions[${i - 1}].effectiveFrom` });
      }
      if (l.end !== null && v.effectiveFrom >= l.end) {
        ctx.addIssue({
          code: 'custom',
          path: i === 0 ? ['end'] : ['versions', i, 'effectiveFrom'],
          message: i === 0 ? 'must be after the layer starts (versions[0].effectiveFrom): the layer would be empty' : "must be before the layer's end",
        });
      }
    });
  });

const OverrideSchema = z
  .strictObject({ user: z.string().min(1).max(200), start: Instant, end: Instant })
  .refine((o) => o.end > o.start, { path: ['end'], message: 'must be after start (an override may not be empty or reversed)' });

export const Schedule = z
  .strictObject({
    id: z.string().min(1).max(100),
    name: z.string().min(1).max(200),
    zone: Zone,
    /** Lowest priority first: a later layer wins wherever it has someone. */
    layers: z.array(LayerSchema).max(SCHEDULE_LIMITS.layers),
    /** On top of every layer; a later override wins over an earlier one. */
    overrides: z.array(OverrideSchema).max(SCHEDULE_LIMITS.overrides).default([]),
  })
  .superRefine((s, ctx) => {
    const ids = new Set<string>();
    s.layers.forEach((l, i) => {
      if (ids.has(l.id)) ctx.addIssue({ code: 'custom', path: ['layers', i, 'id'], message: `layer id '${l.id}' is used twice` });
      ids.add(l.id);
    });
    s.overrides.forEach((o, i) => {
      // (zod runs this check even when a layer failed to parse: a layer without versions is skipped.)
      const inside = s.layers.some((l) => l.versions[0] && o.end > l.versions[0].effectiveFrom && (l.end === null || o.start < l.end));
      if (!inside) ctx.addIssue({ code: 'custom', path: ['overrides', i], message: 'is outside every layer of the schedule' });
    });
  })
  .transform((s) => ({
    ...s,
    layers: s.layers.map((l) => ({ ...l, versions: l.versions.map((v) => ({ ...v, zone: v.zone ?? s.zone })) })),
  }));

export type Schedule = z.infer<typeof Schedule>;
export type Layer = Schedule['layers'][number];
export type LayerVersion = Layer['versions'][number];
export type RestrictionWindow = LayerVersion['restrictions'][number];
export type Override = Schedule['overrides'][number];
/** A schedule as the API receives it (ISO instants, HH:MM, weekday names). */
export type ScheduleInput = z.input<typeof Schedule>;
