/**
 * A server's cost read from /proc, its children included: Courtside's SQLite
 * writer is a child process, so its CPU and memory are the gateway's.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const clkTck = ((): number => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

/** The process and its live descendants. */
export function processTree(p: number): number[] {
  const out = [p];
  try {
    for (const tid of readdirSync(`/proc/${p}/task`)) {
      const kids = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
      if (kids) for (const k of kids.split(' ')) out.push(...processTree(Number(k)));
    }
  } catch {
    // Gone meanwhile.
  }
  return out;
}

/** utime + stime of the tree, seconds. */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  for (const q of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${q}/stat`, 'utf8');
      // The command name may hold spaces or parentheses; the fields after the last ')' are fixed.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) / clkTck; // fields 14 and 15 of stat
    } catch {
      // A child that ended between the listing and the read.
    }
  }
  return total;
}

/** Resident kB of the tree (VmRSS), or its peak (VmHWM) summed per process. */
export function treeRssKb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  let kb = 0;
  const re = new RegExp(`${field}:\\s+(\\d+) kB`);
  for (const q of processTree(pid)) {
    try {
      kb += Number(re.exec(readFileSync(`/proc/${q}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Ended meanwhile.
    }
  }
  return kb;
}
