import type { Repositories } from '../chat-repositories';
import type { ChatEventPublisher } from '../events';
import { Coalescer } from '../limits/coalescer';
import type { PresenceDirectory } from './presence-directory';

/** At most one presence event per user (and server) in this many ms; the state at the end of a burst follows. @default 1000 */
export const PRESENCE_INTERVAL_MS = 1000;

/** A user's presence as a viewer may see it. */
export interface PresenceState {
  online: boolean;
  /** When their last socket closed; now while online; null when it never did, or for a viewer who may not see it. */
  lastSeenAt: string | null;
}

/** What a viewer who shares no active room with the user sees. */
export const PRESENCE_HIDDEN: PresenceState = Object.freeze({ online: false, lastSeenAt: null });

/**
 * Presence: a user is online while at least one authenticated socket of theirs
 * is open on any server. This server counts its own sockets per user (the
 * WebSocket transport asks it, also for the per-user socket cap, so presence
 * costs an idle socket nothing more); the directory tells the other servers
 * and answers for theirs. A user's first socket here and their last one going
 * are announced to the members of their rooms, at most once per interval per
 * user (src/chat/limits/coalescer.ts): a user whose sockets flap costs their
 * rooms a few events a second, not one per socket. When the last socket
 * anywhere closes, the moment is written to `users.last_seen_at`.
 */
export class PresenceService {
  /** Open authenticated sockets per user on this server (users with none are absent). */
  private readonly sockets = new Map<string, number>();
  private readonly coalescer: Coalescer<{ userId: string; at: number }>;
  /** Announcements under way: shutdown waits for them before the database closes. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly repos: Repositories,
    private readonly events: ChatEventPublisher,
    private readonly directory: PresenceDirectory,
    private readonly onError: (error: unknown, what: string) => void,
    intervalMs = PRESENCE_INTERVAL_MS,
  ) {
    this.coalescer = new Coalescer(intervalMs, (change) => this.track(this.announce(change.userId, change.at), 'presence change not announced'));
    directory.start(
      () => this.sockets.keys(),
      () => this.sockets.size,
      (userIds, lastSeenAt) => this.track(this.expired(userIds, lastSeenAt), 'presence of a dead server not expired'),
    );
  }

  /** The user's open authenticated sockets on this server. */
  socketsOf(userId: string): number {
    return this.sockets.get(userId) ?? 0;
  }

  /** An authenticated socket of the user opened on this server. */
  opened(userId: string): void {
    const open = this.socketsOf(userId) + 1;
    this.sockets.set(userId, open);
    if (open > 1) return;
    this.directory.enter(userId);
    this.coalescer.offer(userId, { userId, at: Date.now() });
  }

  /** An authenticated socket of the user closed on this server. */
  closed(userId: string): void {
    const open = this.socketsOf(userId) - 1;
    if (open > 0) {
      this.sockets.set(userId, open);
      return;
    }
    if (!this.sockets.delete(userId)) return;
    this.directory.leave(userId);
    this.coalescer.offer(userId, { userId, at: Date.now() });
  }

  /** Of `userIds`, those online on any server: this server's from memory, the rest in one round of the directory. */
  async online(userIds: readonly string[]): Promise<Set<string>> {
    const online = new Set<string>();
    const elsewhere: string[] = [];
    for (const id of userIds) {
      if (this.sockets.has(id)) online.add(id);
      else elsewhere.push(id);
    }
    if (elsewhere.length > 0) for (const id of await this.directory.onlineElsewhere(elsewhere)) online.add(id);
    return online;
  }

  /** Announces the states still pending (the sockets closed at shutdown), waits for them, and leaves the directory. */
  async close(): Promise<void> {
    this.coalescer.flush();
    await Promise.allSettled([...this.pending]);
    await this.directory.close();
  }

  private track(work: Promise<void>, what: string): void {
    const done = work.catch((error) => this.onError(error, what)).finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /**
   * Tells the user's rooms what their presence is now (the state when the
   * interval ends, not each flap of it). Their last socket here closed while
   * one is open elsewhere: nothing changed for anyone, nothing is said.
   */
  private async announce(userId: string, at: number): Promise<void> {
    const here = this.sockets.has(userId);
    const online = here || (await this.directory.onlineElsewhere([userId])).has(userId);
    if (!here && online) return;
    const when = new Date(at).toISOString();
    if (!online) await this.repos.users.markLastSeen([userId], when);
    await this.publish([userId], online, when);
  }

  /** Users of a server that died (online nowhere now): offline since it was last heard of. */
  private async expired(userIds: readonly string[], lastSeenAt: string): Promise<void> {
    const gone = userIds.filter((id) => !this.sockets.has(id));
    if (gone.length === 0) return;
    await this.repos.users.markLastSeen(gone, lastSeenAt);
    await this.publish(gone, false, lastSeenAt);
  }

  private async publish(userIds: readonly string[], online: boolean, lastSeenAt: string): Promise<void> {
    for (const { userId, roomId } of await this.repos.members.activeRoomsOf(userIds)) {
      this.events.publish({ kind: 'presence', roomId, userId, online, lastSeenAt });
    }
  }
}
