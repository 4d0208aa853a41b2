/**
 * One declaration per table: the columns the code reads, with their SQL type
 * and nullability. The record type the domain uses is derived from it, the
 * select lists are generated from it, and test/tables.test.ts holds it to the
 * migrated database (every column, type and nullability), so the migration
 * and the code cannot drift apart.
 */

export interface Column<T> {
  /** The column's SQL name (snake_case of the property unless given). */
  sql: string | null;
  /** PostgreSQL's `udt_name` (int4, timestamptz, member_role...). */
  udt: string;
  isNullable: boolean;
  /** A column the code never reads back (a search vector): in the schema check, not in records or select lists. */
  hidden?: true;
  /** Phantom: the TypeScript type of the value the driver gives. */
  readonly value?: T;
}

type Builder<T> = Column<T> & { nullable(): Column<T | null> };

function column<T>(udt: string, sql: string | null = null): Builder<T> {
  return { sql, udt, isNullable: false, nullable: () => ({ sql, udt, isNullable: true }) };
}

/** Column constructors by SQL type; `.nullable()` makes one nullable. */
export const col = {
  uuid: (sql?: string): Builder<string> => column<string>('uuid', sql),
  text: (sql?: string): Builder<string> => column<string>('text', sql),
  varchar: (sql?: string): Builder<string> => column<string>('varchar', sql),
  int: (sql?: string): Builder<number> => column<number>('int4', sql),
  /** bigint arrives as a string (it may exceed 2^53). */
  bigint: (sql?: string): Builder<string> => column<string>('int8', sql),
  bool: (sql?: string): Builder<boolean> => column<boolean>('bool', sql),
  /** Timestamps arrive as ISO-8601 strings in UTC with milliseconds (src/db/timestamps.ts). */
  timestamptz: (sql?: string): Builder<string> => column<string>('timestamptz', sql),
  jsonb: <T>(sql?: string): Builder<T> => column<T>('jsonb', sql),
  /** A generated search vector: declared for the schema check, never read back. */
  tsvector: (sql?: string): Column<never> & { hidden: true } => ({ sql: sql ?? null, udt: 'tsvector', isNullable: true, hidden: true }),
  /** A PostgreSQL enum type, e.g. `col.enum<MemberRole>('member_role')`. */
  enum: <E extends string>(typeName: string, sql?: string): Builder<E> => column<E>(typeName, sql),
  /** An array column, e.g. timestamptz[] is `_timestamptz`. */
  array: <T>(elementUdt: string, sql?: string): Builder<T[]> => column<T[]>(`_${elementUdt}`, sql),
};

type Columns = Record<string, Column<unknown>>;

type Shown<C extends Columns> = { [K in keyof C as C[K] extends { hidden: true } ? never : K]: C[K] extends Column<infer V> ? V : never };

export type RecordOf<T extends Table<Columns>> = Shown<T['columns']>;

export interface Table<C extends Columns> {
  name: string;
  columns: C;
  /** SQL name of each property. */
  sqlNames: { [K in keyof C]: string };
  /**
   * The select list of every column, aliased to the record's property names:
   * `m.id, m.room_id AS "roomId", ...`; rows then are the records, no mapping.
   */
  select(alias: string, skip?: (keyof C)[]): string;
  /** The select list with every property under `prefix`: `rm.id AS "me.id", ...` (a second record in one row). */
  selectPrefixed(alias: string, prefix: string): string;
  /** The record a row carries under `prefix` (see selectPrefixed); null when its id is null (an outer join found none). */
  pick(row: Record<string, unknown>, prefix: string): Shown<C> | null;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function table<C extends Columns>(name: string, columns: C): Table<C> {
  const sqlNames = Object.fromEntries(Object.entries(columns).map(([key, c]) => [key, c.sql ?? snake(key)])) as { [K in keyof C]: string };
  const shown = Object.keys(columns).filter((k) => !columns[k].hidden);
  const cache = new Map<string, string>();
  return {
    name,
    columns,
    sqlNames,
    select(alias, skip = []) {
      const key = `${alias}:${skip.join(',')}`;
      let list = cache.get(key);
      if (list === undefined) {
        list = shown
          .filter((k) => !skip.includes(k))
          .map((k) => (sqlNames[k] === k ? `${alias}.${k}` : `${alias}.${sqlNames[k]} AS "${k}"`))
          .join(', ');
        cache.set(key, list);
      }
      return list;
    },
    selectPrefixed(alias, prefix) {
      const key = `${alias}:${prefix}.`;
      let list = cache.get(key);
      if (list === undefined) {
        list = shown
          .map((k) => `${alias}.${sqlNames[k]} AS "${prefix}.${k}"`)
          .join(', ');
        cache.set(key, list);
      }
      return list;
    },
    pick(row, prefix) {
      if (row[`${prefix}.id`] === null || row[`${prefix}.id`] === undefined) return null;
      const record: Record<string, unknown> = {};
      for (const k of shown) record[k] = row[`${prefix}.${k}`];
      return record as never;
    },
  };
}
