/**
 * CPU time used by the processes of a benchmark (the engine's OS processes and their
 * PostgreSQL backends), read from /proc. Unlike a rate, CPU time per step hardly moves when
 * other work shares the machine, so it compares changes on a noisy machine. Linux only.
 */
import { readFile } from 'node:fs/promises';
import type { Database } from '../src/db/database.js';

/** Clock ticks per second of /proc/<pid>/stat on Linux (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** user + system CPU time of a process in ms; 0 when it is gone. */
async function cpuMs(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU ms per pid at one moment. */
export type CpuSnapshot = Map<number, number>;

/**
 * The backends of the connections to `db`'s database (this process's pool among them), or only
 * of those that named themselves `applicationName`.
 */
export async function backendPids(db: Database, applicationName?: string): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND ($1::text IS NULL OR application_name = $1)',
    [applicationName ?? null],
  );
  return rows.map((row) => row.pid);
}

export async function snapshotCpu(pids: readonly number[]): Promise<CpuSnapshot> {
  return new Map(await Promise.all(pids.map(async (pid) => [pid, await cpuMs(pid)] as const)));
}

/** CPU ms used between two snapshots; a pid first seen in `after` counts from zero. */
export function cpuUsedMs(before: CpuSnapshot, after: CpuSnapshot): number {
  let used = 0;
  for (const [pid, ms] of after) used += ms - (before.get(pid) ?? 0);
  return used;
}
