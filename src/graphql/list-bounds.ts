import type { GraphQLField } from 'graphql';

/**
 * How many items a field may make the server produce, declared on the field
 * itself (`@Extensions(listBound(...))`) and read by the query cost estimator
 * (src/graphql/protection.ts): every list has a bound, and every bound is in
 * the cost. test/schema.test.ts fails for a list field without one.
 */
export type ListBound =
  /** The size comes from an argument (its default applied), at most `max`: `messages(limit)`. */
  | { arg: string; max: number }
  /** A documented cap: at most 10 thread participants. */
  | { cap: number }
  /** The items of a page whose size the parent field took (`rooms(pageSize) { items }`): counted there. */
  | { perParent: true }
  /** One item per element of a list argument, at most `max`: a subgraph's `_entities(representations)`. */
  | { lengthOf: string; max: number };

export function listBound(bound: ListBound): { listBound: ListBound } {
  return { listBound: bound };
}

export function listBoundOf(field: GraphQLField<unknown, unknown> | null | undefined): ListBound | undefined {
  return field?.extensions?.listBound as ListBound | undefined;
}

/**
 * How many items the field may produce for these (coerced) arguments. An
 * argument out of range is refused when the field resolves, but it weighs the
 * maximum here: the cost never trusts a value the resolver has not checked.
 */
export function boundSize(bound: ListBound, args: Record<string, unknown>): number {
  if ('cap' in bound) return bound.cap;
  if ('perParent' in bound) return 1;
  if ('lengthOf' in bound) {
    const list = args[bound.lengthOf];
    return Array.isArray(list) && list.length <= bound.max ? list.length : bound.max;
  }
  const requested = args[bound.arg];
  return typeof requested === 'number' && Number.isInteger(requested) && requested >= 1 && requested <= bound.max ? requested : bound.max;
}

/**
 * What resolving a field costs beyond one unit per field and its items, where
 * the work is not in what it returns: a search hit's snippet reads its
 * message's text, a `readBy` resolves a list per message whatever its limit.
 * Counted by the query cost (src/graphql/protection.ts), so by the per-user
 * work budget too, in units of what a plain field costs (~1 µs of our CPU).
 */
export function extraCost(units: number): { extraCost: number } {
  return { extraCost: units };
}

export function extraCostOf(field: GraphQLField<unknown, unknown> | null | undefined): number {
  return (field?.extensions?.extraCost as number | undefined) ?? 0;
}
