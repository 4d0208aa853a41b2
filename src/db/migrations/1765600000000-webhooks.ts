import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The webhook outbox (src/webhooks/webhook.entity.ts) and the triggers that
 * fill it in the transaction of each change. Each trigger fires only when the
 * session says `chat.webhooks = on`, which a server with WEBHOOK_URLS sets on
 * its connections (src/db/data-source.ts): without webhooks a write pays for
 * one WHEN test and calls no function. The triggers are AFTER ROW: they run at
 * the end of the changing statement, after its locks, so the outbox id (its
 * sequence) follows the order the locks gave (commit order within a room).
 */
export class Webhooks1765600000000 implements MigrationInterface {
  name = 'Webhooks1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "webhook_events" ("id" BIGSERIAL NOT NULL, "event_id" uuid NOT NULL DEFAULT gen_random_uuid(), "type" character varying(32) NOT NULL, "room_id" uuid NOT NULL, "snapshot" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(), "relayed" boolean NOT NULL DEFAULT false, CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "webhook_events_unrelayed_idx" ON "webhook_events" ("id") WHERE NOT relayed`);
    await q.query(
      `CREATE TABLE "webhook_dead_events" ("id" BIGSERIAL NOT NULL, "event_id" bigint NOT NULL, "url" text NOT NULL, "body" text NOT NULL, "attempts" integer NOT NULL, "last_error" text NOT NULL, "died_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(), CONSTRAINT "webhook_dead_events_event_url_key" UNIQUE ("event_id", "url"), CONSTRAINT "webhook_dead_events_pkey" PRIMARY KEY ("id"))`,
    );

    // Messages: a send is message.created; a deletion message.deleted; an edit or a pin change message.updated
    // (the WHEN of the update trigger leaves out what only moves counters: reply counts, reactions' restamps).
    await q.query(`
      CREATE FUNCTION chat_webhook_message() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO webhook_events (type, room_id, snapshot) VALUES (
          CASE WHEN TG_OP = 'INSERT' THEN 'message.created'
               WHEN NEW.is_deleted THEN 'message.deleted'
               ELSE 'message.updated' END,
          NEW.room_id, to_jsonb(NEW) - 'search');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER messages_webhook_insert AFTER INSERT ON messages FOR EACH ROW
      WHEN (current_setting('chat.webhooks', true) = 'on')
      EXECUTE FUNCTION chat_webhook_message()`);
    await q.query(`
      CREATE TRIGGER messages_webhook_update AFTER UPDATE ON messages FOR EACH ROW
      WHEN (current_setting('chat.webhooks', true) = 'on' AND (
        (NEW.is_deleted AND NOT OLD.is_deleted)
        OR (NOT NEW.is_deleted AND (OLD.content IS DISTINCT FROM NEW.content OR OLD.metadata IS DISTINCT FROM NEW.metadata
                                    OR OLD.pinned_at IS DISTINCT FROM NEW.pinned_at))))
      EXECUTE FUNCTION chat_webhook_message()`);

    // Reactions: added and removed; the room is the message's.
    await q.query(`
      CREATE FUNCTION chat_webhook_reaction() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO webhook_events (type, room_id, snapshot)
          SELECT 'reaction.added', m.room_id, to_jsonb(NEW) FROM messages m WHERE m.id = NEW.message_id;
        ELSE
          INSERT INTO webhook_events (type, room_id, snapshot)
          SELECT 'reaction.removed', m.room_id, to_jsonb(OLD) FROM messages m WHERE m.id = OLD.message_id;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER message_reactions_webhook AFTER INSERT OR DELETE ON message_reactions FOR EACH ROW
      WHEN (current_setting('chat.webhooks', true) = 'on')
      EXECUTE FUNCTION chat_webhook_reaction()`);

    // Memberships: added (or back), removed, and any other change of the row (role, and what moderation adds),
    // but not a read position or a restamp.
    await q.query(`
      CREATE FUNCTION chat_webhook_member() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO webhook_events (type, room_id, snapshot) VALUES (
          CASE WHEN TG_OP = 'INSERT' OR (NEW.is_active AND NOT OLD.is_active) THEN 'member.added'
               WHEN OLD.is_active AND NOT NEW.is_active THEN 'member.removed'
               ELSE 'member.updated' END,
          NEW.room_id, to_jsonb(NEW));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER room_members_webhook_insert AFTER INSERT ON room_members FOR EACH ROW
      WHEN (current_setting('chat.webhooks', true) = 'on')
      EXECUTE FUNCTION chat_webhook_member()`);
    await q.query(`
      CREATE TRIGGER room_members_webhook_update AFTER UPDATE ON room_members FOR EACH ROW
      WHEN (current_setting('chat.webhooks', true) = 'on'
        AND (to_jsonb(OLD) - '{last_read_at,version,version_xid,version_floor,left_version,left_xid}'::text[])
            IS DISTINCT FROM (to_jsonb(NEW) - '{last_read_at,version,version_xid,version_floor,left_version,left_xid}'::text[]))
      EXECUTE FUNCTION chat_webhook_member()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER room_members_webhook_update ON room_members`);
    await q.query(`DROP TRIGGER room_members_webhook_insert ON room_members`);
    await q.query(`DROP TRIGGER message_reactions_webhook ON message_reactions`);
    await q.query(`DROP TRIGGER messages_webhook_update ON messages`);
    await q.query(`DROP TRIGGER messages_webhook_insert ON messages`);
    await q.query(`DROP FUNCTION chat_webhook_member()`);
    await q.query(`DROP FUNCTION chat_webhook_reaction()`);
    await q.query(`DROP FUNCTION chat_webhook_message()`);
    await q.query(`DROP TABLE "webhook_dead_events"`);
    await q.query(`DROP TABLE "webhook_events"`);
  }
}
