import { AsyncLocalStorage } from 'node:async_hooks';

/** Statements sent to PostgreSQL while one unit of work (a request) runs. */
export interface StatementTally {
  count: number;
  /** Rows the statements brought back: what a request made the server read and hold. */
  rows: number;
}

const tallies = new AsyncLocalStorage<StatementTally>();

/** Runs `fn` with a fresh tally; every statement the Database sends inside it is counted. */
export function countStatements<T>(fn: () => T): { tally: StatementTally; result: T } {
  const tally: StatementTally = { count: 0, rows: 0 };
  const result = tallies.run(tally, fn);
  return { tally, result };
}

/** The tally of the unit of work running now, if any. */
export function currentStatementTally(): StatementTally | undefined {
  return tallies.getStore();
}
