/** The run's log: each line with the seconds since the run started. */
export const started = Date.now();

export const log = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
