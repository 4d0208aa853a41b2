/**
 * CPU outside our server's process, from /proc (Linux): the whole machine's
 * (every process, other people's work on this shared machine included) and
 * the PostgreSQL backends serving the run's database. On a machine of two
 * cores a figure of ours can fall because PostgreSQL, the load generators or a
 * neighbour took the cores, not because our server did more: these say which.
 */
import { readFileSync } from 'node:fs';
import type { Client } from 'pg';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

/** Busy CPU time of the whole machine so far (all its cores; all but idle and iowait), ms. */
export function machineBusyMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user and nice)
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + (steal ?? 0)) * TICK_MS;
}

/** CPU time (user + system) each process has used so far, ms; absent when it has exited. */
export function processCpuMs(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) close with ')': utime and stime are the 12th and 13th after it.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(rest[11]) + Number(rest[12])) * TICK_MS);
    } catch {
      // exited
    }
  }
  return out;
}

/** The backends serving `db`'s database, other than `db`'s own connection. */
export async function backendPids(db: Client): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
  return rows.map((r) => r.pid);
}

/** A window over which to read the machine's and PostgreSQL's CPU: start it, then `end()` answers both in cores (1 = one core busy). */
export async function cpuWindow(db: Client): Promise<() => Promise<{ machineCores: number; postgresCores: number }>> {
  const pids = await backendPids(db);
  const m0 = machineBusyMs();
  const p0 = processCpuMs(pids);
  const t0 = Date.now();
  return async () => {
    const m1 = machineBusyMs();
    const ms = Date.now() - t0;
    // Backends opened meanwhile count from zero.
    const now = await backendPids(db);
    const p1 = processCpuMs([...new Set([...pids, ...now])]);
    let pg = 0;
    for (const [pid, used] of p1) pg += used - (p0.get(pid) ?? 0);
    return { machineCores: (m1 - m0) / ms, postgresCores: pg / ms };
  };
}
