import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every redis-server a test started: killed if the run ends without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A redis-server of the test's own on `port`, resolved once it accepts connections. */
export function startRedisServer(port: number, args: string[] = [], cwd?: string): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
    cwd,
  });
  running.add(redis);
  redis.once('exit', () => running.delete(redis));
  return new Promise((resolve, reject) => {
    redis.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve(redis);
    });
    redis.once('error', reject);
    redis.once('exit', (code) => reject(new Error(`redis-server on ${port} exited (${code})`)));
    setTimeout(() => reject(new Error(`redis-server on ${port} did not start`)), 10_000);
  });
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A free loopback port whose cluster bus port (port + 10000) is free too. */
export async function freeClusterPort(taken: readonly number[] = []): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.some((t) => Math.abs(t - port) < 2)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) return port;
  }
}

export interface ClusterNode {
  host: string;
  port: number;
}

/**
 * Three redis-server processes in cluster mode on loopback, joined with
 * `redis-cli --cluster create` (no replicas: each owns a third of the slots).
 * A shard that stops leaves the others serving (`cluster-require-full-coverage
 * no`), and comes back with its slots from its nodes.conf.
 */
export class LocalRedisCluster {
  private readonly processes = new Map<number, ChildProcess>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  static async start(size = 3): Promise<LocalRedisCluster> {
    const ports: number[] = [];
    while (ports.length < size) ports.push(await freeClusterPort(ports));
    const cluster = new LocalRedisCluster(ports, mkdtempSync(join(tmpdir(), 'chat-redis-cluster-')));
    try {
      await Promise.all(ports.map((port) => cluster.startNode(port)));
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
      await cluster.waitUntilHealthy();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  get nodes(): ClusterNode[] {
    return this.ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  /** The server environment that points at this cluster. */
  get env(): Record<string, string> {
    return { REDIS_CLUSTER_NODES: this.ports.map((p) => `127.0.0.1:${p}`).join(',') };
  }

  /** The port of the shard that owns `channel`'s hash slot. */
  async shardOf(channel: string): Promise<number> {
    const slot = Number((await this.cli(this.ports[0], 'CLUSTER', 'KEYSLOT', channel)).trim());
    const { stdout } = await run('redis-cli', ['-p', String(this.ports[0]), '--json', 'CLUSTER', 'SLOTS']);
    const ranges = JSON.parse(stdout) as [number, number, [string, number, ...unknown[]]][];
    const owner = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!owner) throw new Error(`no shard owns slot ${slot}`);
    return Number(owner[2][1]);
  }

  /** How many connections subscribe `channel` on its shard (PUBSUB SHARDNUMSUB). */
  async subscribers(channel: string): Promise<number> {
    const lines = (await this.cli(await this.shardOf(channel), 'PUBSUB', 'SHARDNUMSUB', channel)).trim().split('\n');
    return Number(lines[1]);
  }

  /** Kills a shard (no goodbye), then starts it again on its port with its cluster identity. */
  async restart(port: number, downMs = 0): Promise<void> {
    await this.kill(port);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.startNode(port);
    await this.waitUntilHealthy();
  }

  async kill(port: number): Promise<void> {
    const child = this.processes.get(port);
    if (child) await stopProcess(child);
    this.processes.delete(port);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((child) => stopProcess(child)));
    this.processes.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startNode(port: number): Promise<void> {
    const child = await startRedisServer(
      port,
      [
        '--cluster-enabled', 'yes',
        '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', '1000',
        '--cluster-require-full-coverage', 'no',
      ],
      this.dir,
    );
    this.processes.set(port, child);
  }

  /** Every node up, agreeing the cluster is ok and knowing all its peers as connected. */
  private async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.ports.map(async (port) => {
          try {
            const info = await this.cli(port, 'CLUSTER', 'INFO');
            const nodes = await this.cli(port, 'CLUSTER', 'NODES');
            const healthy = nodes.trim().split('\n').every((line) => line.includes(' connected') && !/fail/.test(line.split(' ')[2]));
            return info.includes('cluster_state:ok') && healthy;
          } catch {
            return false;
          }
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not become healthy');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async cli(port: number, ...args: string[]): Promise<string> {
    return (await run('redis-cli', ['-p', String(port), ...args])).stdout;
  }
}

let shared: Promise<LocalRedisCluster> | null = null;

/** The run's Redis Cluster, started on first use and stopped after the last test (test/support/hooks.ts). */
export function redisCluster(): Promise<LocalRedisCluster> {
  shared ??= LocalRedisCluster.start();
  return shared;
}

export async function stopRedisCluster(): Promise<void> {
  const cluster = await shared?.catch(() => null);
  shared = null;
  await cluster?.stop();
}
