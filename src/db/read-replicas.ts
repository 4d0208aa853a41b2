import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { Pool, type PoolConfig } from 'pg';

/**
 * Read replicas (DATABASE_READ_URLS): which statements may read a streaming
 * standby, and which standby.
 *
 * - **By operation.** An HTTP request runs in a ReadScope (src/transport/http.ts);
 *   once Apollo knows the operation is a query, the scope is a pure read and its
 *   statements outside a transaction may go to a replica (src/db/database.ts asks
 *   `replicaFor`). Everything else (mutations, transactions, authentication,
 *   subscriptions and their events, background work) has no pure-read scope and
 *   runs on the primary. A statement that must see the primary's own state
 *   (a sequence's value) says so (`StatementOptions.primary`).
 * - **Freshness, measured.** Every `pollMs` the primary's WAL insert position is
 *   read (a sample: when it was asked, and the position), and each replica's
 *   replay position. A replica that has replayed up to a sample holds every
 *   commit acknowledged before that sample was asked: it is "fresher than" that
 *   moment. It is read only while that moment is at most `maxLagMs` ago, while it
 *   answers its polls, and while it is a standby of the same cluster.
 * - **Read-your-writes.** When a user's write ends (a mutation's response, a
 *   token's claims written), `wrote(user)` notes the moment; that user's reads
 *   go to a replica only once it is fresher than that moment, i.e. it has replayed
 *   a primary position asked for after the write committed. Kept per server, in
 *   memory, for `maxLagMs` (after that every replica in use is fresher anyway).
 * - **One view per request.** A request reads the replica it first picked, or
 *   the primary from the first statement the replica could not serve on: a
 *   later statement of a request never sees an older state than an earlier one.
 * - **Faults.** A replica statement that fails for the replica's sake (connection
 *   refused or lost, recovery conflict, a table it has not replayed yet) is sent
 *   again to the primary; a lost connection also takes the replica out of use
 *   until its next poll answers.
 */

export interface ReadReplicaOptions {
  /** The primary (DATABASE_URL): its WAL position is the yardstick. */
  primaryUrl: string;
  /** The standbys (DATABASE_READ_URLS). */
  urls: string[];
  /** pg settings every connection shares with the primary's pool (types, time zone, statement timeout). */
  connection: PoolConfig;
  /** Connections per replica. @default 20 */
  poolSize?: number;
  /** A replica whose data is older than this is not read (DATABASE_READ_MAX_LAG_MS). @default 1000 */
  maxLagMs?: number;
  /** How often positions are read. @default 100 */
  pollMs?: number;
  /** Told when a replica starts or stops being read (logged by the app). */
  onChange?: (status: ReplicaStatus) => void;
}

/** What /ready and the logs say of a replica. */
export interface ReplicaStatus {
  /** host:port/database (no credentials). */
  name: string;
  /** True while reads go to it. */
  inUse: boolean;
  /** `replaying` (in use), `lagging` (older than the bound), `down` (not answering), `not a standby`, `another cluster`, `starting`. */
  state: 'replaying' | 'lagging' | 'down' | 'not a standby' | 'another cluster' | 'starting';
  /** How old its data may be, in ms (an upper bound: it includes up to a round of polls); null before it was measured. */
  lagMs: number | null;
  /** WAL bytes the primary had written past its replay position at the last poll. */
  lagBytes: number | null;
  /** Why it is down (its last error), if it is. */
  error?: string;
}

/** How one HTTP request reads. */
export interface ReadScope {
  /** The caller, when known: their own writes decide which replicas may serve them. */
  userId: string | null;
  /** True once the operation is known to be a query: its statements outside a transaction may read a replica. */
  pureRead: boolean;
  /** The replica this request reads, or the primary once it fell back there (never back to a replica: one view per request). */
  pinned: Replica | 'primary' | null;
}

const WAL_POSITION = `pg_current_wal_insert_lsn() - '0/0'::pg_lsn`;

/**
 * The primary's WAL insert position: at or past the commit record of every
 * transaction acknowledged before it is read, whatever `synchronous_commit`
 * says. Where no byte of the current page is written yet, the position reads
 * past the page header; the previous record ended at the page boundary, and a
 * standby that replayed it reports the boundary, so the header is taken off
 * (else a standby of an idle primary would never look caught up).
 */
const PRIMARY_POLL = `WITH w AS (SELECT ${WAL_POSITION} AS pos, current_setting('wal_block_size')::numeric AS page,
    pg_size_bytes(current_setting('wal_segment_size')) AS segment)
  SELECT (CASE WHEN pos % segment = 40 THEN pos - 40 WHEN pos % page = 24 THEN pos - 24 ELSE pos END)::text AS position,
    (SELECT system_identifier::text FROM pg_control_system()) AS system FROM w`;

const REPLICA_POLL = `SELECT pg_is_in_recovery() AS standby, (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text AS replayed,
    (SELECT system_identifier::text FROM pg_control_system()) AS system`;

/** One standby: a pool for reads, and one connection for its polls. */
export class Replica {
  readonly name: string;
  readonly pool: Pool;
  /** Statements sent here (tests and the benchmark read it). */
  statements = 0;
  /** Statements that failed here and were sent to the primary instead. */
  fallbacks = 0;
  /** Its data holds every commit acknowledged before this moment (performance.now()). */
  fresherThan = -Infinity;
  answering = false;
  problem: 'not a standby' | 'another cluster' | null = null;
  /** Its last replay position (null: it is not in recovery). */
  replayed: bigint | null = null;
  /** Its cluster's system_identifier, from its last poll. */
  system: string | null = null;
  lastError: string | undefined;
  polling = false;
  measured = false;
  readonly probe: Pool;

  constructor(url: string, connection: PoolConfig, poolSize: number, onIdleError: (replica: Replica, error: Error) => void) {
    const u = new URL(url);
    this.name = `${u.hostname}:${u.port || '5432'}${u.pathname}`;
    // A replica that does not answer is given up on quickly: the read goes to the primary instead. query_timeout bounds
    // a statement whose replica vanished without closing the connection (a partition) to its statement_timeout and a second.
    this.pool = new Pool({
      ...connection,
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: 1_000,
      ...(typeof connection.statement_timeout === 'number' && { query_timeout: connection.statement_timeout + 1_000 }),
    });
    this.probe = new Pool({ ...connection, connectionString: url, max: 1, connectionTimeoutMillis: 1_000, query_timeout: 1_000, application_name: 'chat-api replica poll' });
    // An idle connection whose server went away emits 'error': unheard, it would end the process.
    this.pool.on('error', (error) => onIdleError(this, error));
    this.probe.on('error', () => {});
  }
}

/** A reading of the primary's position: when it was asked (performance.now()), and the position. */
interface Sample {
  at: number;
  position: bigint;
}

export class ReadReplicas {
  readonly replicas: Replica[];
  readonly maxLagMs: number;
  private readonly pollMs: number;
  private readonly scopes = new AsyncLocalStorage<ReadScope>();
  private readonly primary: Pool;
  /** The primary's positions of the last maxLagMs (and the latest), oldest first. */
  private readonly samples: Sample[] = [];
  private primarySystem: string | null = null;
  /** When each user's last write ended (performance.now()), for maxLagMs. */
  private readonly lastWrite = new Map<string, number>();
  /** The state last told to onChange, per replica. */
  private readonly reported = new Map<Replica, ReplicaStatus['state']>();
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: ReadReplicaOptions) {
    this.maxLagMs = options.maxLagMs ?? 1_000;
    this.pollMs = options.pollMs ?? 100;
    const { connection } = options;
    this.primary = new Pool({ ...connection, connectionString: options.primaryUrl, max: 1, query_timeout: 1_000, application_name: 'chat-api replica poll' });
    this.primary.on('error', () => {});
    this.replicas = options.urls.map((url) => new Replica(url, connection, options.poolSize ?? 20, (replica, error) => this.failed(replica, error)));
  }

  /** Starts polling; resolves after the first round (so a server starts with its replicas measured). */
  async start(): Promise<void> {
    await this.poll(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([this.primary, ...this.replicas.flatMap((r) => [r.pool, r.probe])].map((pool) => pool.end().catch(() => {})));
  }

  /** Runs `work` (an HTTP request) in a scope of its own: the primary until `pureRead()`. */
  run<T>(userId: string | null, work: () => T): T {
    return this.scopes.run({ userId, pureRead: false, pinned: null }, work);
  }

  /** The operation of the current request is a query: its statements may read a replica. */
  pureRead(): void {
    const scope = this.scopes.getStore();
    if (scope) scope.pureRead = true;
  }

  /** The user's write has ended (committed): their reads wait for a replica that replayed it. */
  wrote(userId: string): void {
    this.lastWrite.set(userId, performance.now());
  }

  /** The user of the current request wrote (its operation was a mutation). */
  scopeWrote(): void {
    const userId = this.scopes.getStore()?.userId;
    if (userId) this.wrote(userId);
  }

  /**
   * A statement of the current request reads the primary (TypeORM's API, a
   * sequence): the rest of the request reads it too, so no later statement
   * sees an older state than this one.
   */
  pinPrimary(): void {
    const scope = this.scopes.getStore();
    if (scope?.pureRead) scope.pinned = 'primary';
  }

  /** The replica a statement of the current request reads, or null: the primary. */
  replicaFor(): Replica | null {
    const scope = this.scopes.getStore();
    if (!scope?.pureRead || scope.pinned === 'primary') return null;
    const now = performance.now();
    const wroteAt = scope.userId === null ? undefined : this.lastWrite.get(scope.userId);
    const serves = (r: Replica) => this.usable(r, now) && (wroteAt === undefined || r.fresherThan > wroteAt);
    if (scope.pinned) {
      if (serves(scope.pinned)) return scope.pinned;
    } else {
      for (let i = 0; i < this.replicas.length; i++) {
        const replica = this.replicas[this.next++ % this.replicas.length];
        if (serves(replica)) return (scope.pinned = replica);
      }
    }
    scope.pinned = 'primary';
    return null;
  }

  /** A statement on `replica` failed for the replica's sake: this request reads the primary from now on. */
  fellBack(replica: Replica, error: unknown): void {
    replica.fallbacks += 1;
    const scope = this.scopes.getStore();
    if (scope) scope.pinned = 'primary';
    if (lostReplica(error)) this.failed(replica, error as Error);
  }

  status(): ReplicaStatus[] {
    const now = performance.now();
    const latest = this.samples.at(-1);
    return this.replicas.map((r) => {
      const lagMs = r.measured && Number.isFinite(r.fresherThan) ? Math.round(now - r.fresherThan) : null;
      const lagBytes = latest && r.replayed !== null ? Number(latest.position > r.replayed ? latest.position - r.replayed : 0n) : null;
      return { name: r.name, inUse: this.usable(r, now), state: this.stateOf(r, now), lagMs, lagBytes, ...(r.lastError && !r.answering && { error: r.lastError }) };
    });
  }

  private usable(r: Replica, now: number): boolean {
    return r.answering && r.problem === null && now - r.fresherThan <= this.maxLagMs;
  }

  private stateOf(r: Replica, now: number): ReplicaStatus['state'] {
    if (!r.measured) return 'starting';
    if (!r.answering) return 'down';
    if (r.problem) return r.problem;
    return this.usable(r, now) ? 'replaying' : 'lagging';
  }

  /** Out of use until its next poll answers. */
  private failed(replica: Replica, error: Error): void {
    replica.answering = false;
    replica.lastError = error.message;
    this.report(replica);
  }

  /**
   * One round: the primary's position and each replica's replay position, asked
   * at once. A replica is fresh as of the newest primary sample at or below its
   * last replay position, whether that sample was taken before or after it
   * (replay only moves forward), so a round costs the slower of the two, not both.
   */
  private async poll(first = false): Promise<void> {
    const primary = this.samplePrimary();
    const replicas = this.replicas.filter((r) => !r.polling).map((r) => this.pollReplica(r));
    // The first round is awaited whole (a server starts with its replicas measured); later ones are not
    // waited for, so a replica that hangs delays no other, nor the next round.
    await (first ? Promise.all([primary, ...replicas]) : primary);
    const now = performance.now();
    for (const [user, at] of this.lastWrite) if (now - at > this.maxLagMs) this.lastWrite.delete(user);
    if (!this.closed) {
      this.timer = setTimeout(() => void this.poll(), this.pollMs);
      this.timer.unref();
    }
  }

  private async samplePrimary(): Promise<void> {
    const at = performance.now();
    try {
      const { rows } = await this.primary.query<{ position: string; system: string }>(PRIMARY_POLL);
      this.primarySystem = rows[0].system;
      this.samples.push({ at, position: BigInt(rows[0].position) });
      // Samples older than the bound can make a replica fresh enough for nothing; the latest one is kept.
      while (this.samples.length > 1 && at - this.samples[0].at > this.maxLagMs + this.pollMs) this.samples.shift();
      for (const replica of this.replicas) this.refresh(replica);
    } catch {
      // No sample: replicas cannot be shown fresh, so they age out of use while the primary does not answer.
    }
  }

  private async pollReplica(replica: Replica): Promise<void> {
    replica.polling = true;
    try {
      const { rows } = await replica.probe.query<{ standby: boolean; replayed: string | null; system: string }>(REPLICA_POLL);
      const [row] = rows;
      replica.system = row.system;
      replica.replayed = row.standby && row.replayed !== null ? BigInt(row.replayed) : null;
      replica.answering = true;
      this.refresh(replica);
    } catch (error) {
      replica.answering = false;
      replica.lastError = (error as Error).message;
    } finally {
      replica.measured = true;
      replica.polling = false;
      this.report(replica);
    }
  }

  /** Its problem, if any, and how fresh it is: the newest sample at or below its replay position (positions only grow with time). */
  private refresh(replica: Replica): void {
    if (replica.system === null) return;
    replica.problem =
      replica.replayed === null ? 'not a standby' : this.primarySystem !== null && replica.system !== this.primarySystem ? 'another cluster' : null;
    if (replica.problem !== null || this.primarySystem === null) return;
    const replayed = replica.replayed as bigint;
    for (let i = this.samples.length - 1; i >= 0; i--) {
      if (this.samples[i].position <= replayed) {
        replica.fresherThan = Math.max(replica.fresherThan, this.samples[i].at);
        return;
      }
    }
  }

  /** Tells onChange when a replica's state changes. */
  private report(replica: Replica): void {
    const status = this.status().find((s) => s.name === replica.name) as ReplicaStatus;
    if (this.reported.get(replica) === status.state) return;
    this.reported.set(replica, status.state);
    this.options.onChange?.(status);
  }
}

/**
 * Whether a failed replica statement is sent again to the primary: yes, unless
 * the statement itself is at fault there as it would be on the primary (bad data,
 * a constraint) or ran out of time (it would run as long there).
 */
export function retryOnPrimary(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return !(code.startsWith('22') || code.startsWith('23') || code === '57014');
}

/** The replica (not the statement) is gone: refused, lost, shut down, or out of connections. */
function lostReplica(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code.startsWith('57P') || code.startsWith('53');
}
