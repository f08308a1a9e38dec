/**
 * A server's cost read from /proc, its children included: Courtside's SQLite
 * writer is a child process, so its CPU and memory are the gateway's. Also
 * what every bench coordinator does with its child processes: spawn them,
 * wait for a line, stop them, kill them all on the way out.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** test/bench, and the repository root the bench processes run in. */
export const here = resolve(fileURLToPath(import.meta.url), '..');
export const root = resolve(here, '../..');

/** A bad flag: one line on stderr, exit 2 (as every bench's flags). */
export function flagFailer(name: string): (msg: string) => never {
  return (msg) => {
    process.stderr.write(`${name}: ${msg}\n`);
    process.exit(2);
  };
}

/** A child process with what it wrote so far. */
export interface Spawned {
  child: ChildProcess;
  out: string[];
  err: string[];
}

/** The last lines of a child's output, for an error message. */
export function tail(chunks: string[], lines = 4): string {
  return chunks.join('').trim().split('\n').slice(-lines).join(' | ').slice(-600);
}

/**
 * The bench's child processes (servers, load generators): node with the
 * given arguments in the repository root, output kept, every one killed when
 * the bench exits or is interrupted.
 */
export class ChildSet {
  private readonly live = new Set<ChildProcess>();

  constructor() {
    process.on('exit', () => this.killAll());
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { this.killAll(); process.exit(130); });
  }

  spawn(args: string[], env?: NodeJS.ProcessEnv): Spawned {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    this.live.add(child);
    child.on('exit', () => this.live.delete(child));
    const out: string[] = [];
    const err: string[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => err.push(d.toString()));
    return { child, out, err };
  }

  killAll(): void {
    for (const c of this.live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** Resolves with the first match of `re` in the child's stdout; rejects after `ms` or if it exits first. */
export function waitForOutput(p: Spawned, re: RegExp, ms: number, what: string): Promise<RegExpExecArray> {
  return new Promise((ok, ko) => {
    const t = setTimeout(() => ko(new Error(`${what} not seen within ${ms} ms: ${tail(p.err)}`)), ms);
    const check = (): void => {
      const m = re.exec(p.out.join(''));
      if (m) { clearTimeout(t); p.child.stdout!.off('data', check); ok(m); }
    };
    p.child.stdout!.on('data', check);
    p.child.once('exit', (code, sig) => { clearTimeout(t); ko(new Error(`${what}: process exited (${code ?? sig}): ${tail(p.err)}`)); });
    check();
  });
}

/** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(t);
}
