/**
 * Who is online on the other servers. This server knows its own sockets
 * (PresenceService counts them); the directory tells the others which users
 * have one here, and answers which users have one elsewhere. In-process (one
 * server): nobody else. With Redis: src/realtime/presence-directory.ts.
 */
export interface PresenceDirectory {
  /** The user's first socket on this server opened. Never throws. */
  enter(userId: string): void;
  /** The user's last socket on this server closed. Never throws. */
  leave(userId: string): void;
  /** Of `userIds`, those with a socket on another live server: one round of calls for the batch, whatever its size. Never throws (an unreachable Redis answers none). */
  onlineElsewhere(userIds: readonly string[]): Promise<Set<string>>;
  /**
   * Starts telling the others this server lives, and hearing of servers that
   * died: `expired` gets their users who are online nowhere now, and when the
   * dead server was last heard of.
   */
  start(localUsers: () => Iterable<string>, localCount: () => number, expired: (userIds: string[], lastSeenAt: string) => void): void;
  /** Leaves the directory (this server's users with it) and closes its connection. */
  close(): Promise<void>;
}

/** One server: there is nobody else to tell or ask. */
export class InProcessPresenceDirectory implements PresenceDirectory {
  enter(): void {}

  leave(): void {}

  async onlineElsewhere(): Promise<Set<string>> {
    return new Set();
  }

  start(): void {}

  async close(): Promise<void> {}
}
