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
