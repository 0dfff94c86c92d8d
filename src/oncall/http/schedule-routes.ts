import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../../core/deps.ts';
import { notFound } from '../../core/errors.ts';
import { actorClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { addScheduleOverride } from '../add-schedule-override.ts';
import { createFeedToken } from '../create-feed-token.ts';
import { createSchedule } from '../create-schedule.ts';
import { deleteSchedule } from '../delete-schedule.ts';
import { deleteScheduleOverride } from '../delete-schedule-override.ts';
import { getOnCall } from '../get-on-call.ts';
import { getSchedule } from '../get-schedule.ts';
import { getScheduleShifts } from '../get-schedule-shifts.ts';
import { listFeedTokens } from '../list-feed-tokens.ts';
import { listSchedules } from '../list-schedules.ts';
import { renderFeedCalendar } from '../render-feed-calendar.ts';
import { revokeFeedToken } from '../revoke-feed-token.ts';
import {
  AddOverride,
  AddSwap,
  CreateSchedule,
  CreateUserFeed,
  FeedsQuery,
  OnCallQuery,
  OverrideParams,
  SchedulesQuery,
  ShiftsQuery,
  UpdateSchedule,
} from '../schedule-requests.ts';
import { IdParams } from '../schemas.ts';
import { swapScheduleShifts } from '../swap-schedule-shifts.ts';
import { updateSchedule } from '../update-schedule.ts';
import {
  CALENDAR,
  CreatedFeedResponse,
  FeedsResponse,
  OnCallResponse,
  OverrideAddedResponse,
  ScheduleResponse,
  SchedulesResponse,
  ShiftsResponse,
  SwapResponse,
} from '../responses.ts';

/** Signed-in users only: schedules are an organization's, API keys a project's. */
const USER = { auth: ['user'] } as const;
const FeedTokenParams = z.object({ token: z.string() });

/**
 * The oncall function's schedule routes (issue 20 item 4): on-call schedules, who is on call, their
 * shifts, overrides and swaps, and the iCal feeds. Mounted by routes.ts at the function's root.
 * Signed-in users only (schedules are an organization's, API keys a project's), except the feed's
 * calendar, whose URL token is the credential (calendar apps send nothing else). RLS decides every
 * read: what the caller cannot see is a 404.
 */
export function scheduleRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // ---- schedules: an organization's members read; its owners and admins manage.
  app.post('/schedules', describe({ summary: 'Create an on-call schedule (owners and admins)', ...USER, body: CreateSchedule, responses: { 201: ScheduleResponse } }), async (c) => {
    return c.json({ schedule: await createSchedule(deps, actorClaims(c), await parseBody(c, CreateSchedule)) }, 201);
  });
  app.get('/schedules', describe({ summary: "An organization's on-call schedules", ...USER, query: SchedulesQuery, responses: { 200: SchedulesResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ schedules: await listSchedules(deps, claims, parseQuery(c, SchedulesQuery).organizationId) });
  });
  app.get('/schedules/:id', describe({ summary: 'One on-call schedule', ...USER, params: IdParams, responses: { 200: ScheduleResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ schedule: await getSchedule(deps, claims, parseParams(c, IdParams).id) });
  });
  app.put('/schedules/:id', describe({ summary: 'Change a schedule (owners and admins)', description: 'Without `overrides` in the document the stored overrides are kept; `version` makes it a 409 when the schedule changed since.', ...USER, params: IdParams, body: UpdateSchedule, responses: { 200: ScheduleResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ schedule: await updateSchedule(deps, claims, id, await parseBody(c, UpdateSchedule)) });
  });
  app.delete('/schedules/:id', describe({ summary: 'Delete a schedule (owners and admins)', ...USER, params: IdParams, responses: { 204: null } }), async (c) => {
    await deleteSchedule(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  // ---- who is on call, and when.
  app.get('/schedules/:id/on-call', describe({ summary: 'Who is on call at a time (default now), and the next handoff', ...USER, params: IdParams, query: OnCallQuery, responses: { 200: OnCallResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await getOnCall(deps, claims, id, parseQuery(c, OnCallQuery).at));
  });
  app.get('/schedules/:id/shifts', describe({ summary: "A schedule's shifts: each layer's, and the final schedule's", description: 'Within [from, to): by default the week from now; at most 366 days.', ...USER, params: IdParams, query: ShiftsQuery, responses: { 200: ShiftsResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await getScheduleShifts(deps, claims, id, parseQuery(c, ShiftsQuery)));
  });

  // ---- overrides and swaps: owners and admins for anyone, members for themselves.
  app.post('/schedules/:id/overrides', describe({ summary: 'Add an override (owners and admins for anyone, members for themselves)', ...USER, params: IdParams, body: AddOverride, responses: { 201: OverrideAddedResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await addScheduleOverride(deps, claims, id, await parseBody(c, AddOverride)), 201);
  });
  app.delete('/schedules/:id/overrides/:overrideId', describe({ summary: 'Remove an override', ...USER, params: OverrideParams, responses: { 204: null } }), async (c) => {
    const claims = actorClaims(c);
    const { id, overrideId } = parseParams(c, OverrideParams);
    await deleteScheduleOverride(deps, claims, id, overrideId);
    return c.body(null, 204);
  });
  app.post('/schedules/:id/swaps', describe({ summary: 'Swap two shifts of the final schedule between two people', ...USER, params: IdParams, body: AddSwap, responses: { 201: SwapResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await swapScheduleShifts(deps, claims, id, await parseBody(c, AddSwap)), 201);
  });

  // ---- iCal feeds: a token shown once; the creator or an owner or admin revokes.
  app.post('/schedules/:id/feeds', describe({ summary: "Create an iCal feed of a schedule (its token shown this once)", ...USER, params: IdParams, responses: { 201: CreatedFeedResponse } }), async (c) => {
    const claims = actorClaims(c);
    const created = await createFeedToken(deps, claims, { scheduleId: parseParams(c, IdParams).id });
    return c.json({ ...created, url: feedUrl(c, created.path) }, 201);
  });
  app.post('/me/feeds', describe({ summary: "Create an iCal feed of the caller's own shifts in an organization (its token shown this once)", ...USER, body: CreateUserFeed, responses: { 201: CreatedFeedResponse } }), async (c) => {
    const claims = actorClaims(c);
    const created = await createFeedToken(deps, claims, { organizationId: (await parseBody(c, CreateUserFeed)).organizationId });
    return c.json({ ...created, url: feedUrl(c, created.path) }, 201);
  });
  app.get('/feeds', describe({ summary: 'iCal feeds: the caller\'s own; owners and admins every feed of the organization', ...USER, query: FeedsQuery, responses: { 200: FeedsResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ feeds: await listFeedTokens(deps, claims, parseQuery(c, FeedsQuery).organizationId) });
  });
  app.delete('/feeds/:id', describe({ summary: 'Revoke an iCal feed (its creator, or an owner or admin)', ...USER, params: IdParams, responses: { 204: null } }), async (c) => {
    await revokeFeedToken(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });
  // No identity is asked for: the token in the path is the credential (as the Events v2 routing key).
  app.get('/feeds/:token/calendar.ics', describe({ summary: 'An iCal feed: the calendar', description: 'The token in the path is the credential (calendar apps send nothing else).', auth: [], params: FeedTokenParams, responses: { 200: CALENDAR } }), async (c) => {
    const calendar = await renderFeedCalendar(deps, c.req.param('token'));
    if (calendar === null) throw notFound('Feed');
    return c.body(calendar, 200, { 'content-type': 'text/calendar; charset=utf-8', 'cache-control': 'private, no-cache' });
  });

  return app;
}

/** The feed's absolute URL, beside the route that made it (gateway or edge runtime alike). */
function feedUrl(c: Context<AppEnv>, path: string): string {
  const url = new URL(c.req.url);
  const base = url.pathname.replace(/\/(schedules\/[^/]+|me)\/feeds\/?$/, '');
  return `${url.origin}${base}${path}`;
}
