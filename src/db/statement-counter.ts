import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger as OrmLogger } from 'typeorm';

/** Statements sent to PostgreSQL while one unit of work (a request) runs. */
export interface StatementTally {
  count: number;
}

const tallies = new AsyncLocalStorage<StatementTally>();

/** Runs `fn` with a fresh tally; every statement TypeORM sends inside it is counted. */
export function countStatements<T>(fn: () => T): { tally: StatementTally; result: T } {
  const tally: StatementTally = { count: 0 };
  const result = tallies.run(tally, fn);
  return { tally, result };
}

/** The tally of the unit of work running now, if any. */
export function currentStatementTally(): StatementTally | undefined {
  return tallies.getStore();
}

/**
 * A TypeORM logger that counts statements into the current tally and reports
 * slow or failed ones. Counting from the server side is what the history-page
 * and inbox statement budgets are measured with.
 */
export class StatementCountingLogger implements OrmLogger {
  constructor(private readonly onError: (message: string, query: string) => void = () => {}) {}

  logQuery(): void {
    const tally = tallies.getStore();
    if (tally) tally.count += 1;
  }

  logQueryError(error: string | Error, query: string): void {
    this.onError(typeof error === 'string' ? error : error.message, query);
  }

  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
