import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The chat schema. The keys are the rules that must hold under concurrency:
 * one DIRECT room per ordered user pair, one membership per room and user, one
 * active OWNER per room, one reaction per message/user/reaction, a gap-free
 * per-room seq, one message per (sender, clientId).
 */
export class InitialSchema1764300000000 implements MigrationInterface {
  name = 'InitialSchema1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE room_type AS ENUM ('DIRECT', 'GROUP')`);
    await q.query(`CREATE TYPE member_role AS ENUM ('OWNER', 'ADMIN', 'MEMBER')`);
    await q.query(`CREATE TYPE message_type AS ENUM ('TEXT', 'IMAGE', 'FILE', 'SYSTEM')`);

    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        display_name varchar(200),
        company_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE rooms (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type room_type NOT NULL,
        name varchar(100),
        company_id uuid,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        direct_user_low uuid REFERENCES users(id),
        direct_user_high uuid REFERENCES users(id),
        last_seq integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_message_at timestamptz,
        CONSTRAINT rooms_direct_pair_ordered CHECK (direct_user_low < direct_user_high),
        CONSTRAINT rooms_direct_pair_only_direct CHECK (
          (type = 'DIRECT') = (direct_user_low IS NOT NULL AND direct_user_high IS NOT NULL)
        ),
        CONSTRAINT rooms_group_named CHECK (type = 'DIRECT' OR name IS NOT NULL)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX rooms_direct_pair_key ON rooms (direct_user_low, direct_user_high) WHERE type = 'DIRECT'`,
    );
    await q.query(`CREATE INDEX rooms_company_groups_idx ON rooms (company_id, created_at DESC) WHERE type = 'GROUP'`);

    await q.query(`
      CREATE TABLE room_members (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        room_id uuid NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id),
        role member_role NOT NULL,
        is_active boolean NOT NULL DEFAULT true,
        joined_at timestamptz NOT NULL DEFAULT now(),
        last_read_at timestamptz,
        removed_at timestamptz,
        CONSTRAINT room_members_room_user_key UNIQUE (room_id, user_id)
      )`);
    await q.query(`CREATE INDEX room_members_user_active_idx ON room_members (user_id, room_id) WHERE is_active`);
    await q.query(
      `CREATE UNIQUE INDEX room_members_one_owner_key ON room_members (room_id) WHERE role = 'OWNER' AND is_active`,
    );

    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        room_id uuid NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        sender_id uuid REFERENCES users(id),
        type message_type NOT NULL,
        content text,
        metadata jsonb,
        client_id varchar(100),
        seq integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        edited_at timestamptz,
        is_deleted boolean NOT NULL DEFAULT false,
        deleted_at timestamptz,
        CONSTRAINT messages_room_seq_key UNIQUE (room_id, seq)
      )`);
    // Keyset history walks (room_id, seq) backwards; the partial index serves the default, deleted-free page.
    await q.query(`CREATE INDEX messages_room_visible_seq_idx ON messages (room_id, seq DESC) WHERE NOT is_deleted`);
    await q.query(
      `CREATE UNIQUE INDEX messages_sender_client_key ON messages (sender_id, client_id) WHERE client_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX messages_room_created_idx ON messages (room_id, created_at)`);

    await q.query(`
      CREATE TABLE message_reactions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id),
        reaction varchar(32) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT message_reactions_message_user_reaction_key UNIQUE (message_id, user_id, reaction)
      )`);
    await q.query(`CREATE INDEX message_reactions_message_idx ON message_reactions (message_id, created_at)`);

    await q.query(`
      CREATE TABLE rate_limit_log (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL,
        room_id uuid NOT NULL,
        event_type varchar(20) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX rate_limit_log_window_idx ON rate_limit_log (user_id, room_id, event_type, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['rate_limit_log', 'message_reactions', 'messages', 'room_members', 'rooms', 'users']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
    for (const type of ['message_type', 'member_role', 'room_type']) {
      await q.query(`DROP TYPE IF EXISTS ${type}`);
    }
  }
}
