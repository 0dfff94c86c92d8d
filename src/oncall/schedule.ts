import type { Layer, LayerVersion, Override, Schedule } from './schedule-schemas.ts';
import { clockReached, localTime, startOfDay, toInstant, weekdayOf } from '../core/zoned-time.ts';

/**
 * Who is on call: a schedule (schedule-schemas.ts) evaluated at an instant or over a range. Pure: the
 * time is an argument, zone rules come from Intl (zoned-time.ts); the store, the API and the iCal feed
 * (ical.ts) call these.
 *
 * Invariants:
 * - a layer version is in force on [effectiveFrom, next version's effectiveFrom or the layer's end);
 *   an edit is a new version, so shifts before it are never changed by it;
 * - turns are counted on the version's wall clock, in its zone: the grid is `anchor + k * turn` in
 *   local time, where the anchor is the handoff time on effectiveFrom's local day (weekly: moved back
 *   to the latest handoffDay), and each grid point becomes an instant by the DST rule of
 *   zoned-time.ts (first instant the clock reads it or later). So a daily 09:00 handoff is at 09:00
 *   local every day and the turn across a DST change lasts 23 h or 25 h; weekly and custom turns alike,
 *   hour-long ones included ("hourly rotations stay on the wall clock");
 * - the turn in force at effectiveFrom belongs to members[0] (it may be partial), each later turn to the
 *   next member, round and round; a turn whose two ends fall in the same skipped hour is empty and its
 *   member is passed over (the count does not stop);
 * - restrictions are windows of local time in the version's zone, their ends mapped by the same DST
 *   rule; outside them the layer has nobody, and the rotation keeps counting;
 * - the final schedule at t: the last override covering t, else the last layer with someone at t,
 *   else nobody; at most one person at a time;
 * - ranges are half-open [start, end); onCallAt(t) always agrees with the shift of finalShifts that
 *   contains t: shifts are cut at toInstant(boundary), and onCallAt compares clockReached(t) with the
 *   same local boundaries, which zoned-time.ts shows to be the same test.
 */

export interface Shift {
  start: number;
  end: number;
  user: string;
}

export type Source = { kind: 'override'; index: number } | { kind: 'layer'; layerId: string };

export interface OnCall {
  user: string;
  source: Source;
}

export interface Handoff {
  at: number;
  from: string | null;
  to: string | null;
}

const DAY = 86_400_000;
const MINUTE = 60_000;

// ---------------------------------------------------------------------------------------------
// One layer version: its turn grid and restriction windows.

/** The local time of grid point 0. */
function anchorOf(v: LayerVersion): number {
  let anchor = startOfDay(localTime(v.zone, v.effectiveFrom)) + v.handoffMinute * MINUTE;
  if (v.rotation === 'weekly' && v.handoffDay !== null) anchor -= ((weekdayOf(anchor) - v.handoffDay + 7) % 7) * DAY;
  return anchor;
}

class Grid {
  readonly anchor: number;
  /** The cell in force at effectiveFrom: members[0]'s turn. */
  readonly first: number;
  constructor(readonly v: LayerVersion) {
    this.anchor = anchorOf(v);
    this.first = this.cellAt(v.effectiveFrom);
  }
  /** Instant where cell k starts. */
  at(k: number): number {
    return toInstant(this.v.zone, this.anchor + k * this.v.turnMs);
  }
  /** The cell whose [at(k), at(k + 1)) holds t: the last k with at(k) <= t. */
  cellAt(t: number): number {
    return Math.floor((clockReached(this.v.zone, t) - this.anchor) / this.v.turnMs);
  }
  member(k: number): string {
    const n = this.v.members.length;
    return this.v.members[(((k - this.first) % n) + n) % n]!;
  }
}

/** The version's restriction windows as instants overlapping [from, to), sorted and merged. */
function windows(v: LayerVersion, from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const last = startOfDay(localTime(v.zone, to)) + DAY;
  for (let day = startOfDay(localTime(v.zone, from)) - DAY; day <= last; day += DAY) {
    const weekday = weekdayOf(day);
    const today = v.restrictions.filter((w) => w.day === null || w.day === weekday).sort((a, b) => a.startMinute - b.startMinute);
    for (const w of today) {
      const s = toInstant(v.zone, day + w.startMinute * MINUTE);
      const e = toInstant(v.zone, day + w.endMinute * MINUTE);
      if (e <= from || s >= to || e <= s) continue;
      const prev = out[out.length - 1];
      if (prev && prev[1] >= s) prev[1] = Math.max(prev[1], e);
      else out.push([s, e]);
    }
  }
  return out;
}

/** Whether t is inside one of the version's windows (the same answer as windows(), without a search). */
function inWindows(v: LayerVersion, t: number): boolean {
  const reached = clockReached(v.zone, t);
  const day = startOfDay(reached);
  const minute = (reached - day) / MINUTE;
  const weekday = weekdayOf(day);
  return v.restrictions.some((w) => (w.day === null || w.day === weekday) && w.startMinute <= minute && minute < w.endMinute);
}

// ---------------------------------------------------------------------------------------------
// Layers.

/** The version in force at t, or null (before the layer starts, or from its end). */
function versionAt(layer: Layer, t: number): LayerVersion | null {
  if (layer.end !== null && t >= layer.end) return null;
  let found: LayerVersion | null = null;
  for (const v of layer.versions) if (v.effectiveFrom <= t) found = v;
  return found;
}

function layerUserAt(layer: Layer, t: number): string | null {
  const v = versionAt(layer, t);
  if (!v) return null;
  if (v.restrictions.length > 0 && !inWindows(v, t)) return null;
  const grid = new Grid(v);
  return grid.member(grid.cellAt(t));
}

/** One version's turns within [from, to), cut to its restriction windows. */
function versionShifts(v: LayerVersion, from: number, to: number): Shift[] {
  const grid = new Grid(v);
  const turns: Shift[] = [];
  for (let k = grid.cellAt(from), start = from; start < to; k++) {
    const end = Math.min(grid.at(k + 1), to);
    if (end > start) turns.push({ start, end, user: grid.member(k) });
    start = Math.max(start, end);
  }
  if (v.restrictions.length === 0) return turns;
  const cut: Shift[] = [];
  const open = windows(v, from, to);
  let i = 0;
  for (const turn of turns) {
    while (i < open.length && open[i]![1] <= turn.start) i++;
    for (let j = i; j < open.length && open[j]![0] < turn.end; j++) {
      const start = Math.max(turn.start, open[j]![0]);
      const end = Math.min(turn.end, open[j]![1]);
      if (end > start) cut.push({ start, end, user: turn.user });
    }
  }
  return cut;
}

function renderLayer(layer: Layer, from: number, to: number): Shift[] {
  const shifts: Shift[] = [];
  layer.versions.forEach((v, i) => {
    const until = Math.min(to, layer.versions[i + 1]?.effectiveFrom ?? Infinity, layer.end ?? Infinity);
    const since = Math.max(from, v.effectiveFrom);
    if (since < until) shifts.push(...versionShifts(v, since, until));
  });
  return merge(shifts);
}

/** Joins touching shifts of the same user. */
function merge(shifts: Shift[]): Shift[] {
  const out: Shift[] = [];
  for (const s of shifts) {
    const prev = out[out.length - 1];
    if (prev && prev.user === s.user && prev.end === s.start) prev.end = s.end;
    else out.push({ ...s });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The schedule.

/** Who is on call at instant t, and whence (an override, or the layer), or null for nobody. */
export function onCallAt(schedule: Schedule, t: number): OnCall | null {
  for (let i = schedule.overrides.length - 1; i >= 0; i--) {
    const o = schedule.overrides[i]!;
    if (o.start <= t && t < o.end) return { user: o.user, source: { kind: 'override', index: i } };
  }
  for (let i = schedule.layers.length - 1; i >= 0; i--) {
    const layer = schedule.layers[i]!;
    const user = layerUserAt(layer, t);
    if (user !== null) return { user, source: { kind: 'layer', layerId: layer.id } };
  }
  return null;
}

/** Each layer on its own within [from, to) (restrictions applied; other layers and overrides not). */
export function layerShifts(schedule: Schedule, from: number, to: number): Array<{ layerId: string; shifts: Shift[] }> {
  return schedule.layers.map((layer) => ({ layerId: layer.id, shifts: renderLayer(layer, from, to) }));
}

/** The final schedule within [from, to): contiguous shifts of one user each; gaps have nobody. */
export function finalShifts(schedule: Schedule, from: number, to: number): Shift[] {
  if (to <= from) return [];
  // Sources, lowest priority first: each layer (its shifts never overlap), then each override.
  const sources: Shift[][] = [
    ...layerShifts(schedule, from, to).map((l) => l.shifts),
    ...schedule.overrides.map((o) => clip(o, from, to)),
  ];
  const cuts = [...new Set([from, to, ...sources.flat().flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);
  const next = sources.map(() => 0);
  const out: Shift[] = [];
  for (let c = 0; c + 1 < cuts.length; c++) {
    const start = cuts[c]!;
    for (let i = sources.length - 1; i >= 0; i--) {
      const src = sources[i]!;
      while (next[i]! < src.length && src[next[i]!]!.end <= start) next[i]!++;
      const s = src[next[i]!];
      if (s && s.start <= start) {
        out.push({ start, end: cuts[c + 1]!, user: s.user });
        break;
      }
    }
  }
  return merge(out);
}

const clip = (o: Override, from: number, to: number): Shift[] =>
  o.end > from && o.start < to ? [{ start: Math.max(o.start, from), end: Math.min(o.end, to), user: o.user }] : [];

/**
 * The next `limit` changes of who is on call after instant `after` (to or from nobody included),
 * looking at most `horizonMs` ahead.
 */
export function nextHandoffs(schedule: Schedule, after: number, limit = 1, horizonMs = 366 * DAY): Handoff[] {
  const end = after + horizonMs;
  const shifts = finalShifts(schedule, after, end);
  const out: Handoff[] = [];
  shifts.forEach((s, i) => {
    const prev = shifts[i - 1];
    const next = shifts[i + 1];
    if (s.start > after) out.push({ at: s.start, from: prev && prev.end === s.start ? prev.user : null, to: s.user });
    // Followed by a gap: handed over to nobody.
    if (s.end < end && !(next && next.start === s.end)) out.push({ at: s.end, from: s.user, to: null });
  });
  return out.slice(0, limit);
}

/** A swap of two shifts as two overrides: each person takes the other's shift. */
export function swapOverrides(a: Shift, b: Shift): Override[] {
  return [
    { user: b.user, start: a.start, end: a.end },
    { user: a.user, start: b.start, end: b.end },
  ];
}
