import { expect } from 'chai';
import { chatTables } from '../src/chat/tables';
import { startServer } from './support/server';

/*
 * Each table is declared once, in code (src/chat/<domain>/<name>.table.ts): the records the
 * domain passes around and the select lists are derived from it. The migrations
 * are the other truth; this holds the two to each other, column by column.
 */
describe('table declarations match the migrated schema', () => {
  let columns: { table_name: string; column_name: string; udt_name: string; is_nullable: 'YES' | 'NO' }[];

  before(async () => {
    const server = await startServer();
    columns = await server.app.db.query(
      `SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> 'typeorm_migrations' ORDER BY table_name, ordinal_position`,
    );
  });

  it('declares every table the migrations create, and no other', () => {
    expect(chatTables.map((t) => t.name).sort()).to.deep.equal([...new Set(columns.map((c) => c.table_name))].sort());
  });

  for (const table of chatTables) {
    it(`${table.name}: every column, with its type and nullability`, () => {
      const declared = Object.entries(table.columns).map(([key, c]) => ({
        column: (table.sqlNames as Record<string, string>)[key],
        type: c.udt,
        nullable: c.isNullable,
      }));
      const migrated = columns
        .filter((c) => c.table_name === table.name)
        .map((c) => ({ column: c.column_name, type: c.udt_name, nullable: c.is_nullable === 'YES' }));
      const byColumn = (a: { column: string }, b: { column: string }) => a.column.localeCompare(b.column);
      expect(declared.sort(byColumn)).to.deep.equal(migrated.sort(byColumn));
    });
  }
});
