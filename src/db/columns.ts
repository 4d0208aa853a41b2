import type { EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * The select lists of a hand-tuned statement, made from the entity's metadata
 * (each column's propertyName and databaseName), so a renamed or added column
 * reaches every statement that reads the table and rows come back as the
 * entity's records, with no mapping.
 */
export interface Columns<T> {
  /** `m.id, m.room_id AS "roomId", ...`: every readable column, aliased to its property. */
  select(alias: string): string;
  /** Only the columns of `properties`, as `select` lists them. */
  selectOnly(alias: string, properties: readonly (keyof T & string)[]): string;
  /** Every column under `prefix`: `rm.id AS "me.id", ...` (a second record in one row). */
  selectPrefixed(alias: string, prefix: string): string;
  /** The record a row carries under `prefix` (see selectPrefixed); null when its id is null (an outer join found none). */
  pick(row: Record<string, unknown>, prefix: string): T | null;
  /** The record's own columns of a row that carries more. */
  own(row: Record<string, unknown>): T;
  /** The column of a property: `sql('pinnedById')` is `pinned_by`. */
  sql(property: keyof T & string): string;
}

const cache = new WeakMap<EntityMetadata, Columns<unknown>>();

export function columnsOf<T>(metadata: EntityMetadata): Columns<T> {
  const known = cache.get(metadata);
  if (known) return known as Columns<T>;
  // Columns a select returns: not the ones declared never to be read back (the search vector).
  const readable = metadata.columns.filter((c) => c.isSelect);
  const lists = new Map<string, string>();
  const memo = (key: string, make: () => string) => {
    let list = lists.get(key);
    if (list === undefined) lists.set(key, (list = make()));
    return list;
  };
  const list = (alias: string, of: readonly ColumnMetadata[]) =>
    of.map((c) => (c.databaseName === c.propertyName ? `${alias}.${c.databaseName}` : `${alias}.${c.databaseName} AS "${c.propertyName}"`)).join(', ');
  const columns: Columns<T> = {
    select: (alias) => memo(alias, () => list(alias, readable)),
    selectOnly: (alias, properties) =>
      memo(`${alias}:${properties.join(',')}`, () =>
        list(
          alias,
          properties.map((property) => {
            const column = readable.find((c) => c.propertyName === property);
            if (!column) throw new Error(`${metadata.name} has no readable column for property ${property}`);
            return column;
          }),
        ),
      ),
    selectPrefixed: (alias, prefix) => memo(`${alias}:${prefix}.`, () => readable.map((c) => `${alias}.${c.databaseName} AS "${prefix}.${c.propertyName}"`).join(', ')),
    pick(row, prefix) {
      if (row[`${prefix}.id`] === null || row[`${prefix}.id`] === undefined) return null;
      const record: Record<string, unknown> = {};
      for (const c of readable) record[c.propertyName] = row[`${prefix}.${c.propertyName}`];
      return record as T;
    },
    own(row) {
      const record: Record<string, unknown> = {};
      for (const c of readable) record[c.propertyName] = row[c.propertyName];
      return record as T;
    },
    sql(property) {
      const column = metadata.findColumnWithPropertyName(property);
      if (!column) throw new Error(`${metadata.name} has no column for property ${property}`);
      return column.databaseName;
    },
  };
  cache.set(metadata, columns);
  return columns;
}
