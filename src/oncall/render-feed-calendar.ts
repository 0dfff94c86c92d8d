import type { Deps } from '../core/deps.ts';
import { sha256Hex } from '../core/ids.ts';
import { asServiceRole } from '../db/scoped.ts';
import { renderCalendar, scheduleCalendar } from './ical.ts';
import { FEED_TOKEN_PATTERN } from './feed-tokens.ts';
import { SCHEDULE_API_LIMITS } from './schedule-requests.ts';
import { parseStored, type StoredSchedule } from './schedule-store.ts';

const DAY = 86_400_000;

/**
 * A feed's calendar (ical.ts) for the window around now (SCHEDULE_API_LIMITS.feedPastDays back,
 * feedFutureDays ahead), or null for a token that is malformed, unknown, revoked, or whose creator
 * (or person) has left the organization: the caller answers each the same 404. The token is the
 * credential, found by its sha256 (an indexed equality: no comparison of secrets in our code), so
 * this reads as the service role; it records the feed's last use (at most once a minute).
 * A person's feed holds their shifts of every schedule of the organization that names them.
 */
export async function renderFeedCalendar(deps: Pick<Deps, 'db' | 'clock'>, token: string): Promise<string | null> {
  if (!FEED_TOKEN_PATTERN.test(token)) return null;
  const hash = await sha256Hex(token);
  const found = await asServiceRole(deps.db, async (tx) => {
    const [feed] = await tx.query<{ id: string; organization_id: string; schedule_id: string | null; user_id: string | null; org_name: string }>(
      `select f.id, f.organization_id, f.schedule_id, f.user_id, o.name as org_name
       from public.oncall_feed_tokens f join public.organizations o on o.id = f.organization_id
       where f.token_hash = $1 and f.revoked_at is null
         and exists (select 1 from public.organization_members m where m.organization_id = f.organization_id and m.user_id = f.created_by)
         and (f.user_id is null or exists (select 1 from public.organization_members m where m.organization_id = f.organization_id and m.user_id = f.user_id))`,
      [hash],
    );
    if (!feed) return null;
    await tx.query(
      `update public.oncall_feed_tokens set last_used_at = now() where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`,
      [feed.id],
    );
    const schedules = feed.schedule_id !== null
      ? await tx.query<StoredSchedule>('select id, name, document, version, updated_at from public.oncall_schedules where id = $1', [feed.schedule_id])
      : await tx.query<StoredSchedule>(
          `select id, name, document, version, updated_at from public.oncall_schedules
           where organization_id = $1 and jsonb_path_exists(document, '$.** ? (@ == $u)', jsonb_build_object('u', $2::text))
           order by name, id`,
          [feed.organization_id, feed.user_id],
        );
    return { feed, schedules };
  });
  if (!found) return null;
  const now = deps.clock.now().getTime();
  const window = { from: now - SCHEDULE_API_LIMITS.feedPastDays * DAY, to: now + SCHEDULE_API_LIMITS.feedFutureDays * DAY, now };
  const { feed, schedules } = found;
  if (feed.user_id === null) {
    const schedule = schedules[0] ? parseStored(schedules[0]) : null;
    if (!schedule) return renderCalendar({ id: feed.schedule_id!, name: schedules[0]?.name ?? '', calendarName: `On call: ${schedules[0]?.name ?? ''}`, shifts: [], now });
    return scheduleCalendar(schedule, window);
  }
  // One calendar of the person's shifts: each schedule's events (their UIDs name the schedule).
  const events = schedules.map((row) => {
    const schedule = parseStored(row);
    return schedule ? eventsOf(scheduleCalendar(schedule, { ...window, user: feed.user_id! })) : '';
  });
  const empty = renderCalendar({ id: feed.organization_id, name: feed.org_name, calendarName: `On call: ${feed.org_name} (my shifts)`, shifts: [], now });
  const end = 'END:VCALENDAR\r\n';
  return empty.slice(0, -end.length) + events.join('') + end;
}

/** The VEVENT blocks of a calendar's text, CRLF-terminated. */
function eventsOf(calendar: string): string {
  const start = calendar.indexOf('BEGIN:VEVENT\r\n');
  if (start < 0) return '';
  const last = 'END:VEVENT\r\n';
  return calendar.slice(start, calendar.lastIndexOf(last) + last.length);
}
