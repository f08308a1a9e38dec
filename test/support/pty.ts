/**
 * A pseudo-terminal pair made by socat: the host side (`path`, what the code
 * under test opens as a serial port) and the peer side (`peerPath`, where a
 * simulated board sits). `unplug()` and `replug()` make the host path vanish
 * and come back, as a USB board does when it resets or re-enumerates.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** The host end: open this as the board's serial port. */
  readonly path: string;
  /** The peer end, where the simulated board reads and writes. */
  readonly peerPath: string;
  /** Kills socat: both paths vanish. */
  unplug(): Promise<void>;
  /** Starts socat again on the same paths. */
  replug(): Promise<void>;
  stop(): Promise<void>;
}

export interface PtyOptions {
  /** Folder for the links (default: a new temp folder, removed by stop()). */
  dir?: string;
  /** Link name of the host end (default `board`); the peer end is `.peers/<name>`. */
  name?: string;
}

/** socat processes alive now: killed when this process exits, so a crashed test leaves none behind. */
const live = new Set<ChildProcess>();
let exitHook = false;
function track(p: ChildProcess): void {
  live.add(p);
  p.once('exit', () => live.delete(p));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGTERM');
    });
  }
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function startPtyPair(opts: PtyOptions = {}): Promise<PtyPair> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'courtside-pty-'));
  const name = opts.name ?? 'board';
  const path = join(dir, name);
  // The peer end lives in a hidden subfolder, so a wildcard over `dir` finds only host ends.
  mkdirSync(join(dir, '.peers'), { recursive: true });
  const peerPath = join(dir, '.peers', name);
  let proc: ChildProcess | null = null;
  let stderr = '';

  const start = async () => {
    // raw,echo=0: bytes pass untouched both ways; socat keeps running when the host closes its end.
    const p = spawn('socat', [`pty,raw,echo=0,link=${path}`, `pty,raw,echo=0,link=${peerPath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const failed = new Promise<never>((_, reject) => {
      p.once('error', (e) => reject(new Error(`socat: ${e.message} (apt-get install socat)`)));
      p.once('exit', (code) => reject(new Error(`socat exited ${code}: ${stderr}`)));
    });
    failed.catch(() => {});
    proc = p;
    track(p);
    await Promise.race([waitFor(() => existsSync(path) && existsSync(peerPath), 5000, 'socat made no pty pair'), failed]);
  };

  const kill = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    await exited;
    for (const f of [path, peerPath]) rmSync(f, { force: true });
  };

  await start();
  return {
    path,
    peerPath,
    unplug: kill,
    replug: start,
    async stop() {
      await kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
