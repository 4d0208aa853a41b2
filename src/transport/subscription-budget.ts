import { GraphQLError } from 'graphql';

interface Reservation {
  cost: number;
  refs: number;
}

/**
 * What the subscriptions of each user may cost per event, across their sockets
 * on this server. Each distinct subscription (document, operation, variables)
 * counts its query cost once: identical ones share one execution per event
 * (src/transport/subscription-executor.ts), so they add no work. A user over
 * the budget has the new subscription refused, alone; the others live on.
 * This bounds the work one user can make an event cost, whatever the number
 * of sockets and subscriptions they open.
 */
export class SubscriptionBudget {
  private readonly users = new Map<string, Map<string, Reservation>>();

  constructor(private readonly maxCostPerUser: number) {}

  /** Reserves `cost` for the user's subscription `key`; returns its release, or the refusal. */
  reserve(userId: string, key: string, cost: number): (() => void) | GraphQLError {
    let reservations = this.users.get(userId);
    const existing = reservations?.get(key);
    if (existing) {
      existing.refs += 1;
    } else {
      const spent = [...(reservations?.values() ?? [])].reduce((sum, r) => sum + r.cost, 0);
      if (spent + cost > this.maxCostPerUser) {
        return new GraphQLError(
          `The subscriptions of one user may cost at most ${this.maxCostPerUser} per event, this one (cost ${cost}) would make ${spent + cost}: ` +
            'select fewer or smaller fields, or reuse an identical subscription',
          { extensions: { code: 'BAD_USER_INPUT' } },
        );
      }
      if (!reservations) this.users.set(userId, (reservations = new Map()));
      reservations.set(key, { cost, refs: 1 });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const map = this.users.get(userId);
      const reservation = map?.get(key);
      if (!map || !reservation) return;
      reservation.refs -= 1;
      if (reservation.refs === 0) map.delete(key);
      if (map.size === 0) this.users.delete(userId);
    };
  }

  /** The cost the user's subscriptions hold now (tests). */
  spentBy(userId: string): number {
    return [...(this.users.get(userId)?.values() ?? [])].reduce((sum, r) => sum + r.cost, 0);
  }
}
