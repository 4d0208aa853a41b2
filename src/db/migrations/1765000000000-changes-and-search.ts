import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The changes feed and search.
 *
 * Versions: one service-wide sequence; every change to a message or a
 * membership stamps the row with the next number, taken under one advisory
 * lock held until commit (src/chat/changes/versions.ts), so versions commit in
 * order and a client that has seen version V can never be handed a smaller one
 * later. Rows that existed get versions in the order they were created.
 *
 * Search: a GIN index over a generated tsvector of the content, with the
 * 'simple' configuration (lower-cased words, no stemming, no stop words: every
 * language's words match as written) and CJK characters split one by one
 * (languages written without spaces then match by character sequence).
 */
export class ChangesAndSearch1765000000000 implements MigrationInterface {
  name = 'ChangesAndSearch1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE change_version_seq`);
    await q.query(`ALTER TABLE messages ADD COLUMN version bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE room_members ADD COLUMN version bigint NOT NULL DEFAULT 0, ADD COLUMN left_version bigint`);
    await q.query(`
      WITH ordered AS (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM messages)
      UPDATE messages m SET version = ordered.n FROM ordered WHERE m.id = ordered.id`);
    await q.query(`
      WITH base AS (SELECT coalesce(max(version), 0) AS n FROM messages),
           ordered AS (SELECT id, row_number() OVER (ORDER BY joined_at, id) AS n FROM room_members)
      UPDATE room_members rm SET version = base.n + ordered.n, left_version = CASE WHEN rm.is_active THEN NULL ELSE base.n + ordered.n END
      FROM ordered, base WHERE rm.id = ordered.id`);
    await q.query(`SELECT setval('change_version_seq', greatest(
      (SELECT coalesce(max(version), 0) FROM messages), (SELECT coalesce(max(version), 0) FROM room_members), 1))`);
    // The feed reads each room's changes in version order, and each user's own memberships.
    await q.query(`CREATE INDEX messages_room_version_idx ON messages (room_id, version)`);
    await q.query(`CREATE INDEX room_members_user_version_idx ON room_members (user_id, version)`);

    // Characters of scripts written without spaces (kana, CJK ideographs, Hangul) become one word each,
    // set apart by a private-use character that is taken out of the text first.
    await q.query(`
      CREATE FUNCTION chat_search_text(content text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT regexp_replace(
          translate(coalesce(content, ''), chr(57346), ''),
          '([\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uac00-\\ud7af])',
          chr(57346) || '\\1' || chr(57346), 'g')
      $$`);
    await q.query(`ALTER TABLE messages ADD COLUMN search tsvector
      GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, chat_search_text(content))) STORED`);
    await q.query(`CREATE INDEX messages_search_idx ON messages USING gin (search)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX messages_search_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN search`);
    await q.query(`DROP FUNCTION chat_search_text(text)`);
    await q.query(`DROP INDEX room_members_user_version_idx`);
    await q.query(`DROP INDEX messages_room_version_idx`);
    await q.query(`ALTER TABLE room_members DROP COLUMN left_version, DROP COLUMN version`);
    await q.query(`ALTER TABLE messages DROP COLUMN version`);
    await q.query(`DROP SEQUENCE change_version_seq`);
  }
}
