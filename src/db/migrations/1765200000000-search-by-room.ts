import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Search reads the index of each room it searches: one GIN index over
 * (room_id, search) (btree_gin, shipped with PostgreSQL and trusted, so no
 * superuser is needed). A rare word is then a few index entries per room
 * however large the rest of the history, and a common word is a walk back
 * through the room's newest messages (messages_room_created_idx) that stops at
 * the page size; the planner picks per search (the statement is planned with
 * its values). The index over `search` alone made a rare word in a big room a
 * bitmap AND with the whole room's range, and a common one a fetch of every match.
 */
export class SearchByRoom1765200000000 implements MigrationInterface {
  name = 'SearchByRoom1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS btree_gin`);
    await q.query(`CREATE INDEX messages_room_search_idx ON messages USING gin (room_id, search)`);
    await q.query(`DROP INDEX messages_search_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX messages_search_idx ON messages USING gin (search)`);
    await q.query(`DROP INDEX messages_room_search_idx`);
  }
}
