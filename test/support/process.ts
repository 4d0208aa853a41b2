import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { testDatabaseUrl } from './hooks';
import { onCleanup, TEST_JWT_SECRET } from './server';

const root = resolve(__dirname, '..', '..');

export interface ServerProcess {
  url: string;
  wsUrl: string;
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
}

/** The real entry point (src/index.ts) in its own process, as `npm start` runs it, over the run's database; killed after the test. */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/index.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: testDatabaseUrl(),
      JWT_SECRET: TEST_JWT_SECRET,
      PORT: '0',
      LOG_LEVEL: 'info',
      MESSAGE_RATE_LIMIT: '100000/10',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onCleanup(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    child.stdout!.on('data', () => {
      const ready = /"url":"(http:[^"]+)"/.exec(out);
      if (ready) {
        clearTimeout(timer);
        resolveUrl(ready[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code}): ${out}`));
    });
  });
  return { url, wsUrl: url.replace(/^http/, 'ws'), child, output: () => out };
}
