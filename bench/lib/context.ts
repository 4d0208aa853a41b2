/**
 * What every scenario is handed (the Context), what it answers (Rows), and the
 * sizes of a run (full or --quick). bench/run.ts builds the Context; each module
 * of bench/scenarios/ exports one `(ctx: Context) => Promise<Row[]>`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SeedInfo } from './seed';
import type { Worker } from './common';

export const SCENARIOS = ['history', 'inbox', 'deep', 'fanout', 'memory', 'send', 'mixed', 'search', 'changes', 'noisy', 'scale'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** One line of the table and of bench/results/latest.json. */
export interface Row {
  scenario: Scenario;
  metric: string;
  ours: number | null;
  baseline: number | null;
  ratio: number | null;
  p50: number | null;
  p99: number | null;
  statements: number | null;
}

/** A server under load: ours or the baseline. */
export interface Target {
  name: 'ours' | 'baseline';
  worker: Worker;
  url: string;
  wsUrl: string;
}

/** How big a run is: `--quick` or full. */
export interface BenchSize {
  warmupSec: number;
  durationSec: number;
  /** Alternating rounds per figure (the median is reported). */
  repeats: number;
  histMessages: number;
  deepMessages: number;
  fanoutSockets: number;
  fanoutRepeats: number;
  memorySockets: number;
  mixedSubscribers: number;
  mixedLevels: number[];
  scaleOthers: number[];
  scaleMessages: number;
  scaleRounds: number;
}

export const benchSize = (quick: boolean): BenchSize =>
  quick
    ? { warmupSec: 0.5, durationSec: 1, repeats: 1, histMessages: 2_000, deepMessages: 100_000, fanoutSockets: 300, fanoutRepeats: 1, memorySockets: 1_000, mixedSubscribers: 100, mixedLevels: [4, 16], scaleOthers: [0, 300, 1_000], scaleMessages: 100, scaleRounds: 2 }
    : { warmupSec: 3, durationSec: 5, repeats: 5, histMessages: 10_000, deepMessages: 1_000_000, fanoutSockets: 2_000, fanoutRepeats: 3, memorySockets: 5_000, mixedSubscribers: 500, mixedLevels: [2, 4, 8, 16, 32], scaleOthers: [0, 1_000, 10_000], scaleMessages: 500, scaleRounds: 5 };

export interface Context {
  dbUrl: string;
  /** The environment our server and the baseline run with (the scale scenario starts more servers with it). */
  env: NodeJS.ProcessEnv;
  /** The run's JWT_SECRET (also in `env`): tokens and cursors are made with it. */
  jwtSecret: string;
  quick: boolean;
  size: BenchSize;
  /** `--node <path>`: the Node binary the servers run on (the scale scenario's servers too); undefined: this one. */
  serverNode: string | undefined;
  /** `--before <dir>`: a checkout of the design before issue 14, for the scale scenario. */
  beforeDir: string | undefined;
  ours: Target;
  baseline: Target;
  http: Worker;
  ws: Worker;
  tokens: Map<number, string>;
  seeded: SeedInfo;
}

/** Where a run writes latest.json, machine.json and each scenario's plans and statements (git-ignored). */
export const RESULTS = join(__dirname, '..', 'results');
export const PROFILES = join(RESULTS, 'profiles');

/** Writes `text` to bench/results/`name`. */
export function writeResult(name: string, text: string): void {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, name), text);
}
