import { setTimeout as sleep } from 'node:timers/promises';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import type { Member } from '../members/member.entity';
import type { Message } from '../messages/message.entity';
import { requireIntInRange } from '../validation';
import { fromOutside } from '../reading/outside';
import type { ChangedMessage } from './change.repository';
import type { CursorCodec } from './cursor';
import { below, comparePositions, exactly, type Position, positionOf } from './versions';

export const CHANGES_LIMIT = { min: 1, max: 500 };

/** How long `changes` waits, at most, for writes in flight before committed changes (then it answers `hasMore`). */
export const HELD_BACK_WAIT_MS = 1_000;

/** Waits of 2, 4, 8... ms, `totalMs` in all: one per `next()`, done once the time is spent. */
async function* backoff(totalMs: number): AsyncGenerator<void, void> {
  for (let waited = 0, delay = 2; waited < totalMs; delay *= 2) {
    const step = Math.min(delay, totalMs - waited);
    await sleep(step);
    waited += step;
    yield;
  }
}

/** A changed message as its reader may see it: from outside, when they have left its room since. */
export function asSeenBy({ roomLeft, ...message }: ChangedMessage): Message {
  return roomLeft ? fromOutside(message) : message;
}

/** A page of the changes feed. */
export interface ChangeBatch {
  messages: Message[];
  memberships: Member[];
  /** Pass as `since` next time. */
  cursor: string;
  hasMore: boolean;
}

/**
 * The changes feed: what changed in the caller's rooms (and in their own
 * memberships) after a cursor, oldest change first, each row at its latest
 * state. Positions are read below the watermark (src/chat/changes/versions.ts),
 * so paging by position misses nothing and repeats nothing, whatever commits
 * meanwhile, and a change that commits late is read once the watermark passes it.
 */
export class ChangeService {
  constructor(
    private readonly repos: ChatRepositories,
    readonly cursors: CursorCodec,
  ) {}

  /** A position in the feed as clients see it (ChangeBatch.cursor). */
  cursorOf(position: Position): string {
    return this.cursors.encode(position);
  }

  /**
   * A message's version as clients see it (Message.version): its revision and
   * its position with its floor, the same however often it is read; as `since`
   * it resumes the feed without a gap (src/chat/changes/versions.ts).
   */
  versionOf(message: Pick<Message, 'revision' | 'version' | 'versionXid' | 'versionFloor'>): string {
    return this.cursors.encodeVersion(message.revision, positionOf(message));
  }

  /**
   * Up to `limit` messages and `limit` memberships changed after `since`; without
   * `since`, none and the cursor of now. Both lists stop below the lower of the
   * two reads' watermarks (a row above it may have a transaction still in
   * flight before it in the other list) and, when either had more, at the
   * earlier of their last positions, so the next page repeats nothing.
   * A committed change behind a write still in flight is waited for, up to
   * HELD_BACK_WAIT_MS; `hasMore` says a row was left for the next page.
   */
  async changes(actor: Actor, since: string | null, limit: number): Promise<ChangeBatch> {
    requireIntInRange('limit', limit, CHANGES_LIMIT.min, CHANGES_LIMIT.max);
    if (since === null) return { messages: [], memberships: [], cursor: this.cursors.encode(await this.now()), hasMore: false };
    const from = this.cursors.decode(since, 'since');
    const waits = backoff(HELD_BACK_WAIT_MS);
    for (;;) {
      const [messages, memberships] = await Promise.all([
        this.repos.changes.messagesAfter(actor.id, actor.companyId, from, limit + 1),
        this.repos.changes.membershipsAfter(actor.id, actor.companyId, from, limit + 1),
      ]);
      // Each read saw its own statement's watermark; together they have read everything final below the lower one.
      const watermark = BigInt(messages.watermark) < BigInt(memberships.watermark) ? messages.watermark : memberships.watermark;
      const final = <T extends Parameters<typeof positionOf>[0]>(rows: T[]) => rows.filter((row) => BigInt(row.versionXid) < BigInt(watermark));
      const lists = { messages: final(messages.rows), memberships: final(memberships.rows) };
      const heldBack = lists.messages.length < messages.rows.length || lists.memberships.length < memberships.rows.length;
      const full = lists.messages.length > limit || lists.memberships.length > limit;
      // A committed change waits behind a write still in flight before it (usually for milliseconds):
      // wait for it, within a bound, rather than answer without a change the caller may have just made.
      if (heldBack && !full && !(await waits.next()).done) continue;
      return this.page(from, lists, watermark, limit, heldBack);
    }
  }

  /**
   * The cursor of now: below every transaction that had an id when asked, once
   * those still in flight have ended (waited for up to HELD_BACK_WAIT_MS, as a
   * page waits), so it names exactly what had committed by the answer; past
   * the wait, below the oldest in flight (the changes after it that had
   * committed are then read again, never missed).
   */
  private async now(): Promise<Position> {
    const { below: watermark, next } = await this.repos.changes.now();
    let reached = watermark;
    for (const waits = backoff(HELD_BACK_WAIT_MS); BigInt(reached) < BigInt(next) && !(await waits.next()).done; ) {
      reached = (await this.repos.changes.now()).below;
    }
    return below(BigInt(reached) < BigInt(next) ? reached : next);
  }

  /** One page of `changes` from final rows (below `watermark`), up to `limit + 1` of each kind. */
  private page(from: Position, lists: { messages: ChangedMessage[]; memberships: Member[] }, watermark: string, limit: number, heldBack: boolean): ChangeBatch {
    let bound = below(watermark);
    let cut = false;
    // When either list had more, both stop at the earlier of their last positions, so the next page repeats nothing.
    for (const list of [lists.messages, lists.memberships]) {
      if (list.length > limit && comparePositions(positionOf(list[limit - 1]), bound) < 0) {
        bound = positionOf(list[limit - 1]);
        cut = true;
      }
    }
    const upTo = <T extends Parameters<typeof positionOf>[0]>(list: T[]) => list.filter((row) => comparePositions(positionOf(row), bound) <= 0);
    const page = { messages: upTo(lists.messages), memberships: upTo(lists.memberships) };
    const hasMore = heldBack || page.messages.length < lists.messages.length || page.memberships.length < lists.memberships.length;
    return {
      // Rooms left, and memberships ended, are read from outside: what they were, nothing of the room since.
      messages: page.messages.map(asSeenBy),
      memberships: page.memberships.map((m) => (m.isActive ? m : fromOutside(m))),
      cursor: this.cursors.encode(cut ? exactly(bound) : this.reached(from, [...page.messages, ...page.memberships], watermark)),
      hasMore,
    };
  }

  /**
   * Where a reader stands who, from `from`, read every change below the
   * watermark (`delivered` of them): still at `from` when there were none (a
   * cursor moves only with the reader's own changes); otherwise at the later of
   * `from` and the last delivered, with everything from the watermark up still after it.
   */
  private reached(from: Position, delivered: Parameters<typeof positionOf>[0][], watermark: string): Position {
    if (delivered.length === 0) return from;
    const last = delivered.map(positionOf).reduce((a, b) => (comparePositions(a, b) >= 0 ? a : b));
    const at = comparePositions(last, from) >= 0 ? last : from;
    const floor = BigInt(at.xid) < BigInt(watermark) ? BigInt(at.xid) : BigInt(watermark);
    return { xid: at.xid, version: at.version, floor: (floor > BigInt(from.floor) ? floor : BigInt(from.floor)).toString() };
  }
}
