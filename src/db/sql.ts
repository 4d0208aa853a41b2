import type { EntityManager } from 'typeorm';

/**
 * Runs one statement and returns its rows. TypeORM's postgres driver answers
 * UPDATE and DELETE with `[rows, rowCount]` and everything else with `rows`;
 * this evens that out so repositories read rows the same way everywhere.
 */
export async function queryRows<T>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const result: unknown = await manager.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

export async function queryOne<T>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<T | null> {
  const rows = await queryRows<T>(manager, sql, params);
  return rows[0] ?? null;
}

/** PostgreSQL's SQLSTATE for a unique violation. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; driverError?: { code?: string; constraint?: string }; constraint?: string };
  const code = e?.driverError?.code ?? e?.code;
  const name = e?.driverError?.constraint ?? e?.constraint;
  return code === UNIQUE_VIOLATION && (constraint === undefined || name === constraint);
}
