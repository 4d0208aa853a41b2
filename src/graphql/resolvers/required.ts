/** A relation the schema promises (non-null) that the database must have; its absence is a bug, not bad input. */
export function required<T>(value: T | null, what: string, id: string): T {
  if (value === null) throw new Error(`Integrity: ${what} ${id} is missing`);
  return value;
}
