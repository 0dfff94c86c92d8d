/**
 * The RLS matrix: every table in the public schema (and the jobs' internal tables in private) x every
 * actor x select/insert/update/delete,
 * asserting both what is allowed and what is denied. Each operation runs as that actor in its own
 * transaction (set local role + request.jwt.claims, as PostgREST does) and is rolled back, so the
 * cases are independent.
 *
 * "allow" means the statement touched exactly the target row; "deny" means it touched nothing or
 * Postgres refused it (42501, or one of our triggers' OA403).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import { sqlState } from '../../src/core/errors.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { type Actor, createTenant, type Tenant } from '../helpers/tenant.ts';

type MatrixActor = Actor | 'anon' | 'service_role';
const ACTORS: MatrixActor[] = ['owner', 'admin', 'member', 'unassigned', 'viewer', 'outsider', 'anon', 'service_role'];
type Op = 'select' | 'insert' | 'update' | 'delete';

interface Fixture {
  freshUserId: string;
  invitationId: string;
  auditId: number;
  jobRunId: number;
  profilelessUserId: string;
  seriesId: number;
  usageId: number;
  freeSeriesId: number;
  anomalyConfigId: string;
  incidentId: string;
  episodeId: string;
  exportDestinationId: string;
  exportScheduleId: string;
  exportRunId: string;
  alertRuleId: string;
  alertInstanceId: string;
  alertTransitionId: number;
  contactPointId: string;
  silenceId: string;
  alertGroupId: string;
  notificationId: string;
  notificationAttemptId: number;
  webhookEndpointId: string;
  webhookEventId: string;
  webhookMessageId: string;
  webhookAttemptId: number;
  escalationPolicyId: string;
  oncallServiceId: string;
  oncallIncidentId: string;
  incidentTimelineId: number;
  oncallScheduleId: string;
  oncallFeedId: string;
  incidentPageId: string;
  maintenanceWindowId: string;
  slackAppId: string;
  pagerdutyWebhookId: string;
  customPlanId: string;
  dashboardId: string;
}

/** Raw telemetry tables: the fixture row has event_key 1 and belongs to project A. */
function telemetry(table: string, insert: string): Record<string, Record<Op, [string, unknown[]]>> {
  return {
    [table]: {
      select: [`select 1 from public.${table} where event_key = 1`, []],
      insert: [insert, ['$PROJECT_A', '$SERIES']],
      update: [`update public.${table} set event_key = 1 where event_key = 1 returning 1`, []],
      delete: [`delete from public.${table} where event_key = 1 returning 1`, []],
    },
  };
}

/** SQL per table and operation, over the tenant's target rows. Each must affect exactly one row when allowed. */
function statements(t: Tenant, f: Fixture): Record<string, Record<Op, [string, unknown[]]>> {
  return {
    organizations: {
      select: ['select id from public.organizations where id = $1', [t.orgId]],
      insert: [`insert into public.organizations (name, slug) values ('New', 'new-org-x') returning id`, []],
      update: [`update public.organizations set name = 'Renamed' where id = $1 returning id`, [t.orgId]],
      delete: ['delete from public.organizations where id = $1 returning id', [t.orgId]],
    },
    organization_members: {
      select: ['select user_id from public.organization_members where organization_id = $1 and user_id = $2', [t.orgId, t.people.viewer.id]],
      insert: [`insert into public.organization_members (organization_id, user_id, role) values ($1, $2, 'member') returning user_id`, [t.orgId, f.freshUserId]],
      update: [`update public.organization_members set role = 'member' where organization_id = $1 and user_id = $2 returning user_id`, [t.orgId, t.people.viewer.id]],
      delete: ['delete from public.organization_members where organization_id = $1 and user_id = $2 returning user_id', [t.orgId, t.people.viewer.id]],
    },
    projects: {
      select: ['select id from public.projects where id = $1', [t.projectA]],
      insert: [`insert into public.projects (organization_id, name, slug) values ($1, 'C', 'proj-c') returning id`, [t.orgId]],
      update: [`update public.projects set name = 'A2' where id = $1 returning id`, [t.projectA]],
      delete: ['delete from public.projects where id = $1 returning id', [t.projectA]],
    },
    project_members: {
      select: ['select user_id from public.project_members where project_id = $1 and user_id = $2', [t.projectA, t.people.member.id]],
      insert: ['insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3) returning user_id', [t.projectA, t.orgId, t.people.unassigned.id]],
      update: ['update public.project_members set created_at = now() where project_id = $1 and user_id = $2 returning user_id', [t.projectA, t.people.member.id]],
      delete: ['delete from public.project_members where project_id = $1 and user_id = $2 returning user_id', [t.projectA, t.people.member.id]],
    },
    invitations: {
      select: ['select id from public.invitations where id = $1', [f.invitationId]],
      insert: [
        `insert into public.invitations (organization_id, email, role, token_hash, expires_at) values ($1, 'new@example.test', 'member', repeat('b', 64), now() + interval '1 day') returning id`,
        [t.orgId],
      ],
      update: ['update public.invitations set revoked_at = now() where id = $1 returning id', [f.invitationId]],
      delete: ['delete from public.invitations where id = $1 returning id', [f.invitationId]],
    },
    profiles: {
      select: ['select id from public.profiles where id = $1', [t.people.member.id]],
      insert: [`insert into public.profiles (id, email) values ($1, 'p@example.test') returning id`, [f.profilelessUserId]],
      update: [`update public.profiles set display_name = 'X' where id = $1 returning id`, [t.people.member.id]],
      delete: ['delete from public.profiles where id = $1 returning id', [t.people.member.id]],
    },
    audit_log: {
      select: ['select id from public.audit_log where id = $1', [f.auditId]],
      insert: [`insert into public.audit_log (organization_id, actor_type, action, target_type) values ($1, 'system', 'test.insert', 'test') returning id`, [t.orgId]],
      update: [`update public.audit_log set action = 'tampered' where id = $1 returning id`, [f.auditId]],
      delete: ['delete from public.audit_log where id = $1 returning id', [f.auditId]],
    },
    api_keys: {
      select: ['select id from public.api_keys where id = $1', [t.keyA.id]],
      insert: [
        `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'n', 'ABCDEFGHIJKL', repeat('c', 64), array['read']) returning id`,
        [t.orgId, t.projectA],
      ],
      update: [`update public.api_keys set name = 'renamed' where id = $1 returning id`, [t.keyA.id]],
      delete: ['delete from public.api_keys where id = $1 returning id', [t.keyA.id]],
    },
    project_ingest_settings: {
      select: ['select project_id from public.project_ingest_settings where project_id = $1', [t.projectA]],
      insert: ['insert into public.project_ingest_settings (project_id, organization_id) values ($1, $2) returning project_id', [t.projectB, t.orgId]],
      update: ['update public.project_ingest_settings set max_series = 5 where project_id = $1 returning project_id', [t.projectA]],
      delete: ['delete from public.project_ingest_settings where project_id = $1 returning project_id', [t.projectA]],
    },
    log_retention_settings: {
      select: ['select project_id from public.log_retention_settings where project_id = $1', [t.projectA]],
      insert: ['insert into public.log_retention_settings (project_id, organization_id) values ($1, $2) returning project_id', [t.projectB, t.orgId]],
      update: ['update public.log_retention_settings set debug_days = 3 where project_id = $1 returning project_id', [t.projectA]],
      delete: ['delete from public.log_retention_settings where project_id = $1 returning project_id', [t.projectA]],
    },
    metric_series: {
      select: ['select id from public.metric_series where id = $1', [f.seriesId]],
      insert: [`insert into public.metric_series (project_id, name, type, fingerprint) values ($1, 'm2', 'gauge', 'fp2') returning id`, [t.projectA]],
      update: [`update public.metric_series set unit = 'ms' where id = $1 returning id`, [f.seriesId]],
      delete: ['delete from public.metric_series where id = $1 returning id', [f.seriesId]],
    },
    ...telemetry('metric_points', `insert into public.metric_points (project_id, series_id, time, value, event_key) values ($1, $2, now(), 2, 2) returning 1`),
    ...telemetry(
      'metric_histogram_points',
      `insert into public.metric_histogram_points (project_id, series_id, time, count, buckets, event_key) values ($1, $2, now(), 1, '{}', 2) returning 1`,
    ),
    ...telemetry('logs', `insert into public.logs (project_id, time, level, service, message, event_key) values ($1, now(), 'info', 's', 'm', 2 + 0 * $2) returning 1`),
    // The fixture log row's counter (kept by the trigger on logs).
    log_counts: {
      select: [`select 1 from public.log_counts where project_id = $1 and service = 's'`, [t.projectA]],
      insert: [`insert into public.log_counts (project_id, minute, service, level, n) values ($1, now(), 'other', 'info', 1) returning 1`, [t.projectA]],
      update: [`update public.log_counts set n = n + 1 where project_id = $1 and service = 's' returning 1`, [t.projectA]],
      delete: [`delete from public.log_counts where project_id = $1 and service = 's' returning 1`, [t.projectA]],
    },
    ...telemetry(
      'spans',
      `insert into public.spans (project_id, trace_id, span_id, name, service, start_time, end_time, duration_ms, kind, status, event_key)
       values ($1, 't', 's2', 'n', 's', now(), now(), 0, 'server', 'ok', 2 + 0 * $2) returning 1`,
    ),
    ingest_usage: {
      select: ['select id from public.ingest_usage where id = $1', [f.usageId]],
      insert: ['insert into public.ingest_usage (project_id, organization_id, events, bytes) values ($1, $2, 1, 1) returning id', [t.projectA, t.orgId]],
      update: ['update public.ingest_usage set events = 2 where id = $1 returning id', [f.usageId]],
      delete: ['delete from public.ingest_usage where id = $1 returning id', [f.usageId]],
    },
    series_rejections: {
      select: ['select project_id from public.series_rejections where project_id = $1', [t.projectA]],
      insert: [`insert into public.series_rejections (project_id, day, metric_name) values ($1, current_date, 'other') returning project_id`, [t.projectA]],
      update: ['update public.series_rejections set rejected_points = 9 where project_id = $1 returning project_id', [t.projectA]],
      delete: ['delete from public.series_rejections where project_id = $1 returning project_id', [t.projectA]],
    },
    metric_rollups: {
      select: [`select 1 from public.metric_rollups where series_id = $1 and resolution = '1m'`, [f.seriesId]],
      insert: [
        `insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, sketch)
         values ($1, $2, '5m', now(), 1, 1, 1, 1, 1, now(), '{}') returning 1`,
        [t.projectA, f.seriesId],
      ],
      update: [`update public.metric_rollups set count = 2 where series_id = $1 and resolution = '1m' returning 1`, [f.seriesId]],
      delete: [`delete from public.metric_rollups where series_id = $1 and resolution = '1m' returning 1`, [f.seriesId]],
    },
    metric_totals: {
      select: [`select 1 from public.metric_totals where project_id = $1 and name = 'm' and resolution = '1h'`, [t.projectA]],
      insert: [
        `insert into public.metric_totals (project_id, name, resolution, bucket, count, sum, min, max, sketch)
         values ($1, 'm', '5m', now(), 1, 1, 1, 1, '{}') returning 1`,
        [t.projectA],
      ],
      update: [`update public.metric_totals set count = 2 where project_id = $1 and name = 'm' and resolution = '1h' returning 1`, [t.projectA]],
      delete: [`delete from public.metric_totals where project_id = $1 and name = 'm' and resolution = '1h' returning 1`, [t.projectA]],
    },
    metric_group_totals: {
      select: [`select 1 from public.metric_group_totals where project_id = $1 and name = 'm' and resolution = '1h'`, [t.projectA]],
      insert: [
        `insert into public.metric_group_totals (project_id, name, tag_key, tag_value, resolution, bucket, count, sum, min, max, sketch)
         values ($1, 'm', 'host', 'a', '5m', now(), 1, 1, 1, 1, '{}') returning 1`,
        [t.projectA],
      ],
      update: [`update public.metric_group_totals set count = 2 where project_id = $1 and name = 'm' and resolution = '1h' returning 1`, [t.projectA]],
      delete: [`delete from public.metric_group_totals where project_id = $1 and name = 'm' and resolution = '1h' returning 1`, [t.projectA]],
    },
    metric_definitions: {
      select: [`select 1 from public.metric_definitions where organization_id = $1 and name = 'fixture.metric'`, [t.orgId]],
      insert: [`insert into public.metric_definitions (organization_id, name, type) values ($1, 'new.metric', 'gauge') returning 1`, [t.orgId]],
      update: [`update public.metric_definitions set description = 'd' where organization_id = $1 and name = 'fixture.metric' returning 1`, [t.orgId]],
      delete: [`delete from public.metric_definitions where organization_id = $1 and name = 'fixture.metric' returning 1`, [t.orgId]],
    },
    rollup_state: {
      select: [`select 1 from private.rollup_state where key = 'fixture'`, []],
      insert: [`insert into private.rollup_state (key, watermark) values ('other', '1') returning 1`, []],
      update: [`update private.rollup_state set watermark = '2' where key = 'fixture' returning 1`, []],
      delete: [`delete from private.rollup_state where key = 'fixture' returning 1`, []],
    },
    anomaly_configs: {
      select: ['select id from public.anomaly_configs where id = $1', [f.anomalyConfigId]],
      insert: [`insert into public.anomaly_configs (project_id, organization_id, metric) values ($1, $2, 'other') returning id`, [t.projectA, t.orgId]],
      update: ['update public.anomaly_configs set enabled = false where id = $1 returning id', [f.anomalyConfigId]],
      delete: ['delete from public.anomaly_configs where id = $1 returning id', [f.anomalyConfigId]],
    },
    anomaly_detector_states: {
      select: ['select series_id from private.anomaly_detector_states where series_id = $1', [f.seriesId]],
      insert: [
        `insert into private.anomaly_detector_states (series_id, project_id, detector, config_hash, state, last_bucket) values ($1, $2, 'ewma', 'h', '{}', now()) returning series_id`,
        [f.freeSeriesId, t.projectA],
      ],
      update: [`update private.anomaly_detector_states set state = '{"x":1}' where series_id = $1 returning series_id`, [f.seriesId]],
      delete: ['delete from private.anomaly_detector_states where series_id = $1 returning series_id', [f.seriesId]],
    },
    anomaly_incidents: {
      select: ['select id from public.anomaly_incidents where id = $1', [f.incidentId]],
      insert: [`insert into public.anomaly_incidents (project_id, correlation_key, started_at) values ($1, 'service:x', now()) returning id`, [t.projectA]],
      update: ['update public.anomaly_incidents set member_count = 2 where id = $1 returning id', [f.incidentId]],
      delete: ['delete from public.anomaly_incidents where id = $1 returning id', [f.incidentId]],
    },
    anomaly_episodes: {
      select: ['select id from public.anomaly_episodes where id = $1', [f.episodeId]],
      insert: [
        `insert into public.anomaly_episodes (project_id, series_id, metric, detector, started_at, peak_score, peak_at, explanation)
         values ($1, $2, 'm', 'ewma', now(), 1, now(), '{}') returning id`,
        [t.projectA, f.seriesId],
      ],
      update: [`update public.anomaly_episodes set feedback = 'not_anomaly' where id = $1 returning id`, [f.episodeId]],
      delete: ['delete from public.anomaly_episodes where id = $1 returning id', [f.episodeId]],
    },
    export_destinations: {
      select: ['select id from public.export_destinations where id = $1', [f.exportDestinationId]],
      insert: [
        `insert into public.export_destinations (project_id, organization_id, name, bucket, access_key_id, secret_ciphertext)
         values ($1, $2, 'other', 'other-bucket', 'AKIA', 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
        [t.projectA, t.orgId],
      ],
      update: [`update public.export_destinations set name = 'renamed' where id = $1 returning id`, [f.exportDestinationId]],
      delete: ['delete from public.export_destinations where id = $1 returning id', [f.exportDestinationId]],
    },
    export_schedules: {
      select: ['select id from public.export_schedules where id = $1', [f.exportScheduleId]],
      insert: [
        `insert into public.export_schedules (project_id, organization_id, destination_id, signal, start_day) values ($1, $2, $3, 'spans', current_date) returning id`,
        [t.projectA, t.orgId, f.exportDestinationId],
      ],
      update: ['update public.export_schedules set enabled = false where id = $1 returning id', [f.exportScheduleId]],
      delete: ['delete from public.export_schedules where id = $1 returning id', [f.exportScheduleId]],
    },
    export_runs: {
      select: ['select id from public.export_runs where id = $1', [f.exportRunId]],
      insert: [
        `insert into public.export_runs (project_id, organization_id, destination_id, signal, from_time, to_time)
         values ($1, $2, $3, 'logs', now() - interval '1 day', now()) returning id`,
        [t.projectA, t.orgId, f.exportDestinationId],
      ],
      // The fixture run failed: a retry (failed -> queued) is the one change users may make.
      update: [`update public.export_runs set status = 'queued' where id = $1 returning id`, [f.exportRunId]],
      delete: ['delete from public.export_runs where id = $1 returning id', [f.exportRunId]],
    },
    // Alerting (migration ..20261206000800).
    alert_rules: {
      select: ['select id from public.alert_rules where id = $1', [f.alertRuleId]],
      insert: [`insert into public.alert_rules (project_id, organization_id, key, name, kind, query) values ($1, $2, 'other', 'Other', 'anomaly', '{}') returning id`, [t.projectA, t.orgId]],
      update: ['update public.alert_rules set enabled = false where id = $1 returning id', [f.alertRuleId]],
      delete: ['delete from public.alert_rules where id = $1 returning id', [f.alertRuleId]],
    },
    alert_instances: {
      select: ['select id from public.alert_instances where id = $1', [f.alertInstanceId]],
      insert: [
        `insert into public.alert_instances (project_id, organization_id, source, fingerprint, labels, state, severity, active_at, last_eval_at)
         values ($1, $2, 'external', repeat('b', 32), '{}', 'firing', 'critical', now(), now()) returning id`,
        [t.projectA, t.orgId],
      ],
      update: [`update public.alert_instances set state = 'resolved' where id = $1 returning id`, [f.alertInstanceId]],
      delete: ['delete from public.alert_instances where id = $1 returning id', [f.alertInstanceId]],
    },
    alert_transitions: {
      select: ['select id from public.alert_transitions where id = $1', [f.alertTransitionId]],
      insert: [
        `insert into public.alert_transitions (project_id, organization_id, fingerprint, labels, from_state, to_state, severity, at)
         values ($1, $2, repeat('b', 32), '{}', 'inactive', 'firing', 'critical', now()) returning id`,
        [t.projectA, t.orgId],
      ],
      update: [`update public.alert_transitions set reason = 'rewritten' where id = $1 returning id`, [f.alertTransitionId]],
      delete: ['delete from public.alert_transitions where id = $1 returning id', [f.alertTransitionId]],
    },
    notification_policies: {
      select: ['select project_id from public.notification_policies where project_id = $1', [t.projectA]],
      insert: [`insert into public.notification_policies (project_id, organization_id, document) values ($1, $2, '{}') returning project_id`, [t.projectB, t.orgId]],
      update: [`update public.notification_policies set document = '{"route": {}}' where project_id = $1 returning project_id`, [t.projectA]],
      delete: ['delete from public.notification_policies where project_id = $1 returning project_id', [t.projectA]],
    },
    contact_points: {
      select: ['select id from public.contact_points where id = $1', [f.contactPointId]],
      insert: [`insert into public.contact_points (project_id, organization_id, name, kind) values ($1, $2, 'other', 'webhook') returning id`, [t.projectA, t.orgId]],
      update: [`update public.contact_points set name = 'renamed' where id = $1 returning id`, [f.contactPointId]],
      delete: ['delete from public.contact_points where id = $1 returning id', [f.contactPointId]],
    },
    alert_silences: {
      select: ['select id from public.alert_silences where id = $1', [f.silenceId]],
      insert: [
        `insert into public.alert_silences (project_id, organization_id, matchers, starts_at, ends_at, comment)
         values ($1, $2, '[{"name": "a", "op": "=", "value": "b"}]', now(), now() + interval '1 hour', 'maintenance') returning id`,
        [t.projectA, t.orgId],
      ],
      update: [`update public.alert_silences set comment = 'edited' where id = $1 returning id`, [f.silenceId]],
      delete: ['delete from public.alert_silences where id = $1 returning id', [f.silenceId]],
    },
    alert_groups: {
      select: ['select id from public.alert_groups where id = $1', [f.alertGroupId]],
      insert: [
        `insert into public.alert_groups (project_id, organization_id, group_key, route_id, receiver, group_labels, first_seen_at, next_flush_at)
         values ($1, $2, 'other', 'root', 'r', '{}', now(), now()) returning id`,
        [t.projectA, t.orgId],
      ],
      update: ['update public.alert_groups set seq = 1 where id = $1 returning id', [f.alertGroupId]],
      delete: ['delete from public.alert_groups where id = $1 returning id', [f.alertGroupId]],
    },
    alert_notifications: {
      select: ['select id from public.alert_notifications where id = $1', [f.notificationId]],
      insert: [
        `insert into public.alert_notifications (project_id, organization_id, contact_point_id, group_key, seq, receiver, payload)
         values ($1, $2, $3, 'other', 1, 'r', '{}') returning id`,
        [t.projectA, t.orgId, f.contactPointId],
      ],
      // A retry (failed -> pending) goes through the API: users hold no UPDATE grant on the log.
      update: [`update public.alert_notifications set status = 'pending' where id = $1 returning id`, [f.notificationId]],
      delete: ['delete from public.alert_notifications where id = $1 returning id', [f.notificationId]],
    },
    alert_notification_attempts: {
      select: ['select id from public.alert_notification_attempts where id = $1', [f.notificationAttemptId]],
      insert: [
        `insert into public.alert_notification_attempts (notification_id, project_id, organization_id, attempt, started_at, duration_ms, ok)
         values ($1, $2, $3, 2, now(), 1, true) returning id`,
        [f.notificationId, t.projectA, t.orgId],
      ],
      update: ['update public.alert_notification_attempts set ok = false where id = $1 returning id', [f.notificationAttemptId]],
      delete: ['delete from public.alert_notification_attempts where id = $1 returning id', [f.notificationAttemptId]],
    },
    webhook_endpoints: {
      select: ['select id from public.webhook_endpoints where id = $1', [f.webhookEndpointId]],
      insert: [
        `insert into public.webhook_endpoints (organization_id, project_id, url, event_types, secret_ciphertext)
         values ($1, $2, 'https://hooks.example.com/other', '{*}', 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
        [t.orgId, t.projectA],
      ],
      update: [`update public.webhook_endpoints set description = 'renamed' where id = $1 returning id`, [f.webhookEndpointId]],
      delete: ['delete from public.webhook_endpoints where id = $1 returning id', [f.webhookEndpointId]],
    },
    webhook_events: {
      select: ['select id from public.webhook_events where id = $1', [f.webhookEventId]],
      insert: [
        `insert into public.webhook_events (organization_id, project_id, type, payload) values ($1, $2, 'api_key.created', '{}') returning id`,
        [t.orgId, t.projectA],
      ],
      update: [`update public.webhook_events set payload = '{"forged": true}' where id = $1 returning id`, [f.webhookEventId]],
      delete: ['delete from public.webhook_events where id = $1 returning id', [f.webhookEventId]],
    },
    webhook_messages: {
      select: ['select id from public.webhook_messages where id = $1', [f.webhookMessageId]],
      insert: [
        `with ev as (insert into public.webhook_events (organization_id, type, payload) values ($2, 'x.y', '{}') returning id)
         insert into public.webhook_messages (endpoint_id, organization_id, event_id, event_type) select $1, $2, ev.id, 'x.y' from ev returning id`,
        [f.webhookEndpointId, t.orgId],
      ],
      update: [`update public.webhook_messages set status = 'delivered' where id = $1 returning id`, [f.webhookMessageId]],
      delete: ['delete from public.webhook_messages where id = $1 returning id', [f.webhookMessageId]],
    },
    webhook_attempts: {
      select: ['select id from public.webhook_attempts where id = $1', [f.webhookAttemptId]],
      insert: [
        `insert into public.webhook_attempts (message_id, endpoint_id, organization_id, attempt, started_at, duration_ms, ok)
         values ($1, $2, $3, 2, now(), 1, true) returning id`,
        [f.webhookMessageId, f.webhookEndpointId, t.orgId],
      ],
      update: ['update public.webhook_attempts set ok = true where id = $1 returning id', [f.webhookAttemptId]],
      delete: ['delete from public.webhook_attempts where id = $1 returning id', [f.webhookAttemptId]],
    },
    escalation_policies: {
      select: ['select id from public.escalation_policies where id = $1', [f.escalationPolicyId]],
      insert: [`insert into public.escalation_policies (organization_id, name, document) values ($1, 'new', '{"levels": []}') returning id`, [t.orgId]],
      update: [`update public.escalation_policies set name = 'renamed' where id = $1 returning id`, [f.escalationPolicyId]],
      delete: ['delete from public.escalation_policies where id = $1 returning id', [f.escalationPolicyId]],
    },
    oncall_services: {
      select: ['select id from public.oncall_services where id = $1', [f.oncallServiceId]],
      insert: [
        `insert into public.oncall_services (organization_id, project_id, name, integration_key_hash) values ($1, $2, 'new', repeat('d', 64)) returning id`,
        [t.orgId, t.projectA],
      ],
      update: [`update public.oncall_services set name = 'renamed' where id = $1 returning id`, [f.oncallServiceId]],
      delete: ['delete from public.oncall_services where id = $1 returning id', [f.oncallServiceId]],
    },
    incidents: {
      select: ['select id from public.incidents where id = $1', [f.oncallIncidentId]],
      insert: [
        `insert into public.incidents (organization_id, project_id, service_id, group_key, title, urgency, escalation)
         values ($1, $2, $3, 'other', 't', 'high', '{"cycle": 0, "cycleStartedAt": null, "nextStep": 0, "nextAt": null, "ackExpiresAt": null}') returning id`,
        [t.orgId, t.projectA, f.oncallServiceId],
      ],
      update: [`update public.incidents set state = 'resolved' where id = $1 returning id`, [f.oncallIncidentId]],
      delete: ['delete from public.incidents where id = $1 returning id', [f.oncallIncidentId]],
    },
    incident_timeline: {
      select: ['select id from public.incident_timeline where id = $1', [f.incidentTimelineId]],
      insert: [
        `insert into public.incident_timeline (incident_id, organization_id, project_id, at, kind) values ($1, $2, $3, now(), 'note') returning id`,
        [f.oncallIncidentId, t.orgId, t.projectA],
      ],
      update: [`update public.incident_timeline set kind = 'forged' where id = $1 returning id`, [f.incidentTimelineId]],
      delete: ['delete from public.incident_timeline where id = $1 returning id', [f.incidentTimelineId]],
    },
    incident_pages: {
      select: ['select id from public.incident_pages where id = $1', [f.incidentPageId]],
      insert: [
        `insert into public.incident_pages (incident_id, organization_id, project_id, page_key, cycle, round, level, recipient_type, recipient_id, target, urgency, paged_at)
         values ($1, $2, $3, 'forged/1/0/1/user:x', 1, 0, 1, 'user', 'x', '{}', 'high', now()) returning id`,
        [f.oncallIncidentId, t.orgId, t.projectA],
      ],
      update: ['update public.incident_pages set next_rule_at = now() where id = $1 returning id', [f.incidentPageId]],
      delete: ['delete from public.incident_pages where id = $1 returning id', [f.incidentPageId]],
    },
    // The owner's own rules: each person reads and removes only their own.
    oncall_notification_rules: {
      select: ['select user_id from public.oncall_notification_rules where user_id = $1', [t.people.owner.id]],
      insert: [`insert into public.oncall_notification_rules (user_id, document) values ($1, '{}') returning user_id`, [t.people.viewer.id]],
      update: [`update public.oncall_notification_rules set document = '{}' where user_id = $1 returning user_id`, [t.people.owner.id]],
      delete: ['delete from public.oncall_notification_rules where user_id = $1 returning user_id', [t.people.owner.id]],
    },
    oncall_rate_state: {
      select: ['select user_id from private.oncall_rate_state where user_id = $1', [t.people.owner.id]],
      insert: [`insert into private.oncall_rate_state (user_id, state) values ($1, '{}') returning user_id`, [t.people.viewer.id]],
      update: [`update private.oncall_rate_state set state = '{}' where user_id = $1 returning user_id`, [t.people.owner.id]],
      delete: ['delete from private.oncall_rate_state where user_id = $1 returning user_id', [t.people.owner.id]],
    },
    oncall_pagerduty_webhooks: {
      select: ['select id from public.oncall_pagerduty_webhooks where id = $1', [f.pagerdutyWebhookId]],
      insert: [`insert into public.oncall_pagerduty_webhooks (organization_id, signing_secret_ciphertext) values ($1, 'v1.0123456789abcdef.aaaa.bbbb') returning id`, [t.orgId]],
      update: [`update public.oncall_pagerduty_webhooks set description = 'x' where id = $1 returning id`, [f.pagerdutyWebhookId]],
      delete: ['delete from public.oncall_pagerduty_webhooks where id = $1 returning id', [f.pagerdutyWebhookId]],
    },
    oncall_slack_apps: {
      select: ['select id from public.oncall_slack_apps where id = $1', [f.slackAppId]],
      insert: [`insert into public.oncall_slack_apps (organization_id, signing_secret_ciphertext) values ($1, 'v1.0123456789abcdef.aaaa.bbbb') returning id`, [t.other.orgId]],
      update: [`update public.oncall_slack_apps set updated_at = now() where id = $1 returning id`, [f.slackAppId]],
      delete: ['delete from public.oncall_slack_apps where id = $1 returning id', [f.slackAppId]],
    },
    maintenance_windows: {
      select: ['select id from public.maintenance_windows where id = $1', [f.maintenanceWindowId]],
      insert: [
        `insert into public.maintenance_windows (organization_id, project_id, service_id, starts_at, ends_at) values ($1, $2, $3, now(), now() + interval '1 hour') returning id`,
        [t.orgId, t.projectA, f.oncallServiceId],
      ],
      update: [`update public.maintenance_windows set ends_at = ends_at + interval '1 hour' where id = $1 returning id`, [f.maintenanceWindowId]],
      delete: ['delete from public.maintenance_windows where id = $1 returning id', [f.maintenanceWindowId]],
    },
    oncall_schedules: {
      select: ['select id from public.oncall_schedules where id = $1', [f.oncallScheduleId]],
      insert: [`insert into public.oncall_schedules (organization_id, name, time_zone, document) values ($1, 'new', 'UTC', '{"zone": "UTC", "layers": []}') returning id`, [t.orgId]],
      update: [`update public.oncall_schedules set name = 'renamed' where id = $1 returning id`, [f.oncallScheduleId]],
      delete: ['delete from public.oncall_schedules where id = $1 returning id', [f.oncallScheduleId]],
    },
    // The fixture feed is the member's (its creator).
    oncall_feed_tokens: {
      select: ['select id from public.oncall_feed_tokens where id = $1', [f.oncallFeedId]],
      insert: [`insert into public.oncall_feed_tokens (organization_id, schedule_id, token_hash) values ($1, $2, repeat('f', 64)) returning id`, [t.orgId, f.oncallScheduleId]],
      update: ['update public.oncall_feed_tokens set revoked_at = now() where id = $1 returning id', [f.oncallFeedId]],
      delete: ['delete from public.oncall_feed_tokens where id = $1 returning id', [f.oncallFeedId]],
    },
    // Billing (migration ..20261206002100). The fixture plan is organization A's custom plan.
    billing_plans: {
      select: ['select id from public.billing_plans where id = $1', [f.customPlanId]],
      insert: [`insert into public.billing_plans (id, name, organization_id, retention_days_limit) values ('rls-new', 'n', $1, 30) returning id`, [t.orgId]],
      update: [`update public.billing_plans set base_price_cents = 0 where id = $1 returning id`, [f.customPlanId]],
      delete: ['delete from public.billing_plans where id = $1 returning id', [f.customPlanId]],
    },
    organization_billing: {
      select: ['select organization_id from public.organization_billing where organization_id = $1', [t.orgId]],
      insert: [`insert into public.organization_billing (organization_id, company_name) values ($1, 'x') returning organization_id`, [t.other.orgId]],
      update: [`update public.organization_billing set tax_id = 'forged' where organization_id = $1 returning organization_id`, [t.orgId]],
      delete: ['delete from public.organization_billing where organization_id = $1 returning organization_id', [t.orgId]],
    },
    usage_daily: {
      select: [`select 1 from public.usage_daily where project_id = $1 and day = '2026-01-01'`, [t.projectA]],
      insert: [`insert into public.usage_daily (organization_id, project_id, day, signal, events) values ($1, $2, '2026-01-02', 'logs', 1) returning 1`, [t.orgId, t.projectA]],
      update: [`update public.usage_daily set events = 0 where project_id = $1 and day = '2026-01-01' returning 1`, [t.projectA]],
      delete: [`delete from public.usage_daily where project_id = $1 and day = '2026-01-01' returning 1`, [t.projectA]],
    },
    usage_series_daily: {
      select: [`select 1 from public.usage_series_daily where project_id = $1 and day = '2026-01-01'`, [t.projectA]],
      insert: [`insert into public.usage_series_daily (organization_id, project_id, day, active_series) values ($1, $2, '2026-01-02', 1) returning 1`, [t.orgId, t.projectA]],
      update: [`update public.usage_series_daily set active_series = 0 where project_id = $1 and day = '2026-01-01' returning 1`, [t.projectA]],
      delete: [`delete from public.usage_series_daily where project_id = $1 and day = '2026-01-01' returning 1`, [t.projectA]],
    },
    billing_quota_warnings: {
      select: [`select 1 from public.billing_quota_warnings where organization_id = $1 and period = '2026-01-01'`, [t.orgId]],
      insert: [`insert into public.billing_quota_warnings (organization_id, period, signal, threshold, used, events_limit) values ($1, '2026-02-01', 'logs', 80, 8, 10) returning 1`, [t.orgId]],
      update: [`update public.billing_quota_warnings set used = 0 where organization_id = $1 and period = '2026-01-01' returning 1`, [t.orgId]],
      delete: [`delete from public.billing_quota_warnings where organization_id = $1 and period = '2026-01-01' returning 1`, [t.orgId]],
    },
    usage_reported: {
      select: [`select 1 from public.usage_reported where organization_id = $1 and period = '2026-01-01'`, [t.orgId]],
      insert: [`insert into public.usage_reported (organization_id, period, signal, events) values ($1, '2026-02-01', 'logs', 1) returning 1`, [t.orgId]],
      update: [`update public.usage_reported set events = 0 where organization_id = $1 and period = '2026-01-01' returning 1`, [t.orgId]],
      delete: [`delete from public.usage_reported where organization_id = $1 and period = '2026-01-01' returning 1`, [t.orgId]],
    },
    query_usage: {
      select: [`select 1 from public.query_usage where project_id = $1 and kind = 'metrics'`, [t.projectA]],
      insert: [`insert into public.query_usage (organization_id, project_id, kind) values ($1, $2, 'logs') returning 1`, [t.orgId, t.projectA]],
      update: [`update public.query_usage set rows = 0 where project_id = $1 and kind = 'metrics' returning 1`, [t.projectA]],
      delete: [`delete from public.query_usage where project_id = $1 and kind = 'metrics' returning 1`, [t.projectA]],
    },
    stripe_events: {
      select: [`select id from private.stripe_events where id = 'evt_rls'`, []],
      insert: [`insert into private.stripe_events (id, type) values ('evt_rls_new', 'x') returning id`, []],
      update: [`update private.stripe_events set type = 'y' where id = 'evt_rls' returning id`, []],
      delete: [`delete from private.stripe_events where id = 'evt_rls' returning id`, []],
    },
    // A shared dashboard of project A made by the assigned member (its creator).
    dashboards: {
      select: ['select id from public.dashboards where id = $1', [f.dashboardId]],
      insert: [`insert into public.dashboards (project_id, organization_id, title) values ($1, $2, 'New') returning id`, [t.projectA, t.orgId]],
      update: [`update public.dashboards set title = 'Renamed' where id = $1 returning id`, [f.dashboardId]],
      delete: ['delete from public.dashboards where id = $1 returning id', [f.dashboardId]],
    },
    job_runs: {
      select: ['select id from private.job_runs where id = $1', [f.jobRunId]],
      insert: [`insert into private.job_runs (job, started_at) values ('test', now()) returning id`, []],
      update: [`update private.job_runs set summary = '{"x":1}' where id = $1 returning id`, [f.jobRunId]],
      delete: ['delete from private.job_runs where id = $1 returning id', [f.jobRunId]],
    },
  };
}

const ALL_MEMBERS: MatrixActor[] = ['owner', 'admin', 'member', 'unassigned', 'viewer', 'service_role'];
const MANAGERS: MatrixActor[] = ['owner', 'admin', 'service_role'];
const PROJECT_READERS: MatrixActor[] = ['owner', 'admin', 'member', 'viewer', 'service_role'];
const SERVICE: MatrixActor[] = ['service_role'];
/** Who changes data in project A: owners, admins, the member assigned to it. */
const ALERT_WRITERS: MatrixActor[] = ['owner', 'admin', 'member', 'service_role'];

/** Who is allowed, per table and operation. Everyone else must be denied. */
/** The jobs' own tables, moved out of the Data API's schema into private (migration ..20261206000500). */
const INTERNAL = ['rollup_state', 'job_runs', 'anomaly_detector_states', 'oncall_rate_state', 'stripe_events'];

const EXPECTED: Record<string, Record<Op, MatrixActor[]>> = {
  organizations: { select: ALL_MEMBERS, insert: SERVICE, update: MANAGERS, delete: ['owner', 'service_role'] },
  // Anyone may leave: the viewer deleting their own membership is allowed.
  organization_members: { select: ALL_MEMBERS, insert: MANAGERS, update: MANAGERS, delete: [...MANAGERS, 'viewer'] },
  projects: { select: PROJECT_READERS, insert: MANAGERS, update: ['owner', 'admin', 'member', 'service_role'], delete: MANAGERS },
  project_members: { select: PROJECT_READERS, insert: MANAGERS, update: SERVICE, delete: MANAGERS },
  invitations: { select: MANAGERS, insert: MANAGERS, update: MANAGERS, delete: MANAGERS },
  // The member's own profile: colleagues read it, only the member edits it.
  profiles: { select: ALL_MEMBERS, insert: SERVICE, update: ['member', 'service_role'], delete: SERVICE },
  // Append-only for everyone, the service role included.
  audit_log: { select: MANAGERS, insert: SERVICE, update: [], delete: [] },
  api_keys: { select: PROJECT_READERS, insert: MANAGERS, update: MANAGERS, delete: MANAGERS },
  job_runs: { select: SERVICE, insert: SERVICE, update: SERVICE, delete: SERVICE },
  oncall_rate_state: { select: SERVICE, insert: SERVICE, update: SERVICE, delete: SERVICE },
  // Members set no limits; deleting the row (back to defaults) is for the service role.
  project_ingest_settings: { select: PROJECT_READERS, insert: MANAGERS, update: MANAGERS, delete: SERVICE },
  // Readers see a project's log retention; owners and admins change it; back to defaults is for the service role.
  log_retention_settings: { select: PROJECT_READERS, insert: MANAGERS, update: MANAGERS, delete: SERVICE },
  // Telemetry is written only by the ingest path (service role) and read under RLS.
  metric_series: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  metric_points: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  metric_histogram_points: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  logs: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  spans: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  log_counts: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  ingest_usage: { select: MANAGERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  // Billing: members see their organization's custom plan (and the shared ones); owners alone their
  // billing details; usage as the projects one may read (owners and admins all); warnings managers;
  // every write is the billing function's or the meter's (service role).
  billing_plans: { select: ALL_MEMBERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  organization_billing: { select: ['owner', 'service_role'], insert: SERVICE, update: SERVICE, delete: SERVICE },
  usage_daily: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  usage_series_daily: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  billing_quota_warnings: { select: MANAGERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  usage_reported: { select: SERVICE, insert: SERVICE, update: SERVICE, delete: SERVICE },
  // Query metering: written by the API as the service role, read by the meter; users read query
  // usage through usage_daily, never these rows (nor can they forge or erase one).
  query_usage: { select: SERVICE, insert: SERVICE, update: SERVICE, delete: SERVICE },
  stripe_events: { select: SERVICE, insert: SERVICE, update: SERVICE, delete: SERVICE },
  series_rejections: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  metric_rollups: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  metric_totals: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  metric_group_totals: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  // Internal tables, in private (migration ..0500): the jobs' alone.
  rollup_state: { select: SERVICE, insert: SERVICE, update: SERVICE, delete: SERVICE },
  metric_definitions: { select: ALL_MEMBERS, insert: MANAGERS, update: MANAGERS, delete: SERVICE },
  // Anomaly detection: readers see configs, episodes and incidents; owners and admins configure;
  // members who may change the project give feedback on episodes; the scanner writes the rest.
  anomaly_configs: { select: PROJECT_READERS, insert: MANAGERS, update: MANAGERS, delete: MANAGERS },
  anomaly_detector_states: { select: SERVICE, insert: SERVICE, update: SERVICE, delete: SERVICE },
  anomaly_incidents: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  anomaly_episodes: { select: PROJECT_READERS, insert: SERVICE, update: ['owner', 'admin', 'member', 'service_role'], delete: SERVICE },
  // Exports: readers see destinations (never the secret column), schedules and runs; owners and admins
  // manage destinations and schedules; whoever may change the project requests and retries runs; the
  // export job (service role) writes the rest.
  export_destinations: { select: PROJECT_READERS, insert: MANAGERS, update: SERVICE, delete: MANAGERS },
  export_schedules: { select: PROJECT_READERS, insert: MANAGERS, update: MANAGERS, delete: MANAGERS },
  export_runs: { select: PROJECT_READERS, insert: ['owner', 'admin', 'member', 'service_role'], update: ['owner', 'admin', 'member', 'service_role'], delete: SERVICE },
  // Alerting: readers see everything but contact point secrets; whoever may change the project manages
  // its rules and silences (a silence is ended, never deleted); owners and admins set policies and
  // contact points; instances, history, groups and the notification log are the jobs' (service role).
  alert_rules: { select: PROJECT_READERS, insert: ALERT_WRITERS, update: ALERT_WRITERS, delete: ALERT_WRITERS },
  alert_instances: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  alert_transitions: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  notification_policies: { select: PROJECT_READERS, insert: MANAGERS, update: MANAGERS, delete: MANAGERS },
  contact_points: { select: PROJECT_READERS, insert: MANAGERS, update: MANAGERS, delete: MANAGERS },
  alert_silences: { select: PROJECT_READERS, insert: ALERT_WRITERS, update: ALERT_WRITERS, delete: SERVICE },
  alert_groups: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  alert_notifications: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  alert_notification_attempts: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  // Webhooks: owners and admins of the organization manage its endpoints (never reading a secret) and
  // read their events, messages and attempts; the outbox triggers and the delivery job write the rest.
  webhook_endpoints: { select: MANAGERS, insert: SERVICE, update: MANAGERS, delete: MANAGERS },
  webhook_events: { select: MANAGERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  webhook_messages: { select: MANAGERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  webhook_attempts: { select: MANAGERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  // On-call: an organization's members read its escalation policies, its owners and admins manage
  // them; readers see a project's services (never the routing key's hash), owners and admins change
  // and remove them (creating one is the API's: it generates the key); incidents and their timeline
  // are read by the project's readers and changed only by the API (service role); nobody rewrites
  // the timeline, the service role included.
  escalation_policies: { select: ALL_MEMBERS, insert: SERVICE, update: MANAGERS, delete: MANAGERS },
  oncall_services: { select: PROJECT_READERS, insert: SERVICE, update: MANAGERS, delete: MANAGERS },
  incidents: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  incident_timeline: { select: PROJECT_READERS, insert: SERVICE, update: [], delete: SERVICE },
  // Schedules: members read, owners and admins rename and remove; the document is the API's (service
  // role). Feeds: created by the API; their creator (and owners, admins) read and revoke them.
  oncall_schedules: { select: ALL_MEMBERS, insert: SERVICE, update: MANAGERS, delete: MANAGERS },
  // Maintenance windows: the project's readers see them; only the API (after authorizing owners and admins) writes them.
  // An organization's Slack app: its owners and admins see that there is one (never the secret); only the API writes it.
  oncall_pagerduty_webhooks: { select: MANAGERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  oncall_slack_apps: { select: MANAGERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  maintenance_windows: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  oncall_feed_tokens: { select: [...MANAGERS, 'member'], insert: SERVICE, update: [...MANAGERS, 'member'], delete: SERVICE },
  // Pages are the escalation job's (readers see them); a person's notification rules are theirs
  // alone to read and remove, written only by the API after validating them.
  incident_pages: { select: PROJECT_READERS, insert: SERVICE, update: SERVICE, delete: SERVICE },
  oncall_notification_rules: { select: ['owner', 'service_role'], insert: SERVICE, update: SERVICE, delete: ['owner', 'service_role'] },
  // Dashboards: readers see shared ones; whoever may change the project adds their own; the creator
  // (here the member), owners and admins change and remove them. Private ones: the test below.
  dashboards: { select: PROJECT_READERS, insert: ALERT_WRITERS, update: ALERT_WRITERS, delete: ALERT_WRITERS },
};

describe('RLS matrix', () => {
  let env: TestEnv;
  let tenant: Tenant;
  let fixture: Fixture;

  beforeAll(async () => {
    env = await createTestEnv();
    tenant = await createTenant(env);
    const fresh = await env.createUser();
    const profileless = await env.createUser();
    await env.db.query('delete from public.profiles where id = $1', [profileless.id]);
    const [inv] = await env.db.query<{ id: string }>(
      `insert into public.invitations (organization_id, email, role, token_hash, expires_at) values ($1, 'x@example.test', 'viewer', repeat('a', 64), now() + interval '1 day') returning id`,
      [tenant.orgId],
    );
    const [audit] = await env.db.query<{ id: string }>(`select id from public.audit_log where organization_id = $1 order by id limit 1`, [tenant.orgId]);
    const [run] = await env.db.query<{ id: string }>(`insert into private.job_runs (job, started_at) values ('fixture', now()) returning id`);
    await env.db.query('insert into public.project_ingest_settings (project_id, organization_id) values ($1, $2)', [tenant.projectA, tenant.orgId]);
    await env.db.query('insert into public.log_retention_settings (project_id, organization_id) values ($1, $2)', [tenant.projectA, tenant.orgId]);
    const [series] = await env.db.query<{ id: string }>(
      `insert into public.metric_series (project_id, name, type, fingerprint) values ($1, 'm', 'gauge', 'fp') returning id`,
      [tenant.projectA],
    );
    const p = tenant.projectA;
    await env.db.query('insert into public.metric_points (project_id, series_id, time, value, event_key) values ($1, $2, now(), 1, 1)', [p, series!.id]);
    await env.db.query(`insert into public.metric_histogram_points (project_id, series_id, time, count, buckets, event_key) values ($1, $2, now(), 1, '{}', 1)`, [p, series!.id]);
    await env.db.query(`insert into public.logs (project_id, time, level, service, message, event_key) values ($1, now(), 'info', 's', 'm', 1)`, [p]);
    await env.db.query(
      `insert into public.spans (project_id, trace_id, span_id, name, service, start_time, end_time, duration_ms, kind, status, event_key)
       values ($1, 't', 's', 'n', 's', now(), now(), 0, 'server', 'ok', 1)`,
      [p],
    );
    const [usage] = await env.db.query<{ id: string }>('insert into public.ingest_usage (project_id, organization_id, events, bytes) values ($1, $2, 1, 1) returning id', [p, tenant.orgId]);
    await env.db.query(`insert into public.series_rejections (project_id, day, metric_name) values ($1, current_date, 'm')`, [p]);
    await env.db.query(
      `insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, sketch)
       values ($1, $2, '1m', now(), 1, 1, 1, 1, 1, now(), '{}')`,
      [p, series!.id],
    );
    await env.db.query(`insert into public.metric_totals (project_id, name, resolution, bucket, count, sum, min, max, sketch) values ($1, 'm', '1h', now(), 1, 1, 1, 1, '{}')`, [p]);
    await env.db.query(
      `insert into public.metric_group_totals (project_id, name, tag_key, tag_value, resolution, bucket, count, sum, min, max, sketch) values ($1, 'm', 'host', 'a', '1h', now(), 1, 1, 1, 1, '{}')`,
      [p],
    );
    await env.db.query(`insert into private.rollup_state (key, watermark) values ('fixture', '1')`);
    await env.db.query(`insert into public.metric_definitions (organization_id, name, type) values ($1, 'fixture.metric', 'gauge')`, [tenant.orgId]);
    const [free] = await env.db.query<{ id: string }>(
      `insert into public.metric_series (project_id, name, type, fingerprint) values ($1, 'm-free', 'gauge', 'fp-free') returning id`,
      [p],
    );
    const [config] = await env.db.query<{ id: string }>(
      `insert into public.anomaly_configs (project_id, organization_id, metric, config) values ($1, $2, 'm', '{"detector":"mad"}') returning id`,
      [p, tenant.orgId],
    );
    await env.db.query(
      `insert into private.anomaly_detector_states (series_id, project_id, detector, config_hash, state, last_bucket) values ($1, $2, 'ewma', 'h', '{}', now())`,
      [series!.id, p],
    );
    const [incident] = await env.db.query<{ id: string }>(
      `insert into public.anomaly_incidents (project_id, correlation_key, started_at, member_count) values ($1, 'service:s', now(), 1) returning id`,
      [p],
    );
    const [episode] = await env.db.query<{ id: string }>(
      `insert into public.anomaly_episodes (project_id, series_id, metric, detector, started_at, peak_score, peak_at, explanation, incident_id)
       values ($1, $2, 'm', 'ewma', now(), 0.9, now(), '{}', $3) returning id`,
      [p, series!.id, incident!.id],
    );
    const [destination] = await env.db.query<{ id: string }>(
      `insert into public.export_destinations (project_id, organization_id, name, bucket, access_key_id, secret_ciphertext)
       values ($1, $2, 'fixture', 'fixture-bucket', 'AKIA', 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
      [p, tenant.orgId],
    );
    const [exportSchedule] = await env.db.query<{ id: string }>(
      `insert into public.export_schedules (project_id, organization_id, destination_id, signal, start_day) values ($1, $2, $3, 'logs', current_date) returning id`,
      [p, tenant.orgId, destination!.id],
    );
    const [exportRun] = await env.db.query<{ id: string }>(
      `insert into public.export_runs (project_id, organization_id, destination_id, signal, from_time, to_time, status, error)
       values ($1, $2, $3, 'logs', now() - interval '1 day', now(), 'failed', 'fixture') returning id`,
      [p, tenant.orgId, destination!.id],
    );
    const [alertRule] = await env.db.query<{ id: string }>(
      `insert into public.alert_rules (project_id, organization_id, key, name, kind, query, condition)
       values ($1, $2, 'fixture', 'Fixture', 'metric', '{"metric": "m"}', '{"op": ">", "critical": 1}') returning id`,
      [p, tenant.orgId],
    );
    const [alertInstance] = await env.db.query<{ id: string }>(
      `insert into public.alert_instances (project_id, organization_id, rule_id, source, fingerprint, labels, state, severity, active_at, last_eval_at)
       values ($1, $2, $3, 'rule', repeat('a', 32), '{"alertname": "Fixture"}', 'firing', 'critical', now(), now()) returning id`,
      [p, tenant.orgId, alertRule!.id],
    );
    const [alertTransition] = await env.db.query<{ id: string }>(
      `insert into public.alert_transitions (project_id, organization_id, rule_id, fingerprint, labels, from_state, to_state, severity, at)
       values ($1, $2, $3, repeat('a', 32), '{}', 'pending', 'firing', 'critical', now()) returning id`,
      [p, tenant.orgId, alertRule!.id],
    );
    await env.db.query(`insert into public.notification_policies (project_id, organization_id, document) values ($1, $2, '{}')`, [p, tenant.orgId]);
    const [contactPoint] = await env.db.query<{ id: string }>(
      `insert into public.contact_points (project_id, organization_id, name, kind, settings) values ($1, $2, 'fixture', 'webhook', '{"url": "http://127.0.0.1:9"}') returning id`,
      [p, tenant.orgId],
    );
    const [silence] = await env.db.query<{ id: string }>(
      `insert into public.alert_silences (project_id, organization_id, matchers, starts_at, ends_at, comment)
       values ($1, $2, '[{"name": "a", "op": "=", "value": "b"}]', now(), now() + interval '1 hour', 'fixture') returning id`,
      [p, tenant.orgId],
    );
    const [alertGroup] = await env.db.query<{ id: string }>(
      `insert into public.alert_groups (project_id, organization_id, group_key, route_id, receiver, group_labels, first_seen_at, next_flush_at)
       values ($1, $2, 'fixture', 'root', 'fixture', '{}', now(), now()) returning id`,
      [p, tenant.orgId],
    );
    const [notification] = await env.db.query<{ id: string }>(
      `insert into public.alert_notifications (project_id, organization_id, contact_point_id, group_key, seq, receiver, payload, status)
       values ($1, $2, $3, 'fixture', 1, 'fixture', '{}', 'failed') returning id`,
      [p, tenant.orgId, contactPoint!.id],
    );
    const [attempt] = await env.db.query<{ id: string }>(
      `insert into public.alert_notification_attempts (notification_id, project_id, organization_id, attempt, started_at, duration_ms, ok, status_code)
       values ($1, $2, $3, 1, now(), 12, false, 500) returning id`,
      [notification!.id, p, tenant.orgId],
    );
    const [webhookEndpoint] = await env.db.query<{ id: string }>(
      `insert into public.webhook_endpoints (organization_id, project_id, url, event_types, secret_ciphertext)
       values ($1, $2, 'https://hooks.example.com/fixture', '{*}', 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
      [tenant.orgId, p],
    );
    const [webhookEvent] = await env.db.query<{ id: string }>(
      `insert into public.webhook_events (organization_id, project_id, endpoint_id, type, payload) values ($1, $2, $3, 'webhook.test', '{}') returning id`,
      [tenant.orgId, p, webhookEndpoint!.id],
    );
    const [webhookMessage] = await env.db.query<{ id: string }>('select id from public.webhook_messages where event_id = $1', [webhookEvent!.id]);
    const [webhookAttempt] = await env.db.query<{ id: string }>(
      `insert into public.webhook_attempts (message_id, endpoint_id, organization_id, attempt, started_at, duration_ms, ok, status_code)
       values ($1, $2, $3, 1, now(), 12, false, 500) returning id`,
      [webhookMessage!.id, webhookEndpoint!.id, tenant.orgId],
    );
    const [escalationPolicy] = await env.db.query<{ id: string }>(
      `insert into public.escalation_policies (organization_id, name, document) values ($1, 'primary', '{"levels": []}') returning id`,
      [tenant.orgId],
    );
    const [oncallService] = await env.db.query<{ id: string }>(
      `insert into public.oncall_services (organization_id, project_id, name, escalation_policy_id, integration_key_hash) values ($1, $2, 'api', $3, repeat('e', 64)) returning id`,
      [tenant.orgId, p, escalationPolicy!.id],
    );
    const [oncallIncident] = await env.db.query<{ id: string }>(
      `insert into public.incidents (organization_id, project_id, service_id, group_key, title, urgency, escalation)
       values ($1, $2, $3, 'g', 't', 'high', '{"cycle": 0, "cycleStartedAt": null, "nextStep": 0, "nextAt": null, "ackExpiresAt": null}') returning id`,
      [tenant.orgId, p, oncallService!.id],
    );
    const [timelineRow] = await env.db.query<{ id: string }>(
      `insert into public.incident_timeline (incident_id, organization_id, project_id, at, kind) values ($1, $2, $3, now(), 'opened') returning id`,
      [oncallIncident!.id, tenant.orgId, p],
    );
    const [incidentPage] = await env.db.query<{ id: string }>(
      `insert into public.incident_pages (incident_id, organization_id, project_id, page_key, cycle, round, level, recipient_type, recipient_id, target, urgency, paged_at)
       values ($1, $2, $3, $4, 1, 0, 1, 'user', 'u', '{"type": "user", "id": "u"}', 'high', now()) returning id`,
      [oncallIncident!.id, tenant.orgId, p, `${oncallIncident!.id}/1/0/1/user:u`],
    );
    await env.db.query(`insert into public.oncall_notification_rules (user_id, document) values ($1, '{"methods": [], "high": [], "low": []}')`, [tenant.people.owner.id]);
    await env.db.query(`insert into private.oncall_rate_state (user_id, state) values ($1, '{}')`, [tenant.people.owner.id]);
    const [oncallSchedule] = await env.db.query<{ id: string }>(
      `insert into public.oncall_schedules (organization_id, name, time_zone, document) values ($1, 'primary', 'UTC', '{"zone": "UTC", "layers": []}') returning id`,
      [tenant.orgId],
    );
    const [oncallFeed] = await env.db.query<{ id: string }>(
      `insert into public.oncall_feed_tokens (organization_id, schedule_id, token_hash, created_by) values ($1, $2, repeat('e', 64), $3) returning id`,
      [tenant.orgId, oncallSchedule!.id, tenant.people.member.id],
    );
    const [maintenanceWindow] = await env.db.query<{ id: string }>(
      `insert into public.maintenance_windows (organization_id, project_id, service_id, starts_at, ends_at) values ($1, $2, $3, now() + interval '1 day', now() + interval '2 days') returning id`,
      [tenant.orgId, p, oncallService!.id],
    );
    const [slackApp] = await env.db.query<{ id: string }>(
      `insert into public.oncall_slack_apps (organization_id, signing_secret_ciphertext) values ($1, 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
      [tenant.orgId],
    );
    const [pdWebhook] = await env.db.query<{ id: string }>(
      `insert into public.oncall_pagerduty_webhooks (organization_id, signing_secret_ciphertext) values ($1, 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
      [tenant.orgId],
    );
    const customPlanId = `rls-${tenant.orgId.slice(0, 8)}`;
    await env.db.query(`insert into public.billing_plans (id, name, organization_id, retention_days_limit) values ($1, 'Custom', $2, 400)`, [customPlanId, tenant.orgId]);
    await env.db.query(`insert into public.organization_billing (organization_id, company_name) values ($1, 'Acme')`, [tenant.orgId]);
    await env.db.query(`insert into public.usage_daily (organization_id, project_id, day, signal, events) values ($1, $2, '2026-01-01', 'logs', 1)`, [tenant.orgId, tenant.projectA]);
    await env.db.query(`insert into public.usage_series_daily (organization_id, project_id, day, active_series) values ($1, $2, '2026-01-01', 1)`, [tenant.orgId, tenant.projectA]);
    await env.db.query(`insert into public.billing_quota_warnings (organization_id, period, signal, threshold, used, events_limit) values ($1, '2026-01-01', 'logs', 80, 8, 10)`, [tenant.orgId]);
    await env.db.query(`insert into public.usage_reported (organization_id, period, signal, events) values ($1, '2026-01-01', 'logs', 1)`, [tenant.orgId]);
    await env.db.query(`insert into public.query_usage (organization_id, project_id, kind, rows) values ($1, $2, 'metrics', 3)`, [tenant.orgId, tenant.projectA]);
    await env.db.query(`insert into private.stripe_events (id, type) values ('evt_rls', 'x')`);
    const [dashboard] = await env.db.query<{ id: string }>(
      `insert into public.dashboards (project_id, organization_id, title, created_by) values ($1, $2, 'Fixture', $3) returning id`,
      [p, tenant.orgId, tenant.people.member.id],
    );
    fixture = {
      dashboardId: dashboard!.id,
      customPlanId,
      pagerdutyWebhookId: pdWebhook!.id,
      slackAppId: slackApp!.id,
      maintenanceWindowId: maintenanceWindow!.id,
      oncallScheduleId: oncallSchedule!.id,
      oncallFeedId: oncallFeed!.id,
      incidentPageId: incidentPage!.id,
      escalationPolicyId: escalationPolicy!.id,
      oncallServiceId: oncallService!.id,
      oncallIncidentId: oncallIncident!.id,
      incidentTimelineId: Number(timelineRow!.id),
      webhookEndpointId: webhookEndpoint!.id,
      webhookEventId: webhookEvent!.id,
      webhookMessageId: webhookMessage!.id,
      webhookAttemptId: Number(webhookAttempt!.id),
      alertRuleId: alertRule!.id,
      alertInstanceId: alertInstance!.id,
      alertTransitionId: Number(alertTransition!.id),
      contactPointId: contactPoint!.id,
      silenceId: silence!.id,
      alertGroupId: alertGroup!.id,
      notificationId: notification!.id,
      notificationAttemptId: Number(attempt!.id),
      exportDestinationId: destination!.id,
      exportScheduleId: exportSchedule!.id,
      exportRunId: exportRun!.id,
      freshUserId: fresh.id,
      invitationId: inv!.id,
      auditId: Number(audit!.id),
      jobRunId: Number(run!.id),
      profilelessUserId: profileless.id,
      seriesId: Number(series!.id),
      usageId: Number(usage!.id),
      freeSeriesId: Number(free!.id),
      anomalyConfigId: config!.id,
      incidentId: incident!.id,
      episodeId: episode!.id,
    };
  });
  afterAll(async () => env?.close());

  class Rollback extends Error {}

  async function attempt(actor: MatrixActor, sql: string, params: unknown[]): Promise<'allow' | 'deny'> {
    const claims =
      actor === 'anon' ? { role: 'anon' } : actor === 'service_role' ? { role: 'service_role' } : { role: 'authenticated', sub: tenant.people[actor].id };
    let outcome: 'allow' | 'deny' = 'deny';
    try {
      await env.db.transaction(async (tx) => {
        await tx.query(`set local role ${claims.role}`);
        await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
        const rows = await tx.query(sql, params);
        if (rows.length > 1) throw new Error(`statement touched ${rows.length} rows: ${sql}`);
        outcome = rows.length === 1 ? 'allow' : 'deny';
        throw new Rollback();
      });
    } catch (err) {
      if (err instanceof Rollback) return outcome;
      const state = sqlState(err);
      if (state === '42501' || state === 'OA403') return 'deny';
      throw err;
    }
    return outcome;
  }

  const cases = Object.entries(EXPECTED).flatMap(([table, ops]) =>
    (Object.keys(ops) as Op[]).flatMap((op) =>
      ACTORS.map((actor) => ({ table, op, actor, expected: ops[op].includes(actor) ? 'allow' : 'deny' })),
    ),
  );

  it.each(cases)('$table $op by $actor: $expected', async ({ table, op, actor, expected }) => {
    const [sql, raw] = statements(tenant, fixture)[table]![op as Op];
    const params = raw.map((v) => (v === '$PROJECT_A' ? tenant.projectA : v === '$SERIES' ? fixture.seriesId : v));
    expect(await attempt(actor, sql, params)).toBe(expected);
  });

  it('covers every table in the public schema, and the internal tables kept in private', async () => {
    const tables = await env.db.query<{ relname: string }>(
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where (n.nspname = 'public' or (n.nspname = 'private' and c.relname = any($1::text[]))) and c.relkind in ('r', 'p') order by 1`,
      [INTERNAL],
    );
    expect(tables.map((t) => t.relname).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('an admin-scoped API key manages keys of its own project only', async () => {
    const key = { role: 'authenticated', observai_key: { id: tenant.keyA.id, project_id: tenant.projectA, organization_id: tenant.orgId, scopes: ['admin'] } };
    const run = async (sql: string, params: unknown[]) =>
      env.db
        .transaction(async (tx) => {
          await tx.query('set local role authenticated');
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(key)]);
          const rows = await tx.query(sql, params);
          throw Object.assign(new Rollback(), { rows: rows.length });
        })
        .catch((e) => (e instanceof Rollback ? (e as Rollback & { rows: number }).rows : sqlState(e)));
    expect(await run('select id from public.api_keys where project_id = $1', [tenant.projectA])).toBe(1);
    expect(await run('select id from public.api_keys where id = $1', [tenant.other.keyId])).toBe(0);
    const { prefix, hash } = await generateApiKey();
    expect(
      await run(`insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'n', $3, $4, array['read']) returning id`, [
        tenant.orgId,
        tenant.projectB,
        prefix,
        hash,
      ]),
    ).toBe('42501');
    expect(await run(`update public.api_keys set name = 'x' where id = $1 returning id`, [tenant.keyA.id])).toBe(1);
    expect(await run('select id from public.projects', [])).toBe(1);
  });

  it('an admin-scoped API key manages alert rules of its own project only (rules as code from CI)', async () => {
    const claims = (scopes: string[]) => ({ role: 'authenticated', observai_key: { id: tenant.keyA.id, project_id: tenant.projectA, organization_id: tenant.orgId, scopes } });
    const run = async (scopes: string[], sql: string, params: unknown[]) =>
      env.db
        .transaction(async (tx) => {
          await tx.query('set local role authenticated');
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims(scopes))]);
          const rows = await tx.query(sql, params);
          throw Object.assign(new Rollback(), { rows: rows.length });
        })
        .catch((e) => (e instanceof Rollback ? (e as Rollback & { rows: number }).rows : sqlState(e)));
    const insert = `insert into public.alert_rules (project_id, organization_id, key, name, kind, query) values ($1, $2, 'from-ci', 'CI', 'anomaly', '{}') returning id`;
    expect(await run(['admin'], insert, [tenant.projectA, tenant.orgId])).toBe(1);
    expect(await run(['admin'], insert, [tenant.projectB, tenant.orgId])).toBe('42501');
    expect(await run(['admin'], 'update public.alert_rules set enabled = false where id = $1 returning id', [fixture.alertRuleId])).toBe(1);
    // A read key reads the rules and changes none.
    expect(await run(['read'], 'select id from public.alert_rules where id = $1', [fixture.alertRuleId])).toBe(1);
    expect(await run(['read'], insert, [tenant.projectA, tenant.orgId])).toBe('42501');
    expect(await run(['read'], 'delete from public.alert_rules where id = $1 returning id', [fixture.alertRuleId])).toBe(0);
  });

  it('dashboards: a private one is its creator\'s alone; writers change only their own unless owner or admin; only the creator makes one private; keys never write', async () => {
    type Who = 'owner' | 'admin' | 'member' | 'viewer' | 'readKey' | 'adminKey';
    const claims = (who: Who) =>
      who === 'readKey' || who === 'adminKey'
        ? { role: 'authenticated', observai_key: { id: tenant.keyA.id, project_id: tenant.projectA, organization_id: tenant.orgId, scopes: [who === 'readKey' ? 'read' : 'admin'] } }
        : { role: 'authenticated', sub: tenant.people[who].id };
    const run = async (who: Who, sql: string, params: unknown[]) =>
      env.db
        .transaction(async (tx) => {
          await tx.query('set local role authenticated');
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims(who))]);
          const rows = await tx.query(sql, params);
          throw Object.assign(new Rollback(), { rows: rows.length });
        })
        .catch((e) => (e instanceof Rollback ? (e as Rollback & { rows: number }).rows : sqlState(e)));
    const make = async (by: 'member' | 'admin', visibility: string) =>
      (
        await env.db.query<{ id: string }>(
          `insert into public.dashboards (project_id, organization_id, title, visibility, created_by) values ($1, $2, 'D', $3, $4) returning id`,
          [tenant.projectA, tenant.orgId, visibility, tenant.people[by].id],
        )
      )[0]!.id;
    const select = 'select id from public.dashboards where id = $1';
    const rename = `update public.dashboards set title = 'R' where id = $1 returning id`;

    const secret = await make('member', 'private');
    expect(await run('member', select, [secret])).toBe(1);
    for (const who of ['owner', 'admin', 'viewer', 'readKey'] as const) expect(await run(who, select, [secret]), who).toBe(0);
    expect(await run('owner', rename, [secret])).toBe(0);
    expect(await run('admin', 'delete from public.dashboards where id = $1 returning id', [secret])).toBe(0);

    const byAdmin = await make('admin', 'organization');
    expect(await run('member', select, [byAdmin])).toBe(1);
    expect(await run('member', rename, [byAdmin])).toBe(0);
    expect(await run('member', 'delete from public.dashboards where id = $1 returning id', [byAdmin])).toBe(0);
    expect(await run('owner', rename, [byAdmin])).toBe(1);
    expect(await run('readKey', select, [byAdmin])).toBe(1);

    // An admin cannot make a colleague's dashboard private; its creator can.
    expect(await run('admin', `update public.dashboards set visibility = 'private' where id = $1 returning id`, [fixture.dashboardId])).toBe('42501');
    expect(await run('member', `update public.dashboards set visibility = 'private' where id = $1 returning id`, [fixture.dashboardId])).toBe(1);

    // The creator is the inserting user, never chosen; API keys (no user) insert nothing, and change nothing.
    const insert = `insert into public.dashboards (project_id, organization_id, title) values ($1, $2, 'K') returning id`;
    expect(await run('adminKey', insert, [tenant.projectA, tenant.orgId])).toBe('42501');
    expect(await run('adminKey', rename, [fixture.dashboardId])).toBe(0);
    expect(await run('owner', `insert into public.dashboards (project_id, organization_id, title, created_by) values ($1, $2, 'F', $3) returning id`, [tenant.projectA, tenant.orgId, tenant.people.member.id])).toBe('42501');
    // The version is the trigger's: users cannot write it, and every update moves it on.
    expect(await run('member', 'update public.dashboards set version = 99 where id = $1 returning id', [fixture.dashboardId])).toBe('42501');
    const bumped = `with u as (update public.dashboards set title = 'V' where id = $1 returning version) select version from u where version = 2`;
    expect(await run('member', bumped, [fixture.dashboardId])).toBe(1);
  });
});
