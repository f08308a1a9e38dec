/**
 * Two network namespaces joined by veth pairs, for tests that send mDNS or
 * UDP broadcasts: nothing of theirs can reach the host's real interfaces.
 * The test process stays in the host namespace and only runs `ip`; code that
 * touches the network runs in children started with `ip netns exec`.
 *
 * Link i is `csl<i>`, 10.(77+i).0.1/24 in namespace a and .2 in namespace b.
 * Needs root and iproute2.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
/** Debian's python3 has python3-zeroconf; a pyenv/venv python on PATH may not. */
export const PYTHON = '/usr/bin/python3';

export interface NetnsLink {
  /** Interface name, the same in both namespaces. */
  name: string;
  /** Address in namespace a / b. */
  a: string;
  b: string;
  netmask: string;
}

export interface NsChild {
  readonly proc: ChildProcess;
  /** Every stdout line that parsed as JSON, in order. */
  readonly messages: Record<string, unknown>[];
  readonly stderr: () => string;
  /** All stdout so far (the last 20,000 characters), JSON or not. */
  readonly stdoutText: () => string;
  /** Resolves with the first message (already received or later) matching `pred`. */
  waitFor(pred: (m: Record<string, unknown>) => boolean, timeoutMs: number, what?: string): Promise<Record<string, unknown>>;
  /** Writes one line to the child's stdin. */
  send(line: string): void;
  /** Exit code (null when killed). */
  readonly exited: Promise<number | null>;
  kill(): void;
}

export interface NetnsPair {
  readonly a: string;
  readonly b: string;
  readonly links: NetnsLink[];
  /** Runs a command inside `ns` (no ns: in the host namespace) to completion. */
  run(ns: string | null, cmd: string[], timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  spawn(ns: string, cmd: string[]): NsChild;
  /** `node --import tsx <script> ...args` inside `ns`, cwd the repo root. */
  node(ns: string, script: string, args?: string[]): NsChild;
  destroy(): Promise<void>;
}

const PREFIX = 'cst';
let seq = 0;

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces left by a test run that was killed before its `after` ran. */
function removeStale(): void {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = new RegExp(`^(${PREFIX}-(\\d+)-\\d+-[ab])\\b`).exec(line);
    if (m && !alive(Number(m[2]))) spawnSync('ip', ['netns', 'del', m[1]!]);
  }
}

function child(proc: ChildProcess): NsChild {
  const messages: Record<string, unknown>[] = [];
  const waiters: { pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  let err = '';
  let out = '';
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    out = (out + chunk).slice(-20_000);
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      messages.push(m);
      for (const w of [...waiters]) if (w.pred(m)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(m));
    }
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c: string) => (err = (err + c).slice(-20_000)));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return {
    proc,
    messages,
    stderr: () => err,
    stdoutText: () => out,
    exited,
    waitFor(pred, timeoutMs, what = 'message') {
      const hit = messages.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((res, rej) => {
        const w = { pred, resolve: (m: Record<string, unknown>) => (clearTimeout(t), res(m)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(messages)}; stderr: ${err.slice(-2000)}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    send(line) {
      proc.stdin!.write(line + '\n');
    },
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

export async function createNetnsPair(opts: { links?: number } = {}): Promise<NetnsPair> {
  removeStale();
  const id = `${PREFIX}-${process.pid}-${seq++}`;
  const a = `${id}-a`;
  const b = `${id}-b`;
  const links: NetnsLink[] = [];
  const children: NsChild[] = [];
  const n = opts.links ?? 1;
  try {
    ip(['netns', 'add', a]);
    ip(['netns', 'add', b]);
    for (const ns of [a, b]) ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    for (let i = 0; i < n; i++) {
      const name = `csl${i}`;
      const l: NetnsLink = { name, a: `10.${77 + i}.0.1`, b: `10.${77 + i}.0.2`, netmask: '255.255.255.0' };
      // Both ends are created inside the namespaces; the host never sees them.
      ip(['-n', a, 'link', 'add', name, 'type', 'veth', 'peer', 'name', name, 'netns', b]);
      ip(['-n', a, 'addr', 'add', `${l.a}/24`, 'brd', '+', 'dev', name]);
      ip(['-n', b, 'addr', 'add', `${l.b}/24`, 'brd', '+', 'dev', name]);
      for (const ns of [a, b]) ip(['-n', ns, 'link', 'set', name, 'up']);
      links.push(l);
    }
    for (const ns of [a, b]) ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'csl0']);
  } catch (err) {
    spawnSync('ip', ['netns', 'del', a]);
    spawnSync('ip', ['netns', 'del', b]);
    throw err;
  }

  const pair: NetnsPair = {
    a,
    b,
    links,
    async run(ns, cmd, timeoutMs = 10_000) {
      const argv = ns ? ['netns', 'exec', ns, ...cmd] : cmd.slice(1);
      const p = spawn(ns ? 'ip' : cmd[0]!, argv, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      const [code] = (await once(p, 'exit')) as [number | null];
      clearTimeout(t);
      return { code, stdout, stderr };
    },
    spawn(ns, cmd) {
      const c = child(spawn('ip', ['netns', 'exec', ns, ...cmd], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] }));
      children.push(c);
      return c;
    },
    node(ns, script, args = []) {
      return pair.spawn(ns, [process.execPath, '--import', 'tsx', resolve(repoRoot, script), ...args]);
    },
    async destroy() {
      for (const c of children) c.kill();
      await Promise.all(children.map((c) => c.exited));
      spawnSync('ip', ['netns', 'del', a]);
      spawnSync('ip', ['netns', 'del', b]);
    },
  };
  return pair;
}
