/** Runs the bench CLI (test/bench/run.ts) as a child process, bounded in time. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');

interface BenchRun { code: number | null; stdout: string; stderr: string }

export function runBench(args: string[], timeoutMs = 120_000): Promise<BenchRun> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/run.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => { clearTimeout(t); ok({ code, stdout, stderr }); });
  });
}

