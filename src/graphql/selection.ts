import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { READ_BY_DEFAULT } from '../chat/reading/row-reader';

/** The fields named `field` directly under `sets` (through fragments and inline fragments too). */
function childFields(info: GraphQLResolveInfo, sets: readonly (SelectionSetNode | undefined)[], field: string): FieldNode[] {
  const found: FieldNode[] = [];
  const seen = new Set<string>();
  const search = (set: SelectionSetNode | undefined): void => {
    for (const node of set?.selections ?? []) {
      switch (node.kind) {
        case Kind.FIELD:
          if (node.name.value === field) found.push(node);
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

/** What a history page should read in its one statement, by what the client selected. */
export function historySelection(info: GraphQLResolveInfo): HistorySelection {
  return {
    reactions: selects(info, 'reactions'),
    reactionUsers: selects(info, 'reactions', 'users'),
    mentions: selects(info, 'mentions'),
    readCount: selects(info, 'readCount'),
    readByLimits: intArguments(info, 'readBy', 'limit', READ_BY_DEFAULT),
  };
}

export interface HistorySelection {
  reactions: boolean;
  reactionUsers: boolean;
  mentions: boolean;
  readCount: boolean;
  /** The `limit` of each `readBy` selected (aliases may differ); empty when none is. */
  readByLimits: number[];
}

/** What an inbox page should read in its one statement, by what the client selected under `items`. */
export function inboxSelection(info: GraphQLResolveInfo): { memberCount: boolean; unreadCount: boolean; lastMessage: boolean } {
  return {
    memberCount: selects(info, 'items', 'memberCount'),
    unreadCount: selects(info, 'items', 'unreadCount'),
    lastMessage: selects(info, 'items', 'lastMessage'),
  };
}
