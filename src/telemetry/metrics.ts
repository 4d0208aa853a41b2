import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Where an operation came in. */
export type Transport = 'http' | 'ws';

/** One GraphQL operation as the metrics count it. */
export interface OperationRecord {
  transport: Transport;
  /** A label from `Metrics.operationLabel`, never a client's raw text. */
  operation: string;
  /** query, mutation, subscription; '' when the document never resolved to an operation. */
  type: string;
  /** 'OK' or the first error's code. */
  outcome: string;
  /** Every error's code (a request may carry several). */
  errorCodes: readonly string[];
  /** How long it took to answer (HTTP); subscriptions live on, so WebSocket operations have none. */
  seconds?: number;
}

/** What a webhook delivery came to (the webhook worker, another issue, reports them). */
export type WebhookOutcome = 'delivered' | 'failed' | 'dead';

/** The pool's counts, read on each scrape (pg's Pool has them). */
export interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Event counts kept by the EventBus (src/realtime/event-bus.ts BusStats), read on each scrape. */
export interface EventCounts {
  published: number;
  received: number;
}

/**
 * What the server tells its metrics. Two implementations: `PrometheusMetrics`
 * (GET /metrics is served) and `NO_METRICS` (it is not, in production without
 * METRICS_TOKEN: then nothing is counted, so the hot paths pay nothing).
 */
export interface Metrics {
  readonly enabled: boolean;
  /** The label for an operation name: see PrometheusMetrics.operationLabel. */
  operationLabel(name: string | null | undefined, resolved: boolean): string;
  operation(record: OperationRecord): void;
  /** Errors an operation met after it started (a subscription's later results). */
  operationErrors(transport: Transport, operation: string, codes: readonly string[]): void;
  socketOpened(): void;
  /** `opened`: the socket had been accepted (it left the open gauge); refused ones only count their close code. */
  socketClosed(code: number, opened: boolean): void;
  subscriptionStarted(): void;
  subscriptionEnded(): void;
  /** A subscription result written to a socket. */
  delivered(): void;
  /** The webhook worker reports each delivery attempt's outcome here. */
  webhookDelivered(outcome: WebhookOutcome): void;
  /** The webhook worker hands the reader of its backlog (events not yet delivered); read on each scrape. */
  webhookBacklog(read: () => number | Promise<number>): void;
  /** The Prometheus text of everything, this process's own figures included. */
  text(): Promise<string>;
  readonly contentType: string;
}

/** Operation labels for documents that never named a resolved operation. */
export const OPERATION_LABELS = {
  /** The request was refused before its document was parsed (no token, too large, not JSON). */
  refused: '(refused)',
  /** The document did not parse or validate, or named no operation it holds. */
  invalid: '(invalid)',
  /** An operation without a name. */
  anonymous: '(anonymous)',
  /** A name beyond the cap of distinct names. */
  other: '(other)',
} as const;

export interface MetricsOptions {
  /** Distinct operation names counted by name; later new names count as "(other)". @default 50 */
  maxOperationNames?: number;
  /** Longest operation name kept; longer ones are cut. @default 64 */
  maxOperationNameLength?: number;
}

/** Seconds: a history page is a few ms, a slow search hundreds. */
const LATENCY_BUCKETS = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let processRegistry: Registry | null = null;

/**
 * Node's own figures (CPU, memory, event loop lag, GC) describe the process, not
 * one app: registered once per process, whatever number of apps it runs (tests
 * run many), so their observers are not installed again for each.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The app's metrics in a registry of its own (several apps in one process, as
 * in tests, never share counters). Operation names come from clients, so they
 * are bounded: only names of operations that parsed, validated and resolved are
 * used, cut to 64 characters, and after 50 distinct names the rest count as
 * "(other)" (the first names seen keep their series until the process restarts).
 */
export class PrometheusMetrics implements Metrics {
  readonly enabled = true;
  readonly registry = new Registry();
  private readonly names = new Set<string>();
  private readonly maxNames: number;
  private readonly maxNameLength: number;
  private readonly backlogReaders: (() => number | Promise<number>)[] = [];

  private readonly requests = new Counter({
    name: 'chat_graphql_requests_total',
    help: 'GraphQL operations by transport, operation name, type and outcome (OK or the first error code). WebSocket operations are counted when they start.',
    labelNames: ['transport', 'operation', 'type', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'chat_graphql_errors_total',
    help: 'GraphQL errors by transport, operation name and code.',
    labelNames: ['transport', 'operation', 'code'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'chat_graphql_request_duration_seconds',
    help: 'Time to answer an HTTP GraphQL request, by operation name and type.',
    labelNames: ['operation', 'type'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: 'chat_rate_limit_refusals_total',
    help: 'Operations refused with RATE_LIMITED, by transport and operation name.',
    labelNames: ['transport', 'operation'] as const,
    registers: [this.registry],
  });
  private readonly sockets = new Gauge({ name: 'chat_websocket_connections', help: 'Open WebSocket connections.', registers: [this.registry] });
  private readonly socketCloses = new Counter({
    name: 'chat_websocket_closes_total',
    help: 'WebSocket connections closed, by close code (1000 normal, 1001 going away, 4401 no token, 4403 token expired, 4429 too many sockets, 1013 try again later).',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly subscriptions = new Gauge({ name: 'chat_subscriptions_active', help: 'Subscriptions running on this server.', registers: [this.registry] });
  private readonly deliveries = new Counter({
    name: 'chat_events_delivered_total',
    help: 'Subscription results written to sockets (one event reaching many subscribers counts once per subscriber).',
    registers: [this.registry],
  });
  private readonly webhooks = new Counter({
    name: 'chat_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, failed: will be retried, dead: given up).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(options: MetricsOptions = {}) {
    this.maxNames = options.maxOperationNames ?? 50;
    this.maxNameLength = options.maxOperationNameLength ?? 64;
    const backlogReaders = this.backlogReaders;
    new Gauge({
      name: 'chat_webhook_backlog',
      help: 'Webhook events not yet delivered (0 until the webhook worker reports).',
      registers: [this.registry],
      async collect() {
        const counts = await Promise.all(backlogReaders.map((read) => read()));
        this.set(counts.reduce((sum, n) => sum + n, 0));
      },
    });
    // Shown at 0 before the first delivery, so a dashboard has its series from the start.
    for (const outcome of ['delivered', 'failed', 'dead'] as const) this.webhooks.inc({ outcome }, 0);
  }

  /** Counts the events of a bus, read on scrape: nothing is added to the publish path. */
  watchEvents(counts: EventCounts): void {
    const mirror = this.mirror.bind(this);
    mirror('chat_events_published_total', 'Events this server published, once per topic (a message event goes to its room topic).', () => counts.published);
    mirror('chat_events_received_total', 'Events that reached this server on a topic it watches, once per topic.', () => counts.received);
  }

  /** Plain sends that went to the database together (src/chat/messages/send-batcher.ts), read on scrape. */
  watchSendBatches(counts: { readonly batches: number; readonly batchedSends: number; readonly retriedAlone: number }): void {
    this.mirror('chat_send_batches_total', 'Statements that stored two or more plain sends together (sends wait for one another only while the server is busy).', () => counts.batches);
    this.mirror('chat_sends_batched_total', 'Plain sends stored in a statement with others (the rest went alone).', () => counts.batchedSends);
    this.mirror(
      'chat_send_batches_retried_total',
      'Statements of several sends that rolled back for another writer (a clientId used at the same moment, a deadlock) and went again send by send.',
      () => counts.retriedAlone,
    );
  }

  /** A counter that follows a running total kept elsewhere, read on scrape. */
  private mirror(name: string, help: string, read: () => number): void {
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const now = read();
        this.inc(now - seen);
        seen = now;
      },
    });
  }

  /** The database pool's connections by state, read on scrape. */
  watchPool(pool: PoolCounts, max: number): void {
    new Gauge({
      name: 'chat_db_pool_connections',
      help: 'Database pool connections: total open, idle, in use, and requests waiting for one.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    new Gauge({ name: 'chat_db_pool_max', help: 'The most connections the pool opens.', registers: [this.registry] }).set(max);
  }

  operationLabel(name: string | null | undefined, resolved: boolean): string {
    if (!resolved) return OPERATION_LABELS.invalid;
    if (!name) return OPERATION_LABELS.anonymous;
    const label = name.length > this.maxNameLength ? name.slice(0, this.maxNameLength) : name;
    if (this.names.has(label)) return label;
    if (this.names.size >= this.maxNames) return OPERATION_LABELS.other;
    this.names.add(label);
    return label;
  }

  operation(record: OperationRecord): void {
    const { transport, operation, type } = record;
    this.requests.inc({ transport, operation, type, outcome: record.outcome });
    this.operationErrors(transport, operation, record.errorCodes);
    if (record.seconds !== undefined) this.latency.observe({ operation, type }, record.seconds);
  }

  operationErrors(transport: Transport, operation: string, codes: readonly string[]): void {
    for (const code of codes) {
      this.errors.inc({ transport, operation, code });
      if (code === 'RATE_LIMITED') this.rateLimited.inc({ transport, operation });
    }
  }

  socketOpened(): void {
    this.sockets.inc();
  }

  socketClosed(code: number, opened: boolean): void {
    if (opened) this.sockets.dec();
    this.socketCloses.inc({ code: String(code) });
  }

  subscriptionStarted(): void {
    this.subscriptions.inc();
  }

  subscriptionEnded(): void {
    this.subscriptions.dec();
  }

  delivered(): void {
    this.deliveries.inc();
  }

  webhookDelivered(outcome: WebhookOutcome): void {
    this.webhooks.inc({ outcome });
  }

  webhookBacklog(read: () => number | Promise<number>): void {
    this.backlogReaders.push(read);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
  }
}

const nothing = () => {};

/** Metrics that are not served: every call is free. */
export const NO_METRICS: Metrics = {
  enabled: false,
  operationLabel: () => '',
  operation: nothing,
  operationErrors: nothing,
  socketOpened: nothing,
  socketClosed: nothing,
  subscriptionStarted: nothing,
  subscriptionEnded: nothing,
  delivered: nothing,
  webhookDelivered: nothing,
  webhookBacklog: nothing,
  text: async () => '',
  contentType: 'text/plain',
};
