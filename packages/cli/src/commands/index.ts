/** Every command, in the order help lists them, and the groups (`observai keys ...`). */
import type { Command, Group } from '../command.ts';
import { ALERTS_GROUP_NOTE, alertCommands } from './alerts.ts';
import { authCommands } from './auth.ts';
import { completionCommands } from './completion.ts';
import { doctorCommands } from './doctor.ts';
import { exportCommands } from './export.ts';
import { keyCommands } from './keys.ts';
import { queryCommands } from './query.ts';
import { sendCommands } from './send.ts';
import { tailCommands } from './tail.ts';

export const GROUPS: readonly Group[] = [
  { name: 'logs', summary: 'search logs' },
  { name: 'metrics', summary: 'list and query metrics' },
  { name: 'traces', summary: 'open a trace' },
  { name: 'alerts', summary: 'alert instances, silences; ack and resolve the incidents alerts open', description: ALERTS_GROUP_NOTE },
  { name: 'incidents', summary: 'list, open, acknowledge and resolve incidents' },
  { name: 'keys', summary: 'create, list, revoke and rotate API keys' },
  { name: 'export', summary: 'export logs and spans to S3-compatible storage' },
];

export const COMMANDS: readonly Command[] = [
  ...authCommands,
  ...sendCommands,
  ...tailCommands,
  ...queryCommands,
  ...alertCommands,
  ...keyCommands,
  ...exportCommands,
  ...doctorCommands,
  ...completionCommands(() => ({ commands: COMMANDS, groups: GROUPS })),
];
