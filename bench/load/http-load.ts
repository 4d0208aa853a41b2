/**
 * The HTTP load generator, in a process of its own: autocannon instances, one per
 * lane (a lane is a user with its own token and request cycle), all started
 * together. Every response's latency is kept, so percentiles are exact.
 */
import autocannon from 'autocannon';
import { percentile, serve, sortedCopy } from '../lib/common';

export interface RequestSpec {
  body: string;
  /** Replace `__CLIENT_ID__` in the body with a fresh id per request (sends). */
  uniqueClientId?: boolean;
}

export interface Lane {
  headers: Record<string, string>;
  /** Cycled through in order by each connection of the lane. */
  requests: RequestSpec[];
  connections?: number;
}

export interface LoadSpec {
  url: string;
  lanes: Lane[];
  durationSec: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  non2xx: number;
  errors: number;
  timeouts: number;
}

let counter = 0;
const nonce = `${process.pid}-${Date.now().toString(36)}`;

function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;
  const started = performance.now();
  const url = new URL(spec.url);
  const runs = spec.lanes.map(
    (lane) =>
      new Promise<void>((resolve, reject) => {
        const instance = autocannon(
          {
            url: url.origin,
            connections: lane.connections ?? 1,
            duration: spec.durationSec,
            timeout: 10,
            requests: lane.requests.map((r) => ({
              method: 'POST',
              path: url.pathname,
              headers: { 'content-type': 'application/json', ...lane.headers },
              body: r.body,
              ...(r.uniqueClientId && {
                setupRequest: (req: { body: string }) => ({
                  ...req,
                  body: r.body.replace('__CLIENT_ID__', `${nonce}-${++counter}`),
                }),
              }),
            })),
          },
          (error) => (error ? reject(error) : resolve()),
        );
        instance.on('response', (_client, statusCode, _bytes, responseTime) => {
          latencies.push(responseTime);
          if (statusCode < 200 || statusCode > 299) non2xx += 1;
        });
        instance.on('reqError', () => (errors += 1));
        instance.on('timeout', () => (timeouts += 1));
      }),
  );
  return Promise.all(runs).then(() => {
    const seconds = (performance.now() - started) / 1000;
    const sorted = sortedCopy(latencies);
    const mean = latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null;
    return {
      requests: latencies.length,
      seconds,
      rps: latencies.length / spec.durationSec,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      mean,
      non2xx,
      errors,
      timeouts,
    };
  });
}

serve({ run: (msg) => runLoad(msg.spec as LoadSpec) });
process.send?.({ type: 'ready' });
