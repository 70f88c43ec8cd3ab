import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Facts about the machine a result was measured on (RESULTS.md header). */
export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
}

export function machineFacts(): MachineFacts {
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // nproc missing: os.cpus() is the same figure outside cgroup limits
  }
  const cpuinfo = safeRead('/proc/cpuinfo');
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  return {
    nproc,
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: safeRead('/proc/sys/kernel/osrelease').trim() || process.platform,
  };
}

/** The 1/5/15-minute load averages: other work on the machine skews every figure, so each is recorded with one. */
export function loadAverage(): string {
  return safeRead('/proc/loadavg').split(' ').slice(0, 3).join(' ') || 'n/a';
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime, stime, cutime, cstime and ppid of a process from /proc/<pid>/stat (ticks). */
function procStat(pid: string): { ppid: number; own: number; reaped: number } | null {
  const stat = safeRead(`/proc/${pid}/stat`);
  if (!stat) return null;
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i] ?? 0);
  return { ppid: n(1), own: n(11) + n(12), reaped: n(13) + n(14) };
}

/**
 * CPU time used so far by a Postgres server we started, in milliseconds: the postmaster, its
 * live children (backends, background workers) and, through the postmaster's cutime/cstime,
 * every child that has already exited. Linux only; null when /proc is not readable.
 */
export function postgresCpuMs(postmasterPid: number): number | null {
  const root = procStat(String(postmasterPid));
  if (!root) return null;
  let ticks = root.own + root.reaped;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(entry);
    if (s && s.ppid === postmasterPid) ticks += s.own;
  }
  return (ticks * 1000) / clockTicks();
}
