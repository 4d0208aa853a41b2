import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { Logger } from '../logger';
import { CHAT_TOPIC, type ChatEventTarget } from './event-bus';

/** Where events travel: in this process, or through Redis to every instance. */
export interface EventTransport {
  target: ChatEventTarget;
  /** Reachability for /ready; null when there is no Redis. */
  ping: (() => Promise<boolean>) | null;
  close(): Promise<void>;
}

export function inProcessTransport(): EventTransport {
  return { target: new EventTarget(), ping: null, close: async () => {} };
}

/**
 * Redis pub/sub through @graphql-yoga/redis-event-target, with two ioredis
 * clients (a subscribed connection cannot publish). Neither a down Redis nor a
 * failed publish ever throws: the event is lost and logged, the process lives,
 * and ioredis reconnects and re-subscribes by itself.
 */
export async function redisTransport(url: string, logger: Logger): Promise<EventTransport> {
  const connect = () => {
    const client = new Redis(url, { maxRetriesPerRequest: 3 });
    // Without an 'error' listener an unreachable Redis would crash the process.
    client.on('error', (error) => logger.warn({ err: error }, 'redis error'));
    return client;
  };
  const publisher = connect();
  const subscriber = connect();
  // The event target fires publish() and forgets the promise: a failure must cost the event, not the process.
  const publishClient = {
    publish: (channel: string, message: string) =>
      publisher.publish(channel, message).catch((error: Error) => {
        logger.warn({ err: error, channel }, 'event not published: redis unavailable');
        return 0;
      }),
  } as unknown as Redis;
  const target = createRedisEventTarget({ publishClient, subscribeClient: subscriber }) as unknown as ChatEventTarget;
  // Wait for the channel, so events published right after start are not missed.
  await subscriber.subscribe(CHAT_TOPIC).catch((error) => logger.warn({ err: error }, 'redis subscribe failed'));
  return {
    target,
    ping: () => publisher.ping().then(() => true, () => false),
    close: async () => {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
