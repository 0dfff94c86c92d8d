/**
 * Alerts and incidents, mapped to what the server offers: alert instances are listed (their state
 * follows their rule; the alerts API has no acknowledge or resolve), silences are created and
 * expired, and acknowledging or resolving acts on the incident an alert opened (the oncall API).
 */
import { checkId, type Command, type Ctx } from '../command.ts';
import { usage } from '../errors.ts';
import { labels, listing, num, table } from '../output.ts';
import { formatDuration } from '../time.ts';
import { checkProjectId } from './auth.ts';

interface Instance {
  fingerprint: string;
  ruleId: string | null;
  labels: Record<string, string>;
  state: string;
  severity: string | null;
  value: number | null;
  activeAt: string | null;
  firedAt: string | null;
}
interface Silence {
  id: string;
  matchers: string[];
  startsAt: string;
  endsAt: string;
  comment: string;
  state: string;
}
interface Incident {
  id: string;
  title: string;
  state: string;
  severity: string | null;
  urgency: string;
  serviceId: string;
  createdAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
}

const INCIDENT_NOTE = [
  'Alert instances cannot be acknowledged or resolved themselves: the alerts API has no such route',
  '(an instance resolves when its rule stops matching; silence it to stop its notifications). An',
  'alert group opens an incident through an `oncall` contact point, and that incident is what ack',
  'and resolve act on (POST /oncall/incidents/:id/acknowledge and /resolve; user tokens only).',
].join('\n');

const uuidArg = (ctx: Ctx, what: string) => checkId(ctx.args[0], `<${what}>`)!;

function printIncidents(ctx: Ctx, incidents: Incident[]): void {
  const c = ctx.out.c;
  const state = (s: string) => (s === 'triggered' ? c.red(s) : s === 'acknowledged' ? c.yellow(s) : c.green(s));
  listing(ctx.out, incidents.map((i) => [i.id, state(i.state), i.urgency, i.severity ?? '', i.createdAt, i.title]), ['id', 'state', 'urgency', 'severity', 'opened', 'title'], 'no incidents');
}

function incidentAction(path: string[], action: 'acknowledge' | 'resolve'): Command {
  const verb = action === 'acknowledge' ? 'acknowledged' : 'resolved';
  return {
    path,
    summary: `${action} an incident${path[0] === 'alerts' ? ' (the one an alert opened)' : ''}`,
    description: [`POST /oncall/incidents/:id/${action} (a user token of someone who may change the project). Repeating it changes nothing; a resolved incident is a 409 (exit 1).`, ...(path[0] === 'alerts' ? ['', INCIDENT_NOTE] : [])].join('\n'),
    args: [{ name: 'incidentId', required: true }],
    examples: [`observai ${path.join(' ')} 6f1c2d3e-0000-4000-8000-000000000001`],
    async run(ctx) {
      const id = uuidArg(ctx, 'incidentId');
      const { incident } = await ctx.api().post<{ incident: Incident }>(`/oncall/incidents/${id}/${action}`);
      if (ctx.json) return void ctx.out.json({ incident });
      ctx.out.line(`Incident ${incident.id} ${verb}: ${incident.title} (${incident.state})`);
    },
  };
}

const alertsList: Command = {
  path: ['alerts', 'list'],
  summary: 'alert instances: what fires, what is pending, what resolved',
  description: 'GET /alerts/instances, newest first. With a user token and no project, every project you see.',
  flags: {
    state: { type: 'string', value: 'state', choices: ['pending', 'firing', 'resolved'], description: 'only this state' },
    rule: { type: 'string', value: 'id', description: 'only instances of this rule' },
    filter: { type: 'string', value: 'matchers', description: 'Alertmanager matchers on labels: \'{severity="critical", service=~"api|web"}\'' },
    limit: { type: 'string', value: 'n', description: '1-1000 (default 500)' },
  },
  examples: ['observai alerts list --state firing', 'observai alerts list --filter \'severity="critical"\' --json'],
  async run(ctx) {
    const f = ctx.flags;
    const { instances } = await ctx.api({ usesProject: true }).get<{ instances: Instance[] }>('/alerts/instances', {
      projectId: checkProjectId(ctx.project()),
      state: f.str('state'),
      ruleId: f.str('rule'),
      filter: f.str('filter'),
      limit: f.int('limit', { min: 1, max: 1000 }),
    });
    if (ctx.json) return void ctx.out.json({ instances });
    const c = ctx.out.c;
    const state = (s: string) => (s === 'firing' ? c.red(s) : s === 'pending' ? c.yellow(s) : c.green(s));
    listing(ctx.out, instances.map((i) => [state(i.state), i.severity ?? '', num(i.value), i.firedAt ?? i.activeAt ?? '', labels(i.labels)]), ['state', 'severity', 'value', 'since', 'labels'], 'no alert instances');
  },
};

const alertsSilence: Command = {
  path: ['alerts', 'silence'],
  summary: 'silence the notifications of alerts matching some labels, for a while',
  description: [
    'POST /alerts/silences. Matchers in Alertmanager syntax (name="value", name!="value", name=~"regex",',
    'name!~"regex"), all of which an alert must match; at least one must need a label (a silence of',
    'everything is refused). Silenced alerts are still evaluated and listed; only notifications stop.',
    'There is no update: `observai alerts unsilence <id>` expires a silence.',
  ].join('\n'),
  flags: {
    matcher: { type: 'string', multiple: true, value: 'matcher', description: 'a label matcher (repeatable): alertname="HighCPU"' },
    duration: { type: 'string', value: 'duration', description: 'how long from the start: 30m, 2h, 1d (or --ends-at)' },
    'ends-at': { type: 'string', value: 'time', description: 'when it ends (ISO 8601)' },
    'starts-at': { type: 'string', value: 'time', description: 'when it starts (default now)' },
    comment: { type: 'string', value: 'text', description: 'why (required, 1-2000 characters)' },
  },
  examples: [
    'observai alerts silence --matcher \'alertname="HighCPU"\' --matcher \'env=~"prod|staging"\' --duration 2h --comment "database migration"',
  ],
  async run(ctx) {
    const f = ctx.flags;
    const matchers = f.list('matcher');
    if (matchers.length === 0) throw usage('--matcher is required (at least one)');
    const comment = f.required('comment');
    const startsAt = f.time('starts-at');
    const duration = f.duration('duration');
    let endsAt = f.time('ends-at');
    if (duration !== undefined && endsAt !== undefined) throw usage('give --duration or --ends-at, not both');
    if (duration !== undefined) endsAt = new Date((startsAt ? Date.parse(startsAt) : ctx.io.now()) + duration).toISOString();
    if (endsAt === undefined) throw usage('--duration (or --ends-at) is required');
    const { silence } = await ctx
      .api({ usesProject: true })
      .post<{ silence: Silence }>('/alerts/silences', { projectId: checkProjectId(ctx.project()), matchers, ...(startsAt ? { startsAt } : {}), endsAt, comment });
    if (ctx.json) return void ctx.out.json({ silence });
    ctx.out.line(`Silence ${silence.id} (${silence.state}) until ${silence.endsAt}: ${silence.matchers.join(', ')}`);
  },
};

const alertsSilences: Command = {
  path: ['alerts', 'silences'],
  summary: 'list silences',
  description: 'GET /alerts/silences, newest first.',
  flags: {
    state: { type: 'string', value: 'state', choices: ['active', 'pending', 'expired'], description: 'only this state' },
    limit: { type: 'string', value: 'n', description: '1-1000 (default 200)' },
  },
  examples: ['observai alerts silences --state active'],
  async run(ctx) {
    const { silences } = await ctx.api({ usesProject: true }).get<{ silences: Silence[] }>('/alerts/silences', {
      projectId: checkProjectId(ctx.project()),
      state: ctx.flags.str('state'),
      limit: ctx.flags.int('limit', { min: 1, max: 1000 }),
    });
    if (ctx.json) return void ctx.out.json({ silences });
    const now = ctx.io.now();
    listing(
      ctx.out,
      silences.map((s) => [s.id, s.state, s.state === 'active' ? `${formatDuration(Date.parse(s.endsAt) - now)} left` : s.endsAt, s.matchers.join(', '), s.comment]),
      ['id', 'state', 'ends', 'matchers', 'comment'],
      'no silences',
    );
  },
};

const alertsUnsilence: Command = {
  path: ['alerts', 'unsilence'],
  summary: 'expire a silence now',
  description: 'DELETE /alerts/silences/:id: it stays listed as expired. An already expired silence is a 409 (exit 1).',
  args: [{ name: 'silenceId', required: true }],
  examples: ['observai alerts unsilence 0b8e…'],
  async run(ctx) {
    const id = uuidArg(ctx, 'silenceId');
    const { silence } = await ctx.api().delete<{ silence: Silence }>(`/alerts/silences/${id}`);
    if (ctx.json) return void ctx.out.json({ silence });
    ctx.out.line(`Silence ${silence.id} expired.`);
  },
};

const incidentsList: Command = {
  path: ['incidents', 'list'],
  summary: 'incidents, newest first',
  description: 'GET /oncall/incidents. With a user token and no project, every project you see.',
  flags: {
    state: { type: 'string', value: 'state', choices: ['open', 'triggered', 'acknowledged', 'resolved'], description: 'open = triggered or acknowledged' },
    service: { type: 'string', value: 'id', description: 'only this service\'s' },
    limit: { type: 'string', value: 'n', description: '1-500 (default 100)' },
  },
  examples: ['observai incidents list --state open', 'observai incidents list --json | jq -r \'.incidents[].id\''],
  async run(ctx) {
    const { incidents } = await ctx.api({ usesProject: true }).get<{ incidents: Incident[] }>('/oncall/incidents', {
      projectId: checkProjectId(ctx.project()),
      state: ctx.flags.str('state'),
      serviceId: ctx.flags.str('service'),
      limit: ctx.flags.int('limit', { min: 1, max: 500 }),
    });
    if (ctx.json) return void ctx.out.json({ incidents });
    printIncidents(ctx, incidents);
  },
};

const incidentsGet: Command = {
  path: ['incidents', 'get'],
  summary: 'an incident and its timeline',
  description: 'GET /oncall/incidents/:id.',
  args: [{ name: 'incidentId', required: true }],
  examples: ['observai incidents get 6f1c2d3e-0000-4000-8000-000000000001'],
  async run(ctx) {
    const id = uuidArg(ctx, 'incidentId');
    const answer = await ctx.api().get<{ incident: Incident; timeline: Array<{ at: string; kind: string; actor: string | null }> }>(`/oncall/incidents/${id}`);
    if (ctx.json) return void ctx.out.json(answer);
    printIncidents(ctx, [answer.incident]);
    ctx.out.line('');
    ctx.out.line(table(answer.timeline.map((t) => [t.at, t.kind, t.actor ?? ''])));
  },
};

export const alertCommands: Command[] = [
  alertsList,
  incidentAction(['alerts', 'ack'], 'acknowledge'),
  incidentAction(['alerts', 'resolve'], 'resolve'),
  alertsSilence,
  alertsSilences,
  alertsUnsilence,
  incidentsList,
  incidentsGet,
  incidentAction(['incidents', 'ack'], 'acknowledge'),
  incidentAction(['incidents', 'resolve'], 'resolve'),
];

export const ALERTS_GROUP_NOTE = INCIDENT_NOTE;
