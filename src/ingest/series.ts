import { sha256Hex } from '../core/ids.ts';
import type { Queryable } from '../db/types.ts';
import { type HashState, metricKeyPrefix, sortedTags } from './event-key.ts';
import type { MetricPoint } from './model.ts';

export interface SeriesSpec {
  /** name + sorted tags, as one string: the series identity. */
  identity: string;
  name: string;
  type: MetricPoint['type'];
  temporality: 'cumulative' | 'delta' | null;
  unit: string | null;
  tags: Record<string, string>;
  /** Points of this series in the batch (for rejection counts). */
  points: number;
}

/**
 * A series is a metric name, its kind (type and temporality: a delta and a cumulative counter of the
 * same name are different data) and its tag set.
 */
export function seriesIdentity(name: string, type: string, temporality: string | undefined, tagString: string): string {
  return `${name}\u0000${type}\u0000${temporality ?? ''}\u0000${tagString}`;
}

/** What a point's name, kind and tags make of it: its series identity and its event key's prefix. */
export interface SeriesKey {
  identity: string;
  tagString: string;
  /** metricKeyPrefix(name, tagString): the hash state every plain point of the series starts from. */
  prefix: HashState;
}

/**
 * seriesIdentity and the key prefix of a point, remembered in a trie walked by the point's name,
 * type, temporality, then each tag's key and value in the order they arrived: one Map lookup a
 * step, and no text built (sorting the tags and joining them per point, then looking the text up,
 * measured about four times the cost: 480-770 against 130-200 ns a point). A batch repeats
 * its series request after request. A pure memo of functions of the point, shared by every project;
 * emptied when it holds SERIES_KEY_NODES nodes: about 1.1 KB a series with three tags (measured with
 * 50,000 series), so at most some 45 MB for 40,000 or so series.
 */
interface SeriesKeyNode {
  next: Map<string, SeriesKeyNode>;
  key: SeriesKey | undefined;
}

const SERIES_KEY_NODES = 200_000;
let seriesKeyRoot = new Map<string, SeriesKeyNode>();
let seriesKeyNodes = 0;

function seriesKeyStep(map: Map<string, SeriesKeyNode>, part: string): SeriesKeyNode {
  let node = map.get(part);
  if (node === undefined) {
    node = { next: new Map(), key: undefined };
    map.set(part, node);
    seriesKeyNodes += 1;
  }
  return node;
}

export function seriesKeyOf(m: Pick<MetricPoint, 'name' | 'type' | 'temporality' | 'tags'>): SeriesKey {
  if (seriesKeyNodes >= SERIES_KEY_NODES) {
    seriesKeyRoot = new Map();
    seriesKeyNodes = 0;
  }
  let node = seriesKeyStep(seriesKeyStep(seriesKeyStep(seriesKeyRoot, m.name).next, m.type).next, m.temporality ?? '');
  const tags = m.tags;
  for (const k in tags) node = seriesKeyStep(seriesKeyStep(node.next, k).next, tags[k]!);
  if (node.key === undefined) {
    const tagString = sortedTags(tags);
    node.key = { identity: seriesIdentity(m.name, m.type, m.temporality, tagString), tagString, prefix: metricKeyPrefix(m.name, tagString) };
  }
  return node.key;
}

/** What Postgres stores and indexes: sha256 of the identity (fixed length, exact, unlike event keys). */
export function seriesFingerprint(identity: string): Promise<string> {
  return sha256Hex(identity);
}

/**
 * A bounded, process-local map of known series ids (project + identity -> id). Series ids never
 * change, so a stale entry is impossible; a deleted project's entries just age out.
 */
export class SeriesCache {
  /** project -> identity -> id (no key string is built per lookup). */
  private readonly projects = new Map<string, Map<string, number>>();
  private size = 0;
  constructor(private readonly max = 200_000) {}
  get(projectId: string, identity: string): number | undefined {
    return this.projects.get(projectId)?.get(identity);
  }
  set(projectId: string, identity: string, id: number): void {
    if (this.get(projectId, identity) !== undefined) return;
    if (this.size >= this.max) {
      // Full: forget the oldest series of the oldest project (maps keep insertion order).
      const [oldestProject, oldest] = this.projects.entries().next().value as [string, Map<string, number>];
      oldest.delete(oldest.keys().next().value as string);
      if (oldest.size === 0) this.projects.delete(oldestProject);
      this.size -= 1;
    }
    let ids = this.projects.get(projectId);
    if (!ids) this.projects.set(projectId, (ids = new Map()));
    ids.set(identity, id);
    this.size += 1;
  }
}

export interface ResolvedSeries {
  /** identity -> series id */
  ids: Map<string, number>;
  /** Identities refused because they would pass the project's series limit. */
  rejected: Set<string>;
}

/**
 * Finds or creates the series of a batch. It only reads the cache: the caller adds the ids to it
 * after the transaction commits (an id from a rolled-back insert must never be reused).
 * New series are admitted only while the project stays
 * within maxSeries; the check and the inserts run under a per-project transaction lock, so two
 * concurrent requests cannot both take the last slot. Refused series are counted in
 * series_rejections (per metric per day) in the same transaction.
 */
export async function resolveSeries(
  tx: Queryable,
  cache: SeriesCache,
  projectId: string,
  specs: Map<string, SeriesSpec>,
  maxSeries: number,
  now: Date,
): Promise<ResolvedSeries> {
  const ids = new Map<string, number>();
  const rejected = new Set<string>();
  const unknown: string[] = [];
  for (const identity of specs.keys()) {
    const id = cache.get(projectId, identity);
    if (id !== undefined) ids.set(identity, id);
    else unknown.push(identity);
  }
  if (unknown.length === 0) return { ids, rejected };
  const fps = await Promise.all(unknown.map(seriesFingerprint));
  const byFp = new Map(fps.map((fp, i) => [fp, unknown[i]!]));
  const found = await tx.query<{ id: string | number; fingerprint: string }>(
    'select id, fingerprint from public.metric_series where project_id = $1 and fingerprint = any($2::text[])',
    [projectId, fps],
  );
  for (const r of found) ids.set(byFp.get(r.fingerprint)!, Number(r.id));
  let fresh = fps.filter((fp) => !ids.has(byFp.get(fp)!));
  if (fresh.length === 0) return { ids, rejected };

  await tx.query(`select pg_advisory_xact_lock(hashtext('observai.series:' || $1::text))`, [projectId]);
  const [{ n } = { n: 0 }] = await tx.query<{ n: string | number }>('select count(*) as n from public.metric_series where project_id = $1', [projectId]);
  const room = Math.max(0, maxSeries - Number(n));
  for (const fp of fresh.slice(room)) rejected.add(byFp.get(fp)!);
  fresh = fresh.slice(0, room);
  if (fresh.length > 0) {
    const list = fresh.map((fp) => specs.get(byFp.get(fp)!)!);
    const rows = await tx.query<{ id: string | number; fingerprint: string }>(
      `insert into public.metric_series (project_id, name, type, temporality, unit, tags, fingerprint, created_at, last_seen_at)
       select $1, s.name, s.type, s.temporality, s.unit, s.tags::jsonb, s.fingerprint, $8, $8
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) as s(name, type, temporality, unit, tags, fingerprint)
       on conflict (project_id, fingerprint) do update set last_seen_at = excluded.last_seen_at
       returning id, fingerprint`,
      [
        projectId,
        list.map((s) => s.name),
        list.map((s) => s.type),
        list.map((s) => s.temporality),
        list.map((s) => s.unit),
        list.map((s) => JSON.stringify(s.tags)),
        fresh,
        now,
      ],
    );
    for (const r of rows) ids.set(byFp.get(r.fingerprint)!, Number(r.id));
    // A metric seen for the first time registers its definition (type and unit as ingested).
    await tx.query(
      `insert into public.metric_definitions (organization_id, name, type, unit)
       select p.organization_id, d.name, d.type, d.unit
       from public.projects p, unnest($2::text[], $3::text[], $4::text[]) as d(name, type, unit)
       where p.id = $1
       on conflict (organization_id, name) do nothing`,
      [projectId, list.map((s) => s.name), list.map((s) => s.type), list.map((s) => s.unit)],
    );
  }
  if (rejected.size > 0) {
    const byName = new Map<string, { count: number; tags: Record<string, string> }>();
    for (const identity of rejected) {
      const s = specs.get(identity)!;
      const e = byName.get(s.name) ?? { count: 0, tags: s.tags };
      e.count += s.points;
      byName.set(s.name, e);
    }
    await tx.query(
      `insert into public.series_rejections (project_id, day, metric_name, rejected_points, sample_tags, last_rejected_at)
       select $1, ($2::timestamptz at time zone 'UTC')::date, r.name, r.n, r.tags::jsonb, $2
       from unnest($3::text[], $4::bigint[], $5::text[]) as r(name, n, tags)
       on conflict (project_id, day, metric_name) do update
         set rejected_points = public.series_rejections.rejected_points + excluded.rejected_points,
             sample_tags = excluded.sample_tags, last_rejected_at = excluded.last_rejected_at`,
      [projectId, now, [...byName.keys()], [...byName.values()].map((v) => v.count), [...byName.values()].map((v) => JSON.stringify(v.tags))],
    );
  }
  return { ids, rejected };
}
