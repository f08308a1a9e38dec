/**
 * Runs `courtside` commands: in this process with captured output (most
 * tests), or as a user would, a child process from source through tsx (exit
 * codes, signals, the binary's own path).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { courtside } from '../../main/cli/courtside.js';
import type { CommandIO, StopReason } from '../../main/cli/io.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../main/cli.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CapturedIO {
  io: CommandIO;
  stdout: () => string;
  stderr: () => string;
  /** Sends the command a stop request, as Ctrl-C (SIGINT) or SIGTERM would. */
  stop: (reason?: StopReason) => void;
  /** How many stop listeners the command holds right now. */
  listeners: () => number;
  /** Resolves with the match once stdout matches `re`. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
}

/** An IO whose output is kept in strings; env defaults to this process's, cwd to ROOT. */
export function captureIO(opts: { env?: NodeJS.ProcessEnv; cwd?: string; tty?: boolean } = {}): CapturedIO {
  let out = '';
  let err = '';
  const listeners = new Set<(reason: StopReason) => void>();
  const waiting = new Set<() => void>();
  const io: CommandIO = {
    stdout: {
      write: (s: string) => {
        out += s;
        for (const w of [...waiting]) w();
        return true;
      },
      isTTY: opts.tty ?? false,
    },
    stderr: { write: (s: string) => (err += s), isTTY: opts.tty ?? false },
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd ?? ROOT,
    onStop(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  return {
    io,
    stdout: () => out,
    stderr: () => err,
    stop: (reason = 'SIGINT') => {
      for (const l of [...listeners]) l(reason);
    },
    listeners: () => listeners.size,
    waitFor: (re, timeoutMs = 20000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (!m) return;
          done();
          resolve(m);
        };
        const t = setTimeout(() => {
          done();
          reject(new Error(`no ${re} on stdout within ${timeoutMs} ms\n${out}\n${err}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(t);
          waiting.delete(check);
        };
        waiting.add(check);
        check();
      }),
  };
}

/** Runs `courtside <args>` through the dispatcher in this process. */
export async function runInProcess(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult & { code: number }> {
  const c = captureIO(opts);
  const code = await courtside(args, c.io);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`courtside ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 20000} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 20000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Starts a long-running command and resolves once stdout matches `ready`. `group`: in a process
 * group of its own, as a shell starts a job, so a signal to `-pid` reaches it and its children.
 */
export function startCli(args: string[], ready: RegExp, env?: NodeJS.ProcessEnv, opts: { group?: boolean } = {}): Promise<{ proc: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, detached: opts.group ?? false });
    let out = '';
    let err = '';
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`no ${ready} within 20 s\n${out}\n${err}`));
    }, 20000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(t);
        resolve({ proc, stdout: () => out, stderr: () => err, match: m });
      }
    });
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`exited ${code} before ready\n${out}\n${err}`));
    });
  });
}
