/** Runs the `courtside` command as a user would (a child process), from source through tsx. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../main/cli.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
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

/** Starts a long-running command and resolves once stdout matches `ready`. */
export function startCli(args: string[], ready: RegExp, env?: NodeJS.ProcessEnv): Promise<{ proc: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
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
