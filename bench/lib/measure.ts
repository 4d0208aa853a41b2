/**
 * Load runs against the servers and their figures: a run with the server's CPU
 * over it, medians over rounds, and the pairing that alternates ours with the
 * baseline so a neighbour's burst on this shared machine hits both.
 */
import type { Lane, LoadResult, LoadSpec } from '../load/http-load';
import { median } from './common';
import type { Context, Row, Scenario, Target } from './context';
import { fmt, ratio, round } from './figures';
import { log } from './log';

export interface Measured {
  rps: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** The server's own CPU (user + system) per request served, ms: steadier than req/s on a shared machine. */
  cpuMs: number | null;
  runs: LoadResult[];
}

/** A load run with the server's CPU time spent during it. */
export type TimedRun = LoadResult & { cpuMs: number };

export async function runTimed(ctx: Context, target: Target, spec: LoadSpec): Promise<TimedRun> {
  const before = await target.worker.call<NodeJS.CpuUsage>('cpu');
  const result = await ctx.http.call<LoadResult>('run', { spec });
  const after = await target.worker.call<NodeJS.CpuUsage>('cpu');
  return { ...result, cpuMs: (after.user - before.user + after.system - before.system) / 1000 };
}

/** The median of each figure over `runs`, logged under `label`. */
export function summarize(target: Target, runs: (LoadResult & { cpuMs?: number })[], label: string): Measured {
  const bad = runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
  const m: Measured = {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p95: median(runs.map((r) => r.p95)),
    p99: median(runs.map((r) => r.p99)),
    cpuMs: median(runs.map((r) => (r.cpuMs === undefined || r.requests === 0 ? null : r.cpuMs / r.requests))),
    runs,
  };
  log(
    `  ${label} ${target.name.padEnd(8)} ${fmt(m.rps)} req/s  p50 ${fmt(m.p50, 2)} ms  p99 ${fmt(m.p99, 2)} ms  cpu ${fmt(m.cpuMs, 3)} ms/req  (runs: ${runs.map((r) => Math.round(r.rps)).join(', ')} req/s${bad ? `; ${bad} non-2xx/errors/timeouts` : ''})`,
  );
  return m;
}

/**
 * Warm both up, then `repeats` rounds of (a run on each target), alternating so
 * that a neighbour's load on this shared machine hits both sides alike; the
 * median of each figure.
 */
export async function measurePair(ctx: Context, targets: Target[], lanes: (t: Target) => Lane[], label: string): Promise<Measured[]> {
  const spec = (t: Target, durationSec: number): LoadSpec => ({ url: t.url, lanes: lanes(t), durationSec });
  for (const t of targets) await ctx.http.call('run', { spec: spec(t, ctx.size.warmupSec) });
  const runs = targets.map(() => [] as TimedRun[]);
  for (let i = 0; i < ctx.size.repeats; i++) {
    for (const [k, t] of targets.entries()) runs[k].push(await runTimed(ctx, t, spec(t, ctx.size.durationSec)));
  }
  return targets.map((t, k) => summarize(t, runs[k], label));
}

/** Server CPU per request, ours against the baseline's (lower is better: the ratio is ours / baseline). */
export function cpuRow(scenario: Scenario, ours: Measured, base: Measured, statements: number | null, suffix = ''): Row {
  return { scenario, metric: `server CPU ms per request${suffix} (lower is better)`, ours: round(ours.cpuMs, 3), baseline: round(base.cpuMs, 3), ratio: ratio(ours.cpuMs, base.cpuMs), p50: null, p99: null, statements };
}
