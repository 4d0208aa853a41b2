import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The entities are now the one declaration of each table, and TypeORM's schema
 * diff holds the migrated database to them. PostgreSQL prints a generated
 * column's expression its own way, so TypeORM keeps the expression it was
 * declared with in its metadata table: written here for the search column, as
 * `migration:generate` would have written it.
 */
export class Entities1765400000000 implements MigrationInterface {
  name = 'Entities1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE IF NOT EXISTS "typeorm_metadata" ("type" varchar NOT NULL, "database" varchar, "schema" varchar, "table" varchar, "name" varchar, "value" text)`,
    );
    await q.query(
      `INSERT INTO "typeorm_metadata" ("database", "schema", "table", "type", "name", "value")
       VALUES (current_database(), current_schema(), 'messages', 'GENERATED_COLUMN', 'search', $1)`,
      [`to_tsvector('simple'::regconfig, chat_search_text(content))`],
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM "typeorm_metadata" WHERE "type" = 'GENERATED_COLUMN' AND "table" = 'messages' AND "name" = 'search'`);
  }
}
