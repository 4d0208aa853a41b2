import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { PresenceDirectory } from '../chat/presence/presence-directory';
import type { Logger } from '../logger';
import { redisClient, type RedisTarget } from './redis-broker';

/** Live servers: member = server id, score = when it expires (ms since the epoch) unless it beats again. */
const SERVERS_KEY = 'chat:presence:servers';
/** The users with a socket on one server: a set of user ids. */
const serverKey = (serverId: string): string => `chat:presence:server:${serverId}`;
/** How many user ids one command carries when the whole set is written again. */
const CHUNK = 1000;

/**
 * Presence across servers, in Redis: one set per server of the users with a
 * socket there, and one sorted set of the live servers, each with the time it
 * expires. A server beats every third of the TTL (one ZADD and one PEXPIRE,
 * whatever its number of users) and adds or removes a user only when their
 * first socket opens or their last closes. A user is online when a live server's
 * set holds them: a server that dies without closing its sockets stops beating,
 * and its users read offline as soon as its entry expires (the TTL); the first
 * server to beat after that removes the entry (ZREM: one server wins), reads
 * its set, and announces those of its users who are online nowhere else as
 * offline since its last beat. Each command names one key, so it works on a
 * Redis Cluster as on one Redis (the per-server sets spread over the shards).
 * Never throws: an unreachable Redis is logged and answers "nobody elsewhere".
 */
export class RedisPresenceDirectory implements PresenceDirectory {
  private readonly serverId = randomUUID();
  private readonly key = serverKey(this.serverId);
  private readonly redis: Redis | Cluster;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** @param ttlMs how long a server that stopped beating still counts as live (PRESENCE_TTL_SECONDS). */
  constructor(
    target: RedisTarget,
    private readonly logger: Logger,
    private readonly ttlMs: number,
  ) {
    this.redis = redisClient(target, logger);
  }

  enter(userId: string): void {
    this.redis.sadd(this.key, userId).catch((error: Error) => this.logger.warn({ err: error }, 'presence not recorded: redis unavailable'));
  }

  leave(userId: string): void {
    this.redis.srem(this.key, userId).catch((error: Error) => this.logger.warn({ err: error }, 'presence not recorded: redis unavailable'));
  }

  async onlineElsewhere(userIds: readonly string[]): Promise<Set<string>> {
    const online = new Set<string>();
    // Redis away: answer at once (nobody elsewhere) rather than hold the request while ioredis retries.
    if (userIds.length === 0 || this.redis.status !== 'ready') return online;
    try {
      const others = (await this.liveServers()).filter((id) => id !== this.serverId);
      // Sent together on the one connection (one round trip), each to the shard of its key.
      const answers = await Promise.all(others.map((id) => this.redis.smismember(serverKey(id), ...userIds)));
      for (const answer of answers) answer.forEach((isMember, i) => isMember === 1 && online.add(userIds[i]));
    } catch (error) {
      this.logger.warn({ err: error }, 'presence of other servers unknown: redis unavailable');
    }
    return online;
  }

  start(localUsers: () => Iterable<string>, localCount: () => number, expired: (userIds: string[], lastSeenAt: string) => void): void {
    const beat = () => {
      this.beat(localUsers, localCount, expired)
        .catch((error: Error) => this.logger.warn({ err: error }, 'presence heartbeat failed: redis unavailable'))
        .finally(() => {
          if (this.closed) return;
          this.timer = setTimeout(beat, Math.max(100, Math.floor(this.ttlMs / 3)));
          this.timer.unref();
        });
    };
    beat();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.allSettled([this.redis.zrem(SERVERS_KEY, this.serverId), this.redis.del(this.key)]);
    await this.redis.quit().catch(() => {});
  }

  private liveServers(): Promise<string[]> {
    return this.redis.zrangebyscore(SERVERS_KEY, `(${Date.now()}`, '+inf');
  }

  /** Says this server lives, writes its users again if Redis lost them, and expires the servers that stopped beating. */
  private async beat(localUsers: () => Iterable<string>, localCount: () => number, expired: (userIds: string[], lastSeenAt: string) => void): Promise<void> {
    const now = Date.now();
    // Counted as the commands are sent: users entering or leaving later are sent after them.
    const count = localCount();
    const [, , stored] = await Promise.all([
      this.redis.zadd(SERVERS_KEY, now + this.ttlMs, this.serverId),
      this.redis.pexpire(this.key, this.ttlMs * 3),
      this.redis.scard(this.key),
    ]);
    // Redis restarted, or the others took this server for dead (it did not beat for a TTL): its set is written again.
    if (stored !== count) {
      const users = [...localUsers()];
      const writes: Promise<unknown>[] = [this.redis.del(this.key)];
      for (let i = 0; i < users.length; i += CHUNK) writes.push(this.redis.sadd(this.key, ...users.slice(i, i + CHUNK)));
      writes.push(this.redis.pexpire(this.key, this.ttlMs * 3));
      await Promise.all(writes);
    }
    const dead = await this.redis.zrangebyscore(SERVERS_KEY, '-inf', now, 'WITHSCORES');
    for (let i = 0; i < dead.length; i += 2) {
      const [serverId, expiresAt] = [dead[i], Number(dead[i + 1])];
      // Every live server sees the dead one: the one whose ZREM removes it announces its users.
      if (serverId === this.serverId || (await this.redis.zrem(SERVERS_KEY, serverId)) !== 1) continue;
      const users = await this.redis.smembers(serverKey(serverId));
      await this.redis.del(serverKey(serverId));
      if (users.length === 0) continue;
      const elsewhere = await this.onlineElsewhere(users);
      const gone = users.filter((id) => !elsewhere.has(id));
      this.logger.info({ serverId, users: users.length, offline: gone.length }, 'presence of a server that stopped beating expired');
      if (gone.length > 0) expired(gone, new Date(expiresAt - this.ttlMs).toISOString());
    }
  }
}
