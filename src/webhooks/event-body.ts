import { WebhookEventType, type WebhookEvent } from './webhook.entity';

/** What every receiver gets (BEHAVIOUR.md: Webhooks): `data` holds the changed record under its kind's name. */
export interface WebhookBody {
  /** The same for every attempt of this event, at every URL: receivers de-duplicate by it. */
  id: string;
  type: WebhookEventType;
  /** When the change happened (its statement's clock), ISO-8601 UTC. */
  createdAt: string;
  roomId: string;
  data: Record<string, unknown>;
}

/** Columns that say how the service keeps a row, not what it is (positions, search words, a sender's retry key). */
const INTERNAL = new Set(['version', 'version_xid', 'version_floor', 'left_version', 'left_xid', 'revision', 'search', 'client_id']);

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A trigger's `to_jsonb(row)` as the API spells it: camelCase names, timestamps as ISO-8601 UTC with milliseconds (as the API prints them). */
export function publicRecord(snapshot: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(snapshot)) {
    if (INTERNAL.has(column)) continue;
    record[camel(column)] = column.endsWith('_at') && typeof value === 'string' ? new Date(value).toISOString() : value;
  }
  return record;
}

/** The record's name in `data`, by the event's kind. */
function recordName(type: WebhookEventType): 'message' | 'reaction' | 'member' {
  if (type.startsWith('message.')) return 'message';
  if (type.startsWith('reaction.')) return 'reaction';
  return 'member';
}

/** The body of an outbox row; `extra` adds what is read at delivery (the push recipients of a message.created). */
export function webhookBody(event: Pick<WebhookEvent, 'eventId' | 'type' | 'createdAt' | 'roomId' | 'snapshot'>, extra: Record<string, unknown> = {}): WebhookBody {
  return {
    id: event.eventId,
    type: event.type,
    createdAt: event.createdAt,
    roomId: event.roomId,
    data: { [recordName(event.type)]: publicRecord(event.snapshot), ...extra },
  };
}
