/** Waiting on the servers and pacing work of the bench's own. */
import { sleep } from './common';
import { log } from './log';

/** Polls `check` every 100 ms until it holds (true) or `timeoutMs` passes (false, with a warning in the log). */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  log(`  warning: timed out waiting for ${what}`);
  return false;
}

export interface Paced {
  /** Steps done so far. */
  done(): number;
  stop(): Promise<{ done: number; failed: number; lastError: string; seconds: number }>;
}

/**
 * A loop on its own: `step(n)` about `perSec` times a second until stopped, with
 * up to `maxInFlight` steps under way at once (1: each waits for the one before;
 * more: the rate holds while the server is slow). Behind schedule, it catches
 * up by at most one interval (no bursts).
 */
export function paced(perSec: number, step: (n: number) => Promise<void>, offsetMs = 0, maxInFlight = 1): Paced {
  let stopped = false;
  let done = 0;
  let failed = 0;
  let lastError = '';
  const interval = 1000 / perSec;
  const t0 = Date.now();
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    let next = t0 + offsetMs;
    for (let n = 0; !stopped; n++) {
      await sleep(Math.max(0, next - Date.now()));
      if (stopped) break;
      next = Math.max(next + interval, Date.now() - interval);
      const one: Promise<void> = step(n).then(
        () => void (done += 1),
        (error) => {
          failed += 1;
          lastError = String((error as Error).message).slice(0, 300);
        },
      );
      inFlight.add(one);
      void one.finally(() => inFlight.delete(one));
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  })();
  return {
    done: () => done,
    stop: async () => {
      stopped = true;
      await loop;
      return { done, failed, lastError, seconds: (Date.now() - t0) / 1000 };
    },
  };
}
