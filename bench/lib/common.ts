import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** A deterministic v4-shaped UUID, the same in SQL (`bench_uuid(kind, i)`) and here. */
export function benchUuid(kind: string, i: number): string {
  const h = createHash('md5').update(`${kind}${i}`).digest('hex');
  const v = `${h.slice(0, 12)}4${h.slice(13, 16)}8${h.slice(17)}`;
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20, 32)}`;
}

/** The same in SQL. */
export const BENCH_UUID_SQL = `CREATE OR REPLACE FUNCTION bench_uuid(kind text, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT overlay(overlay(md5(kind || i) placing '4' from 13) placing '8' from 17)::uuid $$`;

export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const copy = Float64Array.from(values as ArrayLike<number>);
  copy.sort();
  return copy;
}

export function median(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes of one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Memory after two full collections (the servers run with --expose-gc), so growth per socket is not garbage. */
export function memoryAfterGc(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A forked bench script that answers `{ id, ...request }` messages with `{ id, result | error }`. */
export class Worker {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<any>;
  private exited = false;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    let onReady: (v: any) => void;
    let onFail: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => ((onReady = resolve), (onFail = reject)));
    child.on('message', (msg: any) => {
      if (msg?.type === 'ready') return onReady(msg);
      const p = this.pending.get(msg?.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${name}: ${msg.error}`));
      else p.resolve(msg.result);
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      const error = new Error(`${name} exited (code ${code}, signal ${signal})`);
      onFail(error);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    });
  }

  call<T = any>(type: string, args: Record<string, unknown> = {}, timeoutMs = 300_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${type} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.send({ id, type, ...args });
    });
  }

  /** Asks the script to stop, then waits for it to exit (kills it, by pid, after `ms`). */
  async stop(ms = 15_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ id: ++this.next, type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  }
}

/** Forks a bench script under @swc-node/register, on `execPath` (another Node binary) when given. */
export function forkScript(name: string, script: string, env: NodeJS.ProcessEnv, extraExecArgv: string[] = [], execPath?: string): Worker {
  const child = fork(join(__dirname, '..', script), [], {
    execArgv: ['-r', '@swc-node/register', ...extraExecArgv],
    ...(execPath && { execPath }),
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Worker(name, child);
}

/** The worker side: answers requests with `handlers[type]`; 'stop' runs `onStop` then exits. */
export function serve(handlers: Record<string, (msg: any) => unknown>, onStop: () => Promise<void> | void = () => {}): void {
  process.on('message', async (msg: any) => {
    if (msg?.type === 'stop') {
      try {
        await onStop();
      } finally {
        process.exit(0);
      }
    }
    const handler = handlers[msg?.type];
    try {
      if (!handler) throw new Error(`no handler for ${msg?.type}`);
      const result = await handler(msg);
      process.send?.({ id: msg.id, result });
    } catch (error) {
      process.send?.({ id: msg.id, error: (error as Error).stack ?? String(error) });
    }
  });
  // The parent going away ends the worker: no orphans.
  process.on('disconnect', () => process.exit(0));
}
