/**
 * The shapes alerting's parts hand each other: rule evaluation produces alert instances, the
 * dispatcher routes them into groups and hands a Notification to a contact point's notifier. Pure
 * types only, so the pure cores (instances.ts, routing.ts, grouping.ts, notifiers/) share them
 * without importing each other's code.
 */

/** Label names and values, Prometheus style: names `[a-zA-Z_][a-zA-Z0-9_]*`, values any string. */
export type Labels = Record<string, string>;

export type Severity = 'critical' | 'warning' | 'info';

/** An alert as notifications see it (Alertmanager's model: labels identify, annotations describe). */
export interface AlertView {
  /** Stable id of (rule, labels): the same alert keeps its fingerprint across evaluations. */
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Labels;
  annotations: Labels;
  /** ISO times. endsAt is the resolve time of a resolved alert, null while firing. */
  startsAt: string;
  endsAt: string | null;
  /** The value that made it fire (or the last one seen), when the rule has one. */
  value: number | null;
  /** Link back to the alert (dashboard URL or the sender's generatorURL). */
  url: string | null;
}

/**
 * One notification of one alert group to one contact point: the unit the delivery engine sends once.
 * Firing and resolved alerts of a group travel together (Alertmanager's one combined notification).
 */
export interface Notification {
  /** Unique per (group, contact point, sequence): the receiver's idempotency key (webhook-id). */
  id: string;
  /** Stable for the group's life: PagerDuty's dedup_key, Alertmanager's groupKey. */
  groupKey: string;
  /** 'firing' when any alert in it fires, else 'resolved'. */
  status: 'firing' | 'resolved';
  /** The route's receiver name (the contact point's name). */
  receiver: string;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  alerts: AlertView[];
  /** Alerts left out because the contact point caps them per notification (counted, never silent). */
  truncatedAlerts: number;
  /** Base URL of the product for links (the dashboard), or null. */
  externalUrl: string | null;
  /** Project the alerts belong to (for titles and links; never another tenant's). */
  project: { id: string; name: string };
  /** ISO time the dispatcher created this notification. */
  createdAt: string;
  /**
   * Set on a storm summary: how many notifications (over the contact point's cap) it stands for;
   * their alerts are this one's alerts.
   */
  folded?: number;
  /**
   * Actions the reader can take by following a link (a page to a person: acknowledge, resolve,
   * signed for them): buttons in Slack, links in email. Never set on a group's notification.
   */
  actions?: Array<{ label: string; url: string }>;
}
