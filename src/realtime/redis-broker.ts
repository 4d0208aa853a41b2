import { Cluster, Redis } from 'ioredis';
import type { ChatEvent } from '../chat/events';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger';
import type { Broker, Deliver } from './broker';

/** One Redis (`REDIS_URL`), or the seed nodes of a Redis Cluster (`REDIS_CLUSTER_NODES`). */
export type RedisTarget = { url: string } | { nodes: { host: string; port: number }[] };

/**
 * How long a new topic waits for Redis to confirm it. While Redis is away the
 * subscription stays queued in ioredis and is made once Redis is back; the
 * stream goes on meanwhile (events are lost then anyway: publishing fails too).
 */
const SUBSCRIBE_WAIT_MS = 2_000;

/**
 * A Redis (or Redis Cluster) client that never crashes the process: errors are
 * logged once per message and 10 s, ioredis reconnects. `subscriber`: its
 * commands wait for a reconnect (a topic asked for while Redis is away is
 * subscribed once it is back), and on a cluster it holds a connection per shard.
 */
export function redisClient(target: RedisTarget, logger: Logger, subscriber = false): Redis | Cluster {
  // A shard that is down makes every connection to it fail many times a second: say so once per message and 10 s.
  const said = new LRUCache<string, true>({ max: 100, ttl: 10_000 });
  const onError = (error: Error) => {
    if (said.has(error.message)) return;
    said.set(error.message, true);
    logger.warn({ err: error }, 'redis error');
  };
  const redisOptions = { maxRetriesPerRequest: subscriber ? null : 3 };
  const client =
    'url' in target
      ? new Redis(target.url, redisOptions)
      : new Cluster(target.nodes, { shardedSubscribers: subscriber, redisOptions, clusterRetryStrategy: (times) => Math.min(100 * times, 2_000) });
  // Without an 'error' listener an unreachable Redis would crash the process.
  client.on('error', onError);
  if (client instanceof Cluster) client.on('node error', onError);
  return client;
}

/**
 * Redis 7 sharded pub/sub: SPUBLISH / SSUBSCRIBE, one channel per topic. On a
 * cluster a channel lives on the shard that owns its hash slot, so topics, and
 * the work of carrying them, spread over the shards; a server holds one
 * subscriber connection per shard (ioredis' `shardedSubscribers`) and
 * subscribes only the topics its listeners watch. On one Redis the same
 * commands behave as plain pub/sub. Two clients: a subscribed connection cannot
 * publish. Neither a down Redis nor a failed publish ever throws: the event is
 * lost and logged, the process lives, ioredis reconnects and subscribes again.
 */
export function redisBroker(target: RedisTarget, deliver: Deliver, logger: Logger): Broker {
  const connect = (subscriber: boolean) => redisClient(target, logger, subscriber);
  const publisher = connect(false);
  const subscriber = connect(true);
  subscriber.on('smessage', (topic: string, message: string) => {
    let event: ChatEvent;
    try {
      event = JSON.parse(message) as ChatEvent;
    } catch (error) {
      logger.warn({ err: error, topic }, 'unreadable event dropped');
      return;
    }
    deliver(topic, event);
  });

  return {
    publish(topic, event) {
      publisher.spublish(topic, JSON.stringify(event)).catch((error: Error) => {
        logger.warn({ err: error, topic }, 'event not published: redis unavailable');
      });
    },
    subscribe(topic) {
      const subscribed = subscriber.ssubscribe(topic).then(
        () => {},
        (error: Error) => logger.warn({ err: error, topic }, 'redis subscribe failed'),
      );
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn({ topic }, 'redis has not confirmed a subscription yet; going on');
          resolve();
        }, SUBSCRIBE_WAIT_MS);
        timer.unref();
      });
      return Promise.race([subscribed, waited]).finally(() => clearTimeout(timer));
    },
    unsubscribe(topic) {
      subscriber.sunsubscribe(topic).catch((error: Error) => logger.warn({ err: error, topic }, 'redis unsubscribe failed'));
    },
    ping: () => publisher.ping().then(() => true, () => false),
    async close() {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
