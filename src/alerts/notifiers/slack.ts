/**
 * Slack incoming webhook. The webhook URL carries the token, so it is the contact point's secret
 * (sealed at rest, never shown, never in an error); the public settings hold only presentation.
 *
 * The message: a header (status emoji, FIRING:count or RESOLVED, alert name), a context line, one
 * section per alert (at most 10, then "and N more") with summary, description and labels, and a row
 * of link buttons (each alert's url, the product's externalUrl). `text` is the plain fallback for
 * notifications. Slack answers 200 "ok", or an error word (`invalid_payload`, `no_service`,
 * `channel_is_archived` with 410) which ends up in the delivery error; 429 carries Retry-After.
 */
import { z } from 'zod';
import type { AlertView, Notification } from '../model.ts';
import { countAlerts, firingFirst, HttpUrl, misconfigured, notificationTitle, safeLink, sortedLabels, truncate } from './common.ts';
import { postJson } from '../../net/http-delivery.ts';
import type { Notifier } from './types.ts';

const MENTION = '(?:<!here>|<!channel>|<@[A-Z0-9]+>|<!subteam\\^[A-Z0-9]+>)';

export const SlackSettings = z.strictObject({
  /** Who to notify when it fires: `<!here>`, `<!channel>`, `<@U123>` or `<!subteam^S123>`, space-separated. */
  mention: z
    .string()
    .trim()
    .max(500)
    .regex(new RegExp(`^${MENTION}( ${MENTION})*$`), 'must be <!here>, <!channel>, <@USERID> or <!subteam^ID>, space-separated')
    .optional(),
});
export type SlackSettings = z.output<typeof SlackSettings>;

/** Alerts shown as their own section; the rest are counted. */
export const SLACK_MAX_ALERTS = 10;
const MAX_LABELS = 8;

/** Slack's mrkdwn control characters, escaped as its docs require (&, <, >); everything else is literal. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Inside `code`: escaped, and a backtick would end the span early. */
const code = (s: string) => `\`${escapeMrkdwn(truncate(s, 100).replace(/`/g, "'"))}\``;

const emoji = (status: 'firing' | 'resolved') => (status === 'firing' ? '🔥' : '✅');

/** `<!date^...>` renders in each reader's time zone; the fallback is the ISO time. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return Number.isFinite(seconds) ? `<!date^${seconds}^{date_short_pretty} {time}|${escapeMrkdwn(iso)}>` : escapeMrkdwn(iso);
}

function alertSection(a: AlertView): object {
  const name = a.labels.alertname ?? 'Alert';
  const summary = a.annotations.summary ?? a.annotations.title;
  const lines = [`${emoji(a.status)} *${a.status === 'firing' ? 'Firing' : 'Resolved'}*: *${escapeMrkdwn(truncate(summary ?? name, 300))}*`];
  const description = a.annotations.description ?? a.annotations.message;
  if (description) lines.push(escapeMrkdwn(truncate(description, 1200)));
  const labels = sortedLabels(a.labels).filter(([k]) => k !== 'alertname');
  if (labels.length) {
    const shown = labels.slice(0, MAX_LABELS).map(([k, v]) => `${code(k)}=${code(v)}`);
    lines.push(shown.join('  ') + (labels.length > MAX_LABELS ? ` (+${labels.length - MAX_LABELS})` : ''));
  }
  const when = a.status === 'firing' ? `Since ${slackDate(a.startsAt)}` : `Resolved ${slackDate(a.endsAt ?? a.startsAt)}`;
  lines.push(a.value === null ? when : `${when} · value ${code(String(a.value))}`);
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 3000) } };
}

export interface SlackMessage {
  text: string;
  blocks: object[];
}

export function slackMessage(n: Notification, settings: SlackSettings): SlackMessage {
  const title = notificationTitle(n);
  const { firing, resolved } = countAlerts(n);
  const alerts = firingFirst(n.alerts);
  const shown = alerts.slice(0, SLACK_MAX_ALERTS);
  const hidden = alerts.length - shown.length + n.truncatedAlerts;
  const mention = n.status === 'firing' && settings.mention ? settings.mention : null;

  const blocks: object[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(`${emoji(n.status)} ${title}`, 150), emoji: true } }];
  if (mention) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: mention } });
  const counts = n.status === 'resolved' ? '*All resolved*' : `*${firing} firing*${resolved ? `, ${resolved} resolved` : ''}`;
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncate(`${counts} · project *${escapeMrkdwn(n.project.name)}* · ${escapeMrkdwn(n.receiver)}`, 3000) }],
  });
  for (const a of shown) blocks.push(alertSection(a));
  if (hidden > 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${hidden} more alert${hidden === 1 ? '' : 's'}` }] });

  const buttons: object[] = [];
  (n.actions ?? []).forEach((action, i) => {
    const url = safeLink(action.url);
    if (url && url.length <= 3000) {
      buttons.push({ type: 'button', action_id: `action-${i}`, text: { type: 'plain_text', text: truncate(action.label, 75) }, url, ...(i === 0 ? { style: 'primary' } : {}) });
    }
  });
  shown.forEach((a, i) => {
    const url = safeLink(a.url);
    if (url && url.length <= 3000) {
      buttons.push({ type: 'button', action_id: `alert-${i}`, text: { type: 'plain_text', text: truncate(a.labels.alertname ?? `Alert ${i + 1}`, 75) }, url });
    }
  });
  const hub = safeLink(n.externalUrl);
  if (hub && hub.length <= 3000) buttons.push({ type: 'button', action_id: 'open-hub', text: { type: 'plain_text', text: 'Open ObservAI Hub' }, url: hub });
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons });

  return { text: mention ? `${mention} ${title}` : title, blocks };
}

export const slackNotifier: Notifier<SlackSettings> = {
  kind: 'slack',
  settings: SlackSettings,
  secret: {
    required: true,
    describe: 'The incoming webhook URL (https://hooks.slack.com/services/T.../B.../...): it carries the token, so it is kept sealed',
    schema: HttpUrl,
  },
  async send(n, target, ctx) {
    if (!target.secret) return misconfigured('The Slack contact point has no webhook URL');
    return postJson(ctx, target.secret, JSON.stringify(slackMessage(n, target.settings)));
  },
};
