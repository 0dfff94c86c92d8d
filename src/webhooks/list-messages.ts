import type { Deps } from '../core/deps.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { findEndpoint } from './endpoint-views.ts';
import { MESSAGE_COLUMNS, type MessageRow, toMessageView } from './message-views.ts';
import { microsParam, openPage } from '../http/page-cursor.ts';
import type { MessagesQuery } from './schemas.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An endpoint's messages, newest first, in keyset pages (`?status=&since=&limit=&cursor=`); 404 for an endpoint the caller cannot see. */
export async function listMessages(deps: Pick<Deps, 'db'>, actor: Claims, endpointId: string, q: MessagesQuery) {
  const { cursor, limit, ...filter } = q;
  const page = await openPage(deps.db, 'webhooks.messages', { ...filter, endpointId }, cursor, UUID);
  const rows = await withClaims(
    deps.db,
    actor,
    async (tx) => {
      await findEndpoint(tx, endpointId);
      const params: unknown[] = [endpointId, q.status ?? null, q.since ?? null, limit + 1];
      let after = '';
      if (page.after) {
        params.push(page.after.us, page.after.id);
        after = `and (m.created_at, m.id) < (${microsParam('$5')}, $6::uuid)`;
      }
      return tx.query<MessageRow>(
        `select ${MESSAGE_COLUMNS} from public.webhook_messages m
         where m.endpoint_id = $1 and ($2::text is null or m.status = $2) and ($3::timestamptz is null or m.created_at >= $3::timestamptz) ${after}
         order by m.created_at desc, m.id desc limit $4`,
        params,
      );
    },
    INTERACTIVE_READ,
  );
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  return { messages: shown.map(toMessageView), nextCursor: page.next(more ? shown[shown.length - 1] : undefined) };
}
