/**
 * What the metrics add to one HTTP request, in CPU time, measured alone (no server, no
 * network): `node -r @swc-node/register bench/metrics-cost.ts`. The request path calls, per
 * request: a label for the operation name, one counter, one histogram observation, and
 * (on error) one error counter; a subscription delivery one counter. The history scenario's
 * server spends ~3 ms of CPU per request (bench/README.md), so a few microseconds here are
 * a fraction of a percent of it.
 */
import { PrometheusMetrics } from '../src/telemetry/metrics';

const metrics = new PrometheusMetrics();
const names = ['HistoryPage', 'Inbox', 'SendMessage', 'Search', 'Changes'];

function perCall(label: string, n: number, work: (i: number) => void): number {
  for (let i = 0; i < 10_000; i += 1) work(i); // warm up the JIT
  const start = process.cpuUsage();
  for (let i = 0; i < n; i += 1) work(i);
  const used = process.cpuUsage(start);
  const micros = (used.user + used.system) / n;
  process.stdout.write(`${label.padEnd(58)} ${micros.toFixed(3)} µs CPU per call\n`);
  return micros;
}

const n = 1_000_000;
const request = perCall('request: label + requests counter + latency histogram', n, (i) => {
  const started = process.hrtime.bigint();
  const operation = metrics.operationLabel(names[i % names.length], true);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9 + 0.004;
  metrics.operation({ transport: 'http', operation, type: 'query', outcome: 'OK', errorCodes: [], seconds });
});
perCall('request with an error code (error counter too)', n, (i) => {
  const operation = metrics.operationLabel(names[i % names.length], true);
  metrics.operation({ transport: 'http', operation, type: 'query', outcome: 'NOT_FOUND', errorCodes: ['NOT_FOUND'], seconds: 0.004 });
});
perCall('subscription delivery (one counter)', n, () => metrics.delivered());
const scrape = async () => {
  const start = process.hrtime.bigint();
  const text = await metrics.text();
  process.stdout.write(`${'a scrape of /metrics'.padEnd(58)} ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(2)} ms (${text.length} bytes)\n`);
};
void scrape().then(() => {
  process.stdout.write(`per history request (~3 ms CPU in the history scenario): +${((request / 3000) * 100).toFixed(3)} %\n`);
});
