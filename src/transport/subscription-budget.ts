import { type DocumentNode, getArgumentValues, getOperationAST, getVariableValues, GraphQLError, type GraphQLSchema, Kind } from 'graphql';

interface Share {
  cost: number;
  /** What its replay adds while it replays (0 once replayed, or for a subscription without `since`). */
  replay: number;
  refs: number;
}

/** A subscription's hold on its user's budget. */
export interface Reservation {
  /** Gives the cost back (idempotent). */
  release(): void;
  /** Its replay ended: from now on it holds only its live part. */
  replayed(): void;
}

/**
 * What the subscriptions of each user may cost per event, across their sockets
 * on this server. Each distinct subscription (document, operation, variables)
 * counts its query cost once: identical ones share one execution per event
 * (src/transport/subscription-executor.ts), so they add no work. A user over
 * the budget has the new subscription refused, alone; the others live on.
 * This bounds the work one user can make an event cost, whatever the number
 * of sockets and subscriptions they open. A subscription that replays
 * (`since`) shares nothing (each replays on its own) and holds its replay's
 * cost too while it replays; a user's replays take turns (one at a time per
 * server: src/realtime/replay-gate.ts), so what their replays add is the
 * largest of them, not their sum. A client that reconnects and resumes each
 * of its streams with `since` is not refused for replays that never run side
 * by side.
 */
export class SubscriptionBudget {
  private readonly users = new Map<string, Map<string, Share>>();

  constructor(private readonly maxCostPerUser: number) {}

  /**
   * Reserves `cost` for the user's subscription `key`, and `replay` more while
   * it replays; returns the reservation, or the refusal.
   */
  reserve(userId: string, key: string, cost: number, replay = 0): Reservation | GraphQLError {
    let shares = this.users.get(userId);
    let share = shares?.get(key);
    if (share) {
      share.refs += 1;
    } else {
      const spent = this.spentBy(userId);
      const after = this.spentBy(userId, { cost, replay });
      if (after > this.maxCostPerUser) {
        return new GraphQLError(
          `The subscriptions of one user may cost at most ${this.maxCostPerUser} per event, this one (cost ${cost}${replay > 0 ? `, ${replay} more while it replays` : ''}) would make ${after} (now ${spent}): ` +
            'select fewer or smaller fields, or reuse an identical subscription',
          { extensions: { code: 'BAD_USER_INPUT' } },
        );
      }
      if (!shares) this.users.set(userId, (shares = new Map()));
      shares.set(key, (share = { cost, replay, refs: 1 }));
    }
    const held = share;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        held.refs -= 1;
        const map = this.users.get(userId);
        if (held.refs > 0 || !map) return;
        // Only this share's own entry goes: an identical subscription still live keeps its own.
        if (map.get(key) === held) map.delete(key);
        if (map.size === 0) this.users.delete(userId);
      },
      replayed: () => {
        held.replay = 0;
      },
    };
  }

  /** The cost the user's subscriptions hold now (with `extra` too): their live parts, and the largest of their replays. */
  spentBy(userId: string, extra?: { cost: number; replay: number }): number {
    let live = extra?.cost ?? 0;
    let replay = extra?.replay ?? 0;
    for (const share of this.users.get(userId)?.values() ?? []) {
      live += share.cost;
      replay = Math.max(replay, share.replay);
    }
    return live + replay;
  }
}


/**
 * Whether the subscription replays stored messages first: its root field has
 * a `since` argument that is not null (inline or from the variables).
 */
export function replaysFirst(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): boolean {
  const operation = getOperationAST(document, operationName);
  const root = operation?.selectionSet.selections[0];
  if (!operation || operation.operation !== 'subscription' || root?.kind !== Kind.FIELD) return false;
  const field = schema.getSubscriptionType()?.getFields()[root.name.value];
  if (!field) return false;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return false;
  try {
    return getArgumentValues(field, root, coerced.coerced).since != null;
  } catch {
    return false;
  }
}
