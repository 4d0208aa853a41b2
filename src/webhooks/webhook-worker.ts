import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { PgBoss, type Job } from 'pg-boss';
import type { WebhookSettings } from '../config';
import type { Database } from '../db/database';
import type { Logger } from '../logger';
import type { Metrics } from '../telemetry/metrics';
import { webhookBody } from './event-body';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './signature';
import { type WebhookEvent, WebhookEventType } from './webhook.entity';
import type { WebhookRepository } from './webhook.repository';

/** The pg-boss queue of deliveries: one job per (event, URL). */
export const DELIVERY_QUEUE = 'chat-webhook-delivery';
/** The advisory lock one relay at a time holds (per database). */
export const RELAY_LOCK_KEY = 736_572_021;
/** Outbox rows handed to the queue per relay transaction. */
const RELAY_BATCH = 500;
/** The longest wait between two attempts of one event. */
const MAX_RETRY_DELAY_SECONDS = 3_600;

export interface WebhookWorkerOptions {
  settings: WebhookSettings;
  /** The database pg-boss keeps its jobs in (its own schema `pgboss`, its own small pool). */
  databaseUrl: string;
  db: Database;
  repo: WebhookRepository;
  logger: Logger;
  metrics: Metrics;
  /** Of these users, those online on any server (presence); the push recipients of a message.created are the members who are not. */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /** How often the outbox is looked at for rows to hand to the queue. @default 200 */
  relayIntervalMs?: number;
  /** Deliveries this server runs at once (different rooms or URLs: one room's wait for each other). @default 4 */
  concurrency?: number;
}

interface DeliveryJob {
  /** The outbox row (webhook_events.id). */
  event: string;
  url: string;
}

/** A delivery job's id: the outbox id then the URL's hash, so one (event, URL) is one job however often it is relayed, and ids sort in outbox order. */
function jobId(eventId: string, url: string): string {
  const hex = BigInt(eventId).toString(16).padStart(16, '0') + createHash('sha1').update(url).digest('hex').slice(0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A room's key at one URL: its events reach that URL one at a time, in outbox order (pg-boss key_strict_fifo). */
function streamKey(url: string, roomId: string): string {
  return `${createHash('sha1').update(url).digest('hex').slice(0, 12)}:${roomId}`;
}

/**
 * Delivers the outbox. A relay hands new outbox rows, in id order, to a
 * pg-boss queue whose policy is key_strict_fifo, one job per (event, URL) keyed
 * by (URL, room): pg-boss lets one job of a key run at a time, across every
 * server, and holds the key's later jobs while one is active or waiting to be
 * retried (head-of-line per room). A job POSTs the signed body; a failure (not
 * 2xx, or no answer within the timeout) is retried by pg-boss with exponential
 * backoff, until the event is older than the retry window: then it is kept in
 * webhook_dead_events and the room's next event goes. A server that dies
 * mid-delivery leaves its job active; pg-boss expires it (timeout + 5 s) and
 * it runs again elsewhere or after the restart: at least once.
 */
/** How long an event's push audience is reused by its other URLs' deliveries. */
const AUDIENCE_KEPT_MS = 30_000;
/** How often the outbox is pruned, and how many rows a statement deletes at most. */
const PRUNE_EVERY_MS = 300_000;
const PRUNE_BATCH = 10_000;
/** How long dead events are kept for a look by hand (30 days). */
export const DEAD_KEPT_SECONDS = 30 * 24 * 3600;

export class WebhookWorker {
  private readonly boss: PgBoss;
  private relayTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private relaying: Promise<void> | null = null;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  /** Wakes the idle delivery loops (the relay handed over jobs, or the worker stops). */
  private wake: (() => void)[] = [];

  constructor(private readonly options: WebhookWorkerOptions) {
    const { settings } = options;
    this.boss = new PgBoss({
      connectionString: options.databaseUrl,
      application_name: 'chat-api webhooks',
      max: (options.concurrency ?? 4) + 2,
      // How soon a delivery held by a dead server is found and retried.
      superviseIntervalSeconds: settings.superviseSeconds,
      monitorIntervalSeconds: settings.superviseSeconds,
      schedule: false,
    });
    this.boss.on('error', (error: unknown) => options.logger.warn({ err: error }, 'webhook queue error'));
  }

  private get expireInSeconds(): number {
    return Math.ceil(this.options.settings.timeoutMs / 1000) + 5;
  }

  async start(): Promise<void> {
    const { settings, logger, metrics } = this.options;
    await this.boss.start();
    const queue = {
      policy: 'key_strict_fifo' as const,
      // The retry window decides when an event is dead (deliver below); pg-boss only spaces the attempts.
      retryLimit: 1_000_000,
      retryDelay: settings.retryDelaySeconds,
      retryBackoff: true,
      retryDelayMax: MAX_RETRY_DELAY_SECONDS,
      expireInSeconds: this.expireInSeconds,
      // A job waiting behind its room's head must outlive the head's retry window (pg-boss's default is 14 days).
      retentionSeconds: 2 * settings.retryWindowSeconds + 86_400,
      deleteAfterSeconds: 3_600,
    };
    if (await this.boss.getQueue(DELIVERY_QUEUE)) {
      const { policy: _policy, ...changeable } = queue;
      await this.boss.updateQueue(DELIVERY_QUEUE, changeable);
    } else {
      await this.boss.createQueue(DELIVERY_QUEUE, queue).catch(async (error: unknown) => {
        // Another server created it meanwhile.
        if (!(await this.boss.getQueue(DELIVERY_QUEUE))) throw error;
      });
    }
    // Our own fetch loops rather than boss.work(): a worker polls again only after its interval, and
    // key_strict_fifo hands out one job per room at a time, so a room would get one event per poll.
    for (let i = 0; i < (this.options.concurrency ?? 4); i++) this.loops.push(this.deliveryLoop());
    metrics.webhookBacklog(() => this.backlog());
    const every = this.options.relayIntervalMs ?? 200;
    this.relayTimer = setInterval(() => void this.relay(), every);
    this.relayTimer.unref();
    this.pruneTimer = setInterval(() => void this.prune().catch((error) => logger.warn({ err: error }, 'webhook outbox prune failed')), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
    logger.info({ urls: settings.urls.length, retryWindowSeconds: settings.retryWindowSeconds }, 'webhooks on');
  }

  /**
   * Forgets delivered events older than twice the retry window, and dead ones
   * older than DEAD_KEPT_SECONDS: batch after batch until a batch is not full,
   * so the outbox never grows faster than it is pruned however busy the rooms.
   */
  async prune(): Promise<void> {
    const { repo } = this.options;
    while ((await repo.prune(2 * this.options.settings.retryWindowSeconds, PRUNE_BATCH)) === PRUNE_BATCH && !this.stopped);
    while ((await repo.pruneDead(DEAD_KEPT_SECONDS, PRUNE_BATCH)) === PRUNE_BATCH && !this.stopped);
  }

  /** Stops relaying and taking jobs; a delivery in flight gets its timeout to finish (else it runs again later). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.relayTimer) clearInterval(this.relayTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.relaying;
    for (const w of this.wake.splice(0)) w();
    await Promise.all(this.loops);
    await this.boss.stop({ graceful: true, close: true, timeout: Math.min(this.options.settings.timeoutMs + 500, 6_000) });
  }

  /**
   * Hands the outbox's new rows to the queue, oldest first, in one
   * transaction with marking them (a crash in between hands them over again;
   * job ids make that a no-op). One server relays at a time: a session
   * advisory lock taken before the transaction begins, so relay transactions
   * start one after another and pg-boss's created_on (the transaction's start)
   * keeps their order; within one, job ids do.
   */
  async relay(): Promise<void> {
    if (this.relaying || this.stopped) return this.relaying ?? undefined;
    this.relaying = this.relayOnce()
      .then(() => this.recovered('relay'))
      .catch((error: unknown) => this.failing('relay', error))
      .finally(() => (this.relaying = null));
    return this.relaying;
  }

  private async relayOnce(): Promise<void> {
    const client = await this.options.db.pool.connect();
    try {
      const [{ locked }] = (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK_KEY])).rows;
      if (!locked) return;
      try {
        for (let more = true; more && !this.stopped; ) {
          await client.query('BEGIN');
          try {
            const { rows } = await client.query<{ id: string; room_id: string }>(
              `SELECT id, room_id FROM webhook_events WHERE NOT relayed ORDER BY id LIMIT $1`,
              [RELAY_BATCH],
            );
            if (rows.length > 0) {
              const jobs = rows.flatMap((row) =>
                this.options.settings.urls.map((url) => ({ id: jobId(row.id, url), data: { event: row.id, url }, singletonKey: streamKey(url, row.room_id) })),
              );
              await this.boss.insert(DELIVERY_QUEUE, jobs, { db: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) } });
              await client.query(`UPDATE webhook_events SET relayed = true WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
            }
            await client.query('COMMIT');
            if (rows.length > 0) for (const w of this.wake.splice(0)) w();
            more = rows.length === RELAY_BATCH;
          } catch (error) {
            await client.query('ROLLBACK').catch(() => {});
            throw error;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK_KEY]);
      }
    } finally {
      client.release();
    }
  }

  /**
   * Takes the next delivery (pg-boss: the head job of a key no other job of
   * holds, FOR UPDATE SKIP LOCKED) and runs it, at once again while there is
   * work; idle, it waits for the relay or the poll interval (another server's relay).
   */
  private async deliveryLoop(): Promise<void> {
    const { logger } = this.options;
    const poll = this.options.relayIntervalMs ?? 200;
    while (!this.stopped) {
      let job: Job<DeliveryJob> | undefined;
      try {
        [job] = await this.boss.fetch<DeliveryJob>(DELIVERY_QUEUE, { batchSize: 1, includeMetadata: true });
        this.recovered('fetch');
      } catch (error) {
        this.failing('fetch', error);
      }
      if (!job) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, poll);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          this.wake.push(done);
        });
        continue;
      }
      const attempt = { id: job.id, retryCount: (job as { retryCount?: number }).retryCount ?? 0 };
      try {
        await this.deliver(job);
        await this.boss.complete(DELIVERY_QUEUE, attempt);
      } catch (error) {
        // pg-boss retries it after its backoff; the room's later events wait behind it.
        await this.boss.fail(DELIVERY_QUEUE, attempt, { message: String((error as Error)?.message ?? error) }).catch((e: unknown) => logger.warn({ err: e }, 'webhook queue fail failed'));
      }
    }
  }

  /** Push audiences being read or read lately, per event (pushAudienceOf). */
  private readonly audiences = new LRUCache<string, Promise<{ offlineMemberIds: string[]; mentionIds: string[] }>>({ max: 10_000, ttl: AUDIENCE_KEPT_MS });

  /** Parts whose last try failed (the database away): logged once when they start failing and once when they work again. */
  private readonly down = new Set<string>();

  private failing(part: string, error: unknown): void {
    if (this.down.has(part)) return;
    this.down.add(part);
    this.options.logger.warn({ err: error, part }, 'webhook worker cannot reach its queue; retrying');
  }

  private recovered(part: string): void {
    if (this.down.delete(part)) this.options.logger.info({ part }, 'webhook worker reaches its queue again');
  }

  /** One attempt of one event at one URL: resolves when it was accepted or is dead; throws to have pg-boss retry it later. */
  private async deliver(job: Job<DeliveryJob>): Promise<void> {
    const { settings, repo, metrics, logger } = this.options;
    const event = await repo.find(job.data.event);
    if (!event) return; // Pruned: long delivered or dead.
    const extra = event.type === WebhookEventType.MESSAGE_CREATED ? await this.pushAudienceOf(event) : {};
    const body = JSON.stringify(webhookBody(event, extra));
    const timestamp = String(Math.floor(Date.now() / 1000));
    let failure: string;
    try {
      const response = await fetch(job.data.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'chat-api-webhooks',
          [SIGNATURE_HEADER]: signWebhook(settings.secret, timestamp, body),
          [TIMESTAMP_HEADER]: timestamp,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      // The answer's body is not read: a receiver cannot make us hold it.
      await response.body?.cancel().catch(() => {});
      if (response.status >= 200 && response.status < 300) {
        metrics.webhookDelivered('delivered');
        return;
      }
      failure = `HTTP ${response.status}`;
    } catch (error) {
      failure = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : String((error as Error)?.message ?? error);
    }
    const attempts = ((job as { retryCount?: number }).retryCount ?? 0) + 1;
    if (Date.now() - Date.parse(event.createdAt) >= settings.retryWindowSeconds * 1000) {
      await repo.keepDead(event.id, job.data.url, body, attempts, failure);
      metrics.webhookDelivered('dead');
      logger.warn({ eventId: event.eventId, type: event.type, url: job.data.url, attempts, failure }, 'webhook event dead: kept in webhook_dead_events');
      return;
    }
    metrics.webhookDelivered('failed');
    logger.info({ eventId: event.eventId, url: job.data.url, attempts, failure }, 'webhook delivery failed; will retry');
    throw new Error(`webhook delivery to ${job.data.url} failed: ${failure}`);
  }

  /**
   * The push audience of an event, read once for all its URLs: their jobs run
   * at about the same time, and a room of thousands read (and asked of
   * presence) once per URL was that many times the work. A retry after
   * AUDIENCE_KEPT_MS reads it afresh (who is online has moved on).
   */
  private pushAudienceOf(event: WebhookEvent): Promise<{ offlineMemberIds: string[]; mentionIds: string[] }> {
    let audience = this.audiences.get(event.id);
    if (!audience) {
      audience = this.pushAudience(event.roomId, event.snapshot);
      this.audiences.set(event.id, audience);
      audience.catch(() => this.audiences.delete(event.id));
    }
    return audience;
  }

  /**
   * What a push service needs of a new message: the members to notify (active
   * members but the sender, without an open socket now) and who it mentions
   * (they may deserve a louder notification).
   */
  private async pushAudience(roomId: string, message: Record<string, unknown>): Promise<{ offlineMemberIds: string[]; mentionIds: string[] }> {
    const [members, mentionIds] = await Promise.all([
      this.options.repo.activeMemberIds(roomId, (message.sender_id as string | null) ?? null),
      this.options.repo.mentionIds(message.id as string),
    ]);
    const online = await this.options.online(members);
    return { offlineMemberIds: members.filter((userId) => !online.has(userId)), mentionIds };
  }

  /** Events not yet accepted: outbox rows not relayed, plus queued, retrying and running deliveries. */
  private async backlog(): Promise<number> {
    const [unrelayed, queue] = await Promise.all([this.options.repo.unrelayedCount(), this.boss.getQueue(DELIVERY_QUEUE)]);
    return unrelayed + (queue ? queue.queuedCount + queue.activeCount : 0);
  }
}
