/**
 * Redis servers of the bench's own, on free loopback ports: a three-shard Redis
 * Cluster for our server (REDIS_CLUSTER_NODES), and one plain redis-server for
 * the design before issue 14 (REDIS_URL: it published every event on one
 * channel). The processes are the tests' (test/support/redis-servers.ts); this
 * adds what the bench reads of them: a client to publish with, and their CPU.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freeClusterPort, LocalRedisCluster, startRedisServer, stopProcess } from '../../test/support/redis-servers';

const run = promisify(execFile);

/** Redis servers the bench started, and the environment that points a server at them. */
export interface BenchRedis {
  env: Record<string, string>;
  describe: string;
  /** A client of the bench's own (ioredis), e.g. to publish; closed by `stop`. */
  client(): Redis | Cluster;
  /** CPU seconds (user + system) its redis-server processes have used so far (INFO cpu). */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

function withClients(ports: number[], make: () => Redis | Cluster, stopServers: () => Promise<void>): Pick<BenchRedis, 'client' | 'cpuSeconds' | 'stop'> {
  const clients: (Redis | Cluster)[] = [];
  return {
    client: () => {
      const c = make();
      clients.push(c);
      return c;
    },
    cpuSeconds: () => cpuSeconds(ports),
    stop: async () => {
      await Promise.all(clients.map((c) => c.quit().catch(() => {})));
      await stopServers();
    },
  };
}

/** Three shards, no replicas (test/support/redis-servers.ts LocalRedisCluster). */
export async function startRedisCluster(): Promise<BenchRedis> {
  const cluster = await LocalRedisCluster.start();
  return {
    env: cluster.env,
    describe: `a Redis Cluster of ${cluster.ports.length} shards (redis-server ${cluster.ports.join(', ')})`,
    ...withClients(cluster.ports, () => new Cluster(cluster.nodes), () => cluster.stop()),
  };
}

/** One plain redis-server. */
export async function startRedisServerAlone(): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-redis-'));
  const port = await freeClusterPort();
  const child = await startRedisServer(port, [], dir);
  return {
    env: { REDIS_URL: `redis://127.0.0.1:${port}` },
    describe: `one redis-server (${port})`,
    ...withClients([port], () => new Redis(`redis://127.0.0.1:${port}`), async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    }),
  };
}

async function cpuSeconds(ports: number[]): Promise<number> {
  let total = 0;
  for (const port of ports) {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'INFO', 'cpu']);
    total += Number(/used_cpu_sys:([\d.]+)/.exec(stdout)?.[1] ?? 0) + Number(/used_cpu_user:([\d.]+)/.exec(stdout)?.[1] ?? 0);
  }
  return total;
}
