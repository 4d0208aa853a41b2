import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import type { Message } from '../chat/messages/message.entity';
import { READ_BY_DEFAULT } from '../chat/reading/row-reader';
import type { HistoryReadsSelected } from '../chat/reading/viewer-reader';

/** The fields named `field` (null: every field) directly under `sets` (through fragments and inline fragments too). */
function childFields(info: GraphQLResolveInfo, sets: readonly (SelectionSetNode | undefined)[], field: string | null): FieldNode[] {
  const found: FieldNode[] = [];
  const seen = new Set<string>();
  const search = (set: SelectionSetNode | undefined): void => {
    for (const node of set?.selections ?? []) {
      switch (node.kind) {
        case Kind.FIELD:
          if (field === null || node.name.value === field) found.push(node);
          break;
        case Kind.INLINE_FRAGMENT:
          search(node.selectionSet);
          break;
        case Kind.FRAGMENT_SPREAD:
          if (!seen.has(node.name.value)) {
            seen.add(node.name.value);
            search(info.fragments[node.name.value]?.selectionSet);
          }
          break;
        default:
          break;
      }
    }
  };
  for (const set of sets) search(set);
  return found;
}

/**
 * Whether the client asked for the path of fields under the current field,
 * e.g. selects(info, 'reactions') or selects(info, 'reactions', 'users'):
 * repositories read what is selected in the same statement.
 */
export function selects(info: GraphQLResolveInfo, ...path: string[]): boolean {
  let nodes: readonly FieldNode[] = info.fieldNodes;
  for (const field of path) {
    nodes = childFields(
      info,
      nodes.map((n) => n.selectionSet),
      field,
    );
    if (nodes.length === 0) return false;
  }
  return true;
}

/**
 * The values of argument `name` of the fields `field` directly under the
 * current one (each alias may give its own; a variable read from the request;
 * `fallback` when absent). Values that are not integers are left out: the field
 * itself refuses them.
 */
function intArguments(info: GraphQLResolveInfo, field: string, name: string, fallback: number): number[] {
  const values = new Set<number>();
  for (const node of childFields(
    info,
    info.fieldNodes.map((n) => n.selectionSet),
    field,
  )) {
    const arg = node.arguments?.find((a) => a.name.value === name)?.value;
    const value = arg === undefined ? fallback : arg.kind === Kind.INT ? Number(arg.value) : arg.kind === Kind.VARIABLE ? info.variableValues[arg.name.value] ?? fallback : null;
    if (Number.isInteger(value)) values.add(value as number);
  }
  return [...values];
}

/**
 * The message properties each field of Message reads: the property of its
 * name, or what its resolver (src/graphql/resolvers/message.resolver.ts,
 * attachment.resolver.ts) looks at besides the id. A field not named here
 * reads the whole row.
 */
const MESSAGE_FIELD_READS: Readonly<Record<string, readonly (keyof Message)[]>> = {
  __typename: [],
  id: [],
  type: ['type'],
  content: ['content'],
  metadata: ['metadata'],
  clientId: ['clientId'],
  seq: ['seq'],
  createdAt: ['createdAt'],
  editedAt: ['editedAt'],
  isDeleted: ['isDeleted'],
  deletedAt: ['deletedAt'],
  alsoInRoom: ['alsoInRoom'],
  replyCount: ['replyCount'],
  lastReplyAt: ['lastReplyAt'],
  pinnedAt: ['pinnedAt'],
  room: ['roomId'],
  sender: ['senderId'],
  isEdited: ['editedAt'],
  version: ['revision', 'version', 'versionXid', 'versionFloor'],
  parent: ['parentId'],
  threadParticipants: ['replyCount'],
  mentions: ['isDeleted'],
  pinnedBy: ['pinnedById'],
  edits: ['editedAt', 'isDeleted'],
  readCount: [],
  readBy: [],
  reactions: [],
  attachments: ['isDeleted'],
};

const propertiesRead = new WeakMap<FieldNode, ReadonlySet<keyof Message> | null>();

/** The message properties the Message fields selected under the current field read; null when one of them is not known here. */
function messagePropertiesRead(info: GraphQLResolveInfo): ReadonlySet<keyof Message> | null {
  // Per field of a parsed document (Apollo keeps the document of a query it has seen): fragments are the document's own.
  const key = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
  const known = key && propertiesRead.get(key);
  if (known !== undefined) return known;
  let properties: Set<keyof Message> | null = new Set();
  const selected = childFields(
    info,
    info.fieldNodes.map((n) => n.selectionSet),
    null,
  );
  for (const node of selected) {
    const reads = MESSAGE_FIELD_READS[node.name.value];
    if (reads === undefined) properties = null;
    else for (const property of reads) properties?.add(property);
  }
  if (key) propertiesRead.set(key, properties);
  return properties;
}

/** What a history page should read in its one statement, by what the client selected. */
export function historySelection(info: GraphQLResolveInfo): HistoryReadsSelected {
  return {
    messageProperties: messagePropertiesRead(info),
    reactions: selects(info, 'reactions'),
    reactionUsers: selects(info, 'reactions', 'users'),
    mentions: selects(info, 'mentions'),
    readCount: selects(info, 'readCount'),
    readByLimits: intArguments(info, 'readBy', 'limit', READ_BY_DEFAULT),
  };
}

/** What an inbox page should read in its one statement, by what the client selected under `items`. */
export function inboxSelection(info: GraphQLResolveInfo): { memberCount: boolean; unreadCount: boolean; lastMessage: boolean } {
  return {
    memberCount: selects(info, 'items', 'memberCount'),
    unreadCount: selects(info, 'items', 'unreadCount'),
    lastMessage: selects(info, 'items', 'lastMessage'),
  };
}
